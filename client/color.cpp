// color.cpp — see color.hpp.
#include "color.hpp"

#include <cstdlib>

#include "terminal.hpp"

namespace client {

bool color_wanted(bool terminal, Format format, const char* no_color) noexcept {
  if (!terminal || format != Format::text) return false;
  return no_color == nullptr || *no_color == '\0';
}

bool color_for_fd(int fd, Format format) {
  return color_wanted(is_terminal(fd), format, std::getenv("NO_COLOR"));
}

void append_colored(std::string& out, bool on, std::string_view sgr, std::string_view safe_text) {
  if (!on || safe_text.empty()) {
    out.append(safe_text);
    return;
  }
  out.append(sgr);
  out.append(safe_text);
  out.append(kSgrReset);
}

}  // namespace client
