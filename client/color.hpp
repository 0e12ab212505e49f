// color.hpp — when and how the client colours what it prints (issue 7). Colour only on a
// terminal, only in the text format, and never when NO_COLOR is set to anything non-empty
// (the no-color.org convention). Colour always goes around text that is already
// terminal-safe (append_terminal_safe first, colour around): a colour escape is the only
// escape the client itself ever writes, and it never comes from the server. Pure helpers.
#pragma once

#include <string>
#include <string_view>

#include "options.hpp"

namespace client {

// SGR sequences the client uses; each coloured piece ends with kSgrReset.
inline constexpr std::string_view kSgrReset = "\x1b[0m";
inline constexpr std::string_view kSgrDim = "\x1b[2m";
inline constexpr std::string_view kSgrBold = "\x1b[1m";
inline constexpr std::string_view kSgrRed = "\x1b[31m";
inline constexpr std::string_view kSgrGreen = "\x1b[32m";
inline constexpr std::string_view kSgrYellow = "\x1b[33m";
inline constexpr std::string_view kSgrCyan = "\x1b[36m";

// The decision itself: a terminal, the text format, and NO_COLOR unset or empty.
bool color_wanted(bool terminal, Format format, const char* no_color) noexcept;
// The same for a descriptor and this process's environment.
bool color_for_fd(int fd, Format format = Format::text);

// Appends sgr + safe_text + reset when on, else safe_text alone. safe_text must already be
// terminal-safe; an empty text gets no escapes.
void append_colored(std::string& out, bool on, std::string_view sgr, std::string_view safe_text);

}  // namespace client
