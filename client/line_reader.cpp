// line_reader.cpp — see line_reader.hpp.
#include "line_reader.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace client {

bool LineReader::next(std::string_view& line) {
  while (true) {
    const char* base = buf_.data();
    const void* nl = start_ + scanned_ < end_
                         ? std::memchr(base + start_ + scanned_, '\n', end_ - start_ - scanned_)
                         : nullptr;
    if (nl) {
      size_t at = static_cast<size_t>(static_cast<const char*>(nl) - base);
      std::string_view l(base + start_, at - start_);
      start_ = at + 1;
      scanned_ = 0;
      if (skipping_) {  // the tail of a line already handed out cut
        skipping_ = false;
        continue;
      }
      line = l;
      return true;
    }
    scanned_ = end_ - start_;
    if (eof_ && start_ < end_) {  // the last line, without '\n'
      std::string_view l(base + start_, end_ - start_);
      start_ = end_;
      scanned_ = 0;
      if (skipping_) {
        skipping_ = false;
        return false;
      }
      line = l;
      return true;
    }
    if (start_ == 0 && end_ == buf_.size() && !skipping_) {
      // A line longer than the whole buffer: hand it out cut, skip the rest of it.
      line = std::string_view(base, end_);
      start_ = end_ = scanned_ = 0;
      skipping_ = true;
      return true;
    }
    if (skipping_ && start_ == end_) return false;
    if (skipping_ && start_ < end_ && scanned_ == end_ - start_) {
      start_ = end_ = scanned_ = 0;  // still inside the over-long line: drop what we have
    }
    return false;
  }
}

bool LineReader::fill() {
  if (eof_) return false;
  if (start_ > 0) {
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  while (true) {
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = errno;
      eof_ = true;
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(n);
    return true;
  }
}

}  // namespace client
