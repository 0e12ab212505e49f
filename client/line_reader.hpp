// line_reader.hpp — LineReader: reads a descriptor (stdin) in large blocks and hands out its
// lines without copying. A line longer than the buffer is handed out cut (its first
// kCapacity bytes, so the note check refuses it as too long) and the rest of it skipped.
// Does not own the descriptor.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace client {

class LineReader {
 public:
  static constexpr size_t kCapacity = 1 << 20;

  explicit LineReader(int fd) : fd_(fd), buf_(kCapacity) {}

  // The next complete line without its '\n' (at end of input, the last unterminated one).
  // The view stays valid until the next fill(). False when no complete line is buffered.
  bool next(std::string_view& line);
  // One read() into the buffer (compacting first). Returns false at end of input or on error.
  bool fill();
  bool eof() const noexcept { return eof_ && start_ == end_; }
  int error() const noexcept { return error_; }

 private:
  int fd_;
  std::vector<char> buf_;
  size_t start_ = 0, end_ = 0;
  size_t scanned_ = 0;      // bytes after start_ known to hold no '\n'
  bool eof_ = false;
  bool skipping_ = false;   // dropping the rest of an over-long line
  int error_ = 0;
};

}  // namespace client
