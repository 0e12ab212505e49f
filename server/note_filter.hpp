// note_filter.hpp — NoteFilter: the line-by-line part of FILTERS (SINCE/UNTIL TIME, MATCH)
// over note lines as notes.log holds them ("SEQ\tTIME\tADDR\tTEXT\n"). Pure: no I/O; the
// HistoryCursor reads the store and hands it chunks. Unit-tested in note_filter_test.cpp.
//
// MATCH (SPEC.md "TCP"): the TEXT field contains the needle, ASCII letters compared
// case-insensitively, every other byte exactly. The search runs over a whole chunk at once,
// like grep: memchr for the needle's rarest byte (both cases of a letter), then a check
// around it; a hit in the SEQ/TIME/ADDR fields does not count. TIME is each note's own
// (a clock that stepped back changes nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "../common/filters.hpp"

// A literal, ASCII-case-insensitive needle with its search plan.
class Needle {
 public:
  Needle() = default;
  explicit Needle(std::string_view text);
  bool empty() const noexcept { return folded_.empty(); }
  // The first occurrence in [b, e), or nullptr.
  const char* find(const char* b, const char* e) const noexcept;

 private:
  std::string folded_;  // the needle, ASCII letters in lower case
  size_t rare_ = 0;     // index of the byte searched for with memchr
  char rare_lo_ = 0, rare_up_ = 0;
};

class NoteFilter {
 public:
  NoteFilter() = default;
  explicit NoteFilter(const Filters& f);
  // True when every line passes (no TIME bound, no MATCH).
  bool all() const noexcept { return !since_ms_ && !until_ms_ && needle_.empty(); }

  // Whether one note line (with or without its '\n') passes.
  bool passes(std::string_view line) const noexcept;

  // Calls visit(line) for every passing line of `chunk`, in order; `chunk` holds whole lines,
  // each ending in '\n' (the visited view includes it). Lines without a hit of the needle
  // are skipped without being split into fields.
  template <class Visit>
  void each_passing(std::string_view chunk, Visit&& visit) const;

 private:
  // The TEXT field of a line (after the third tab), or an empty view.
  static std::string_view text_of(std::string_view line) noexcept;
  bool time_passes(std::string_view line) const noexcept;
  // Next passing line at or after chunk offset `from`: [b, e) with e after its '\n';
  // false when none.
  bool next_passing(std::string_view chunk, size_t from, size_t& b, size_t& e) const noexcept;

  std::optional<int64_t> since_ms_, until_ms_;
  Needle needle_;
};

template <class Visit>
void NoteFilter::each_passing(std::string_view chunk, Visit&& visit) const {
  size_t at = 0, b, e;
  while (at < chunk.size() && next_passing(chunk, at, b, e)) {
    visit(chunk.substr(b, e - b));
    at = e;
  }
}
