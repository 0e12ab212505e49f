// time_index.cpp — see time_index.hpp.
#include "time_index.hpp"

#include <algorithm>

void TimeIndex::add(int64_t time_ms) {
  if (count_ % kBlock == 0) {
    run_max_.push_back(run_max_.empty() ? time_ms : std::max(run_max_.back(), time_ms));
    min_.push_back(time_ms);
  } else {
    run_max_.back() = std::max(run_max_.back(), time_ms);
    min_.back() = std::min(min_.back(), time_ms);
  }
  ++count_;
}

size_t TimeIndex::first_possible_at_or_after(int64_t t) const noexcept {
  // First block whose running maximum reaches t; every block before it is entirely < t.
  auto it = std::lower_bound(run_max_.begin(), run_max_.end(), t);
  return std::min(count_, static_cast<size_t>(it - run_max_.begin()) * kBlock);
}

size_t TimeIndex::end_of_before(int64_t t) const noexcept {
  size_t b = min_.size();
  while (b > 0 && min_[b - 1] >= t) --b;  // block b-1 holds only TIMEs >= t
  return std::min(count_, b * kBlock);
}
