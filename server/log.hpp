// log.hpp — log_line(): one timestamped line on stderr, written with a single write(2).
#pragma once

#include <string_view>

void log_line(std::string_view text) noexcept;
void set_log_quiet(bool quiet) noexcept;
