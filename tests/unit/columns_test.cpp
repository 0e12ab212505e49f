// columns_test.cpp — server/columns.hpp against plain vectors: every value read back exact
// across chunk and block boundaries, shrinking (a refused commit undone) and growing again,
// the searches the store uses (position_at, position_after), seq gaps, and offsets too far
// from their block's base for 32 bits.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "../../server/columns.hpp"

TEST_CASE("columns: Chunked keeps every value across chunks, shrinks and grows again") {
  Chunked<uint32_t> c;
  std::vector<uint32_t> v;
  CHECK(c.empty());
  CHECK(c == v);
  const size_t n = 3 * Chunked<uint32_t>::kChunk + 17;
  for (size_t i = 0; i < n; ++i) {
    c.push_back(static_cast<uint32_t>(i * 3));
    v.push_back(static_cast<uint32_t>(i * 3));
  }
  REQUIRE(c.size() == n);
  CHECK(c == v);
  CHECK(c.back() == v.back());
  for (size_t k : {size_t{0}, Chunked<uint32_t>::kChunk - 1, Chunked<uint32_t>::kChunk,
                   Chunked<uint32_t>::kChunk + 1, n - 1})
    CHECK(c[k] == v[k]);
  // lower_bound over any range, values present and absent
  for (uint32_t x : {0u, 1u, 3u, 49151u, 49152u, 49153u, static_cast<uint32_t>(3 * n)}) {
    CAPTURE(x);
    size_t want = static_cast<size_t>(std::lower_bound(v.begin(), v.end(), x) - v.begin());
    CHECK(c.lower_bound(0, c.size(), x) == want);
    CHECK(c.lower_bound(want, c.size(), x) == want);
  }
  CHECK(c.lower_bound(5, 10, 0) == 5);   // everything in the range is >= 0
  CHECK(c.lower_bound(5, 10, 999) == 10);
  // shrink to a chunk boundary, inside a chunk, to nothing; then grow again
  for (size_t to : {2 * Chunked<uint32_t>::kChunk, Chunked<uint32_t>::kChunk + 5, size_t{0}}) {
    c.resize(to);
    v.resize(to);
    CHECK(c == v);
    c.push_back(7);
    v.push_back(7);
    CHECK(c == v);
    c.resize(to);
    v.resize(to);
  }
  CHECK(c.empty());
}

TEST_CASE("columns: OffsetColumn gives the exact offsets and finds positions by byte") {
  OffsetColumn o;
  std::vector<uint64_t> v;
  std::mt19937_64 rng(15);
  uint64_t off = (uint64_t{1} << 33) + 5;  // past 4 GiB: the bases carry the high bits
  const size_t n = 5 * OffsetColumn::kBlock + 3;
  for (size_t i = 0; i < n; ++i) {
    o.push_back(off);
    v.push_back(off);
    off += 1 + rng() % 300;
  }
  REQUIRE(o.size() == n);
  bool same = true;
  for (size_t i = 0; i < n; ++i) same = same && o[i] == v[i];
  CHECK(same);
  CHECK(o.back() == v.back());
  // position_at's search: the first entry >= a byte offset
  for (uint64_t x : {uint64_t{0}, v[0], v[0] + 1, v[OffsetColumn::kBlock - 1],
                     v[OffsetColumn::kBlock], v[OffsetColumn::kBlock] + 1, v.back(),
                     v.back() + 1}) {
    CAPTURE(x);
    CHECK(o.lower_bound(x) ==
          static_cast<size_t>(std::lower_bound(v.begin(), v.end(), x) - v.begin()));
  }
  // a refused commit is undone: shrink across a block boundary, then append again
  o.resize(2 * OffsetColumn::kBlock - 1);
  v.resize(2 * OffsetColumn::kBlock - 1);
  o.push_back(v.back() + 10);
  v.push_back(v.back() + 10);
  o.push_back(v.back() + 10);
  v.push_back(v.back() + 10);
  same = o.size() == v.size();
  for (size_t i = 0; i < v.size(); ++i) same = same && o[i] == v[i];
  CHECK(same);
  // assign() from a plain array (start-up)
  OffsetColumn a;
  a.assign(v);
  same = a.size() == v.size();
  for (size_t i = 0; i < v.size(); ++i) same = same && a[i] == v[i];
  CHECK(same);
}

TEST_CASE("columns: OffsetColumn keeps offsets 4 GiB past their block's base exactly") {
  // Lines this long are beyond the SPEC's note size; the column must still be exact.
  OffsetColumn o;
  std::vector<uint64_t> v = {0, 10, (uint64_t{1} << 32) + 10, (uint64_t{1} << 32) + 20,
                             uint64_t{5} << 32};
  for (uint64_t x : v) o.push_back(x);
  for (size_t i = 0; i < v.size(); ++i) CHECK(o[i] == v[i]);
  CHECK(o.lower_bound((uint64_t{1} << 32) + 11) == 3);
  CHECK(o.lower_bound(uint64_t{5} << 32) == 4);
  o.resize(3);
  o.push_back((uint64_t{1} << 32) + 30);
  CHECK(o[2] == (uint64_t{1} << 32) + 10);
  CHECK(o[3] == (uint64_t{1} << 32) + 30);
}

TEST_CASE("columns: SeqColumn stores runs, exact seqs and position_after across gaps") {
  SeqColumn s;
  CHECK(s.upper_bound(0) == 0);
  CHECK(s.upper_bound(100) == 0);
  std::vector<uint64_t> v;
  for (uint64_t q = 1; q <= 1000; ++q) v.push_back(q);        // 1..1000
  for (uint64_t q = 1005; q <= 1010; ++q) v.push_back(q);     // a gap (a torn tail cut)
  v.push_back(2000);                                          // a run of one
  for (uint64_t q = 2002; q <= 2100; ++q) v.push_back(q);
  s.assign(v);
  CHECK(s.size() == v.size());
  CHECK(s.runs() == 4);
  bool same = true;
  for (size_t i = 0; i < v.size(); ++i) same = same && s[i] == v[i];
  CHECK(same);
  CHECK(s.back() == 2100);
  for (uint64_t since : {uint64_t{0}, uint64_t{1}, uint64_t{999}, uint64_t{1000},
                         uint64_t{1001}, uint64_t{1004}, uint64_t{1005}, uint64_t{1010},
                         uint64_t{1999}, uint64_t{2000}, uint64_t{2001}, uint64_t{2002},
                         uint64_t{2100}, uint64_t{2101}, UINT64_MAX}) {
    CAPTURE(since);
    CHECK(s.upper_bound(since) ==
          static_cast<size_t>(std::upper_bound(v.begin(), v.end(), since) - v.begin()));
  }
  // a refused commit undone, inside a run and at a run's start; then more seqs
  s.resize(1003);  // 1000 + 3 of the second run
  CHECK(s.runs() == 2);
  CHECK(s.back() == 1007);
  s.resize(1000);
  CHECK(s.runs() == 1);
  s.push_back(1001);
  CHECK(s.runs() == 1);
  CHECK(s[1000] == 1001);
  CHECK(s.upper_bound(1001) == 1001);
}
