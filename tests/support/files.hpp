// files.hpp — what unit and integration tests need from the file system: a temporary
// directory removed on destruction, whole-file reads and writes, sizes, lines, listings.
// Test-only (tests/support/ is linked into both test binaries); never used by the product.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace support {

// A fresh directory $TMPDIR/dailynet-test-XXXXXX (TMPDIR defaults to /tmp); "" on failure.
std::string temp_dir();
// Removes path and everything in it; refuses (does nothing) unless the path is one that
// temp_dir() makes, so a bug can never delete anything else.
void remove_tree(const std::string& path);

// A temp_dir() removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() : path_(temp_dir()) {}
  ~TempDir() { remove_tree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole file; "" when it can not be read.
std::string read_file(const std::string& path);
// Replaces the file's contents (creating it).
void write_file(const std::string& path, const std::string& data);
bool file_exists(const std::string& path);
// Its size in bytes; 0 when it does not exist.
uint64_t file_size(const std::string& path);
// s split at '\n'; a last line without one is included, an empty last piece is not.
std::vector<std::string> split_lines(const std::string& s);
// The file's lines (split_lines), and whether it ends in '\n' (or is empty).
std::vector<std::string> file_lines(const std::string& path, bool* ends_in_newline = nullptr);
// Names in dir that start with prefix ("." and ".." never).
std::vector<std::string> dir_entries(const std::string& dir, const std::string& prefix = "");

}  // namespace support
