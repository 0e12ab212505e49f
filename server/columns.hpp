// columns.hpp — compact in-memory columns for the per-note tables of the store and the index
// (one entry per stored note, so their bytes per note are most of the server's memory).
// Pure (no I/O), header-only; unit-tested in tests/unit/columns_test.cpp.
//
//   Chunked<T>    a push_back-only array in chunks of kChunk entries: growing never copies
//                 what is stored (no doubling peak of old + new array, no half-empty tail
//                 bigger than one chunk); a short list (a client with 3 notes) stays small.
//   OffsetColumn  rising byte offsets (u64) as 4 bytes per entry: a u64 base per block of
//                 kBlock entries plus a u32 offset from it (an entry 4 GiB past its block's
//                 base, impossible with the SPEC's note size, is kept exactly on the side).
//   SeqColumn     seqs (u64, rising) as runs of consecutive values: one run for a store
//                 without gaps, one more per gap (a torn tail cut, damage repaired).
// Every column gives exact values: a lookup is one or two array reads (SeqColumn: a binary
// search over its runs, normally one). resize(n) only shrinks (a refused commit undone).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

// The first index i in [lo, hi) with col[i] >= v (hi when none); col must rise over [lo, hi).
template <class Col, class V>
size_t first_at_least(const Col& col, size_t lo, size_t hi, V v) noexcept {
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (col[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

template <class T>
class Chunked {
 public:
  static constexpr size_t kShift = 14;  // 16,384 entries per chunk (64 KiB of uint32_t)
  static constexpr size_t kChunk = size_t{1} << kShift;

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  [[gnu::always_inline]] T operator[](size_t i) const noexcept {
    assert(i < size_);
    return chunks_[i >> kShift][i & (kChunk - 1)];
  }
  T back() const noexcept { return (*this)[size_ - 1]; }
  void push_back(T v) {
    // The first chunk grows as a vector does (short lists stay short); later ones are
    // allocated whole once, so nothing stored is ever copied again.
    if (chunks_.empty() || chunks_.back().size() == kChunk) {
      chunks_.emplace_back();
      if (chunks_.size() > 1) chunks_.back().reserve(kChunk);
    }
    chunks_.back().push_back(v);
    ++size_;
  }
  // Shrinks to n entries (n <= size()), freeing chunks no longer needed.
  void resize(size_t n) {
    assert(n <= size_);
    chunks_.resize((n + kChunk - 1) >> kShift);
    if (!chunks_.empty()) chunks_.back().resize(n - ((chunks_.size() - 1) << kShift));
    size_ = n;
  }
  // The first index i in [lo, hi) with (*this)[i] >= v (hi when none): the entries must
  // rise over [lo, hi).
  size_t lower_bound(size_t lo, size_t hi, T v) const noexcept {
    return first_at_least(*this, lo, hi, v);
  }
  // Heap bytes held (capacity), for the memory figures.
  size_t bytes() const noexcept {
    size_t b = chunks_.capacity() * sizeof(std::vector<T>);
    for (const std::vector<T>& c : chunks_) b += c.capacity() * sizeof(T);
    return b;
  }
  friend bool operator==(const Chunked& a, const std::vector<T>& b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < b.size(); ++i)
      if (a[i] != b[i]) return false;
    return true;
  }

 private:
  std::vector<std::vector<T>> chunks_;
  size_t size_ = 0;
};

class OffsetColumn {
 public:
  static constexpr size_t kBlock = 1024;  // entries per u64 base

  size_t size() const noexcept { return low_.size(); }
  bool empty() const noexcept { return low_.empty(); }
  [[gnu::always_inline]] uint64_t operator[](size_t i) const noexcept {
    uint32_t low = low_[i];
    if (low == kWide) [[unlikely]]
      return wide_value(i);
    return base_[i / kBlock] + low;
  }
  uint64_t back() const noexcept { return (*this)[size() - 1]; }
  void push_back(uint64_t v) {
    const size_t i = size();
    if (i % kBlock == 0) base_.push_back(v);
    const uint64_t d = v - base_[i / kBlock];
    if (v < base_[i / kBlock] || d >= kWide) {
      wide_.emplace_back(i, v);
      low_.push_back(kWide);
    } else {
      low_.push_back(static_cast<uint32_t>(d));
    }
  }
  void resize(size_t n) {
    low_.resize(n);
    base_.resize((n + kBlock - 1) / kBlock);
    while (!wide_.empty() && wide_.back().first >= n) wide_.pop_back();
  }
  // The first index whose value is >= v (size() when none); the values must rise.
  size_t lower_bound(uint64_t v) const noexcept {
    // The block by its base, then the entry inside it.
    size_t b = static_cast<size_t>(std::upper_bound(base_.begin(), base_.end(), v) -
                                   base_.begin());
    if (b == 0) return 0;
    return first_at_least(*this, (b - 1) * kBlock, std::min(size(), b * kBlock), v);
  }
  // Build from a plain array (start-up: the scanner's offsets); add a commit's.
  void assign(const std::vector<uint64_t>& v) {
    resize(0);
    append(v);
  }
  void append(const std::vector<uint64_t>& v) {
    for (uint64_t x : v) push_back(x);
  }
  size_t bytes() const noexcept {
    return low_.bytes() + base_.capacity() * sizeof(uint64_t) +
           wide_.capacity() * sizeof(wide_[0]);
  }

 private:
  static constexpr uint32_t kWide = UINT32_MAX;  // the value is in wide_
  [[gnu::noinline]] uint64_t wide_value(size_t i) const noexcept {
    auto it = std::lower_bound(wide_.begin(), wide_.end(), std::pair<size_t, uint64_t>(i, 0));
    assert(it != wide_.end() && it->first == i);
    return it->second;
  }

  Chunked<uint32_t> low_;
  std::vector<uint64_t> base_;                    // per block: its first entry's value
  std::vector<std::pair<size_t, uint64_t>> wide_;  // (index, value), rising index
};

class SeqColumn {
 public:
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  uint64_t operator[](size_t i) const noexcept {
    assert(i < size_);
    const Run& r = runs_.back().pos <= i ? runs_.back() : *run_of(i);
    return r.first + (i - r.pos);
  }
  uint64_t back() const noexcept { return (*this)[size_ - 1]; }
  void push_back(uint64_t seq) {
    if (size_ == 0 || seq != back() + 1) runs_.push_back(Run{size_, seq});
    ++size_;
  }
  void resize(size_t n) {
    assert(n <= size_);
    while (!runs_.empty() && runs_.back().pos >= n) runs_.pop_back();
    size_ = n;
  }
  // The number of entries with seq <= since (the values must rise): the first position
  // whose seq is > since.
  size_t upper_bound(uint64_t since) const noexcept {
    // The last run starting at or below since; its entries up to since.
    auto it = std::upper_bound(runs_.begin(), runs_.end(), since,
                               [](uint64_t s, const Run& r) { return s < r.first; });
    if (it == runs_.begin()) return 0;
    const Run& r = *(it - 1);
    const size_t end = it == runs_.end() ? size_ : it->pos;
    const uint64_t in_run = since - r.first + 1;
    return in_run >= end - r.pos ? end : r.pos + static_cast<size_t>(in_run);
  }
  void assign(const std::vector<uint64_t>& v) {
    resize(0);
    append(v);
  }
  void append(const std::vector<uint64_t>& v) {
    for (uint64_t x : v) push_back(x);
  }
  size_t runs() const noexcept { return runs_.size(); }
  size_t bytes() const noexcept { return runs_.capacity() * sizeof(Run); }

 private:
  struct Run {
    size_t pos;      // first position of the run
    uint64_t first;  // its seq; the run's later entries follow one by one
  };
  const Run* run_of(size_t i) const noexcept {
    auto it = std::upper_bound(runs_.begin(), runs_.end(), i,
                               [](size_t p, const Run& r) { return p < r.pos; });
    return &*(it - 1);
  }

  std::vector<Run> runs_;
  size_t size_ = 0;
};
