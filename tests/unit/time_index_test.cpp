// time_index_test.cpp — server/time_index: the bounds it gives are safe for any TIMEs
// (checked against a brute force over a clock that steps back once, and random ones), and
// tight for ordered TIMEs.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "../../server/time_index.hpp"

namespace {

// Every note before `p` is < t, and every note from `e` on is >= t.
void check_bounds(const std::vector<int64_t>& times, const TimeIndex& ix, int64_t t) {
  size_t p = ix.first_possible_at_or_after(t), e = ix.end_of_before(t);
  CAPTURE(t);
  REQUIRE(p <= times.size());
  REQUIRE(e <= times.size());
  for (size_t i = 0; i < p; ++i) CHECK(times[i] < t);
  for (size_t i = e; i < times.size(); ++i) CHECK(times[i] >= t);
}

}  // namespace

TEST_CASE("time index: empty and ordered times") {
  TimeIndex ix;
  CHECK(ix.first_possible_at_or_after(5) == 0);
  CHECK(ix.end_of_before(5) == 0);
  std::vector<int64_t> times;
  for (int64_t i = 0; i < 1000; ++i) {
    times.push_back(i * 10);
    ix.add(i * 10);
  }
  CHECK(ix.size() == 1000);
  // tight to a block: a recent time skips every earlier block
  CHECK(ix.first_possible_at_or_after(9990) == 960);
  CHECK(ix.first_possible_at_or_after(100000) == 1000);
  CHECK(ix.first_possible_at_or_after(0) == 0);
  CHECK(ix.end_of_before(0) == 0);
  CHECK(ix.end_of_before(100) == 64);
  CHECK(ix.end_of_before(100000) == 1000);
  for (int64_t t : {-1, 0, 5, 639, 640, 641, 9990, 9999, 10000}) check_bounds(times, ix, t);
}

TEST_CASE("time index: a clock that stepped back once stays correct") {
  // 500 notes at 1000.., then the clock goes back an hour, 500 more.
  std::vector<int64_t> times;
  TimeIndex ix;
  for (int i = 0; i < 1000; ++i) {
    int64_t t = i < 500 ? 10000000 + i * 1000 : 10000000 - 3600000 + (i - 500) * 1000;
    times.push_back(t);
    ix.add(t);
  }
  for (int64_t t = 10000000 - 3700000; t < 10000000 + 600000; t += 12345)
    check_bounds(times, ix, t);
  // a time after the step back but before the step: the notes after the step must be found
  int64_t t = 10000000 - 3600000 + 100 * 1000;  // the 100th note after the step
  CHECK(ix.first_possible_at_or_after(t) == 0);  // the first block already reaches t
  CHECK(ix.end_of_before(t) == 640);            // notes 500..599 are below t: block 9 ends at 640
}

TEST_CASE("time index: random times, random queries") {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 20; ++round) {
    std::vector<int64_t> times;
    TimeIndex ix;
    size_t n = rng() % 700;
    for (size_t i = 0; i < n; ++i) {
      int64_t t = static_cast<int64_t>(rng() % 5000);
      times.push_back(t);
      ix.add(t);
    }
    for (int q = 0; q < 30; ++q) check_bounds(times, ix, static_cast<int64_t>(rng() % 5200) - 100);
  }
}
