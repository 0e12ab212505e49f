// text.cpp — see text.hpp.
#include "text.hpp"

#include <cassert>
#include <charconv>

void append_u64(std::string& out, uint64_t v) {
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  assert(r.ec == std::errc());
  out.append(buf, r.ptr);
}

void append_hex(std::string& out, uint64_t v, int min_width) {
  assert(min_width >= 1 && min_width <= 16);
  static const char kHex[] = "0123456789abcdef";
  char buf[16];
  int n = 0;
  do {
    buf[n++] = kHex[v & 15];
    v >>= 4;
  } while (v || n < min_width);
  while (n) out += buf[--n];
}

std::optional<uint64_t> parse_u64(std::string_view s) noexcept {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<uint64_t> parse_hex64(std::string_view s) noexcept {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (fold_ascii(a[i]) != fold_ascii(b[i])) return false;
  return true;
}
