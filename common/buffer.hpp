// buffer.hpp — Buffer: a byte buffer with a read position, for socket input and output.
//
//   data_: | consumed (read_) | readable: size() bytes | ... capacity
//          0                read_                  data_.size()
//
// Appends go at the end; consume() moves read_ forward and resets both ends to 0 when the
// buffer empties; before growing, the consumed front is dropped (compaction), so a steady
// stream reuses the same memory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

class Buffer {
 public:
  size_t size() const noexcept { return data_.size() - read_; }
  bool empty() const noexcept { return size() == 0; }
  const char* data() const noexcept { return data_.data() + read_; }
  std::string_view view() const noexcept { return {data(), size()}; }

  // Drops the first n readable bytes (all of them when n >= size()).
  void consume(size_t n) noexcept {
    read_ += n;
    if (read_ >= data_.size()) clear();
  }
  void clear() noexcept {
    data_.clear();
    read_ = 0;
  }
  void append(std::string_view s) {
    compact();
    data_.append(s);
  }
  // The underlying string for formatters that append in place (compacted first).
  std::string& tail() {
    compact();
    return data_;
  }
  // Gives memory back after a burst (e.g. a big CLIENTS reply).
  void shrink() {
    if (empty() && data_.capacity() > (256u << 10)) std::string().swap(data_);
  }

 private:
  void compact() {
    if (read_ > 0 && read_ >= data_.size() / 2) {
      data_.erase(0, read_);
      read_ = 0;
    }
  }
  std::string data_;
  size_t read_ = 0;
};
