// note_filter.cpp — see note_filter.hpp.
#include "note_filter.hpp"

#include <cstring>

#include "../common/protocol.hpp"

namespace {

// How common a byte is in notes (higher: more common): a letter by its English frequency,
// then space, digits and punctuation; UTF-8 bytes in between. The needle's byte with the
// lowest score is the one memchr looks for.
int commonness(unsigned char c) noexcept {
  static constexpr std::string_view kLetters = "zqxjkvbpygfwmucldrhsnioate";  // rare → common
  if (c >= 'a' && c <= 'z') return 10 + static_cast<int>(kLetters.find(static_cast<char>(c)));
  if (c == ' ') return 60;
  if (c >= '0' && c <= '9') return 30;
  if (c >= 0x80) return c >= 0xC0 ? 20 : 25;  // lead bytes, continuation bytes
  return 15;                                  // punctuation
}

}  // namespace

Needle::Needle(std::string_view text) {
  folded_.reserve(text.size());
  for (char c : text) folded_ += fold_ascii(c);
  for (size_t i = 1; i < folded_.size(); ++i)
    if (commonness(static_cast<unsigned char>(folded_[i])) <
        commonness(static_cast<unsigned char>(folded_[rare_])))
      rare_ = i;
  if (!folded_.empty()) {
    rare_lo_ = folded_[rare_];
    rare_up_ = (rare_lo_ >= 'a' && rare_lo_ <= 'z') ? static_cast<char>(rare_lo_ - 32) : rare_lo_;
  }
}

const char* Needle::find(const char* b, const char* e) const noexcept {
  const size_t n = folded_.size();
  if (n == 0 || static_cast<size_t>(e - b) < n) return nullptr;
  // The rare byte of a hit starting at s sits at s + rare_, s in [b, e - n].
  const char* p = b + rare_;
  const char* const limit = e - n + rare_ + 1;  // one past the last place it can sit
  const char* next_lo = nullptr;
  const char* next_up = nullptr;
  while (p < limit) {
    if (!next_lo || next_lo < p) {
      next_lo = static_cast<const char*>(std::memchr(p, rare_lo_, static_cast<size_t>(limit - p)));
      if (!next_lo) next_lo = limit;
    }
    const char* hit = next_lo;
    if (rare_up_ != rare_lo_) {
      if (!next_up || next_up < p) {
        next_up =
            static_cast<const char*>(std::memchr(p, rare_up_, static_cast<size_t>(limit - p)));
        if (!next_up) next_up = limit;
      }
      if (next_up < hit) hit = next_up;
    }
    if (hit >= limit) return nullptr;
    const char* s = hit - rare_;
    size_t i = 0;
    while (i < n && fold_ascii(s[i]) == folded_[i]) ++i;
    if (i == n) return s;
    p = hit + 1;
  }
  return nullptr;
}

NoteFilter::NoteFilter(const Filters& f)
    : since_ms_(f.since_ms), until_ms_(f.until_ms), needle_(f.match) {}

std::string_view NoteFilter::text_of(std::string_view line) noexcept {
  size_t tabs = 0, i = 0;
  for (; i < line.size() && tabs < 3; ++i)
    if (line[i] == '\t') ++tabs;
  if (tabs < 3) return {};
  std::string_view t = line.substr(i);
  if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
  return t;
}

bool NoteFilter::time_passes(std::string_view line) const noexcept {
  if (!since_ms_ && !until_ms_) return true;
  size_t t1 = line.find('\t');
  if (t1 == std::string_view::npos) return false;
  auto ms = parse_time_ms(line.substr(t1 + 1, kTimeLen));
  if (!ms) return false;
  return (!since_ms_ || *ms >= *since_ms_) && (!until_ms_ || *ms < *until_ms_);
}

bool NoteFilter::passes(std::string_view line) const noexcept {
  if (!time_passes(line)) return false;
  if (needle_.empty()) return true;
  std::string_view t = text_of(line);
  return needle_.find(t.data(), t.data() + t.size()) != nullptr;
}

bool NoteFilter::next_passing(std::string_view chunk, size_t from, size_t& b,
                              size_t& e) const noexcept {
  const char* const base = chunk.data();
  const char* const end = base + chunk.size();
  const char* p = base + from;
  while (p < end) {
    const char* line_b = p;
    if (!needle_.empty()) {
      const char* hit = needle_.find(p, end);
      if (!hit) return false;
      // The line holding the hit starts after the last '\n' before it.
      line_b = hit;
      while (line_b > p && line_b[-1] != '\n') --line_b;
    }
    const char* nl = static_cast<const char*>(std::memchr(line_b, '\n', end - line_b));
    const char* line_e = nl ? nl + 1 : end;
    std::string_view line(line_b, static_cast<size_t>(line_e - line_b));
    if (passes(line)) {
      b = static_cast<size_t>(line_b - base);
      e = static_cast<size_t>(line_e - base);
      return true;
    }
    p = line_e;
  }
  return false;
}
