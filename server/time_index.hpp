// time_index.hpp — TimeIndex: where in the store a time range can be, without reading it.
// Pure (no I/O); fed one TIME per note in store order (Index::add); unit-tested in
// tests/unit/time_index_test.cpp.
//
// The server's clock may step back, so TIMEs are not sorted and a note is selected by its
// own TIME (SPEC.md "TCP", SINCE/UNTIL). Per block of kBlock notes this keeps the block's
// smallest TIME and the running maximum of TIME up to the block's end. The running maximum
// never decreases, so a binary search finds the first block that can hold a TIME >= t; the
// block minima, read from the end, find where every later note is >= t. Both are bounds for
// a scan that still checks each note's TIME: a coarse index, never the truth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

class TimeIndex {
 public:
  static constexpr size_t kBlock = 64;  // notes per block

  // Appends the TIME (ms since the epoch) of the next position.
  void add(int64_t time_ms);
  size_t size() const noexcept { return count_; }

  // A position p such that every note before p has TIME < t (so a scan for TIME >= t may
  // start at p). O(log blocks).
  size_t first_possible_at_or_after(int64_t t) const noexcept;
  // A position e (<= size()) such that every note from e on has TIME >= t (so a scan for
  // TIME < t may stop at e). Reads block minima from the end: O(blocks after e).
  size_t end_of_before(int64_t t) const noexcept;

 private:
  std::vector<int64_t> run_max_;  // per block: max TIME of every note up to its end
  std::vector<int64_t> min_;      // per block: min TIME in the block
  size_t count_ = 0;
};
