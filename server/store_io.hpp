// store_io.hpp — the file operations the store needs, each one I/O step with its error in
// words (file, errno): directories, whole-file reads and writes, and side files that never
// replace an earlier one. No store rules here (store.cpp, store_recover.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace store_io {

std::string errno_text(int e);
// mkdir -p; false (error set) when a part can not be made or path is not a directory.
bool mkdir_p(const std::string& path, std::string& error);
// pwrite of all n bytes at off (EINTR retried); false with the errno in err.
bool write_all_at(int fd, const char* p, size_t n, uint64_t off, int& err);
// Reads `size` bytes from offset 0 of fd into out; false (error names path) on a short read.
bool read_file(int fd, uint64_t size, std::string& out, const std::string& path,
               std::string& error);
// Creates path (replacing it), writes data, fsyncs.
bool write_file(const std::string& path, std::string_view data, std::string& error);
// fsync of a directory, so that names created or renamed in it survive a crash.
void fsync_dir(const std::string& dir);
// A new side file dir/NAME.KIND-<UTC time>-<n> holding data, created with O_EXCL and the
// first n (1, 2, ...) whose name is free, so an earlier side file is never replaced; written,
// fsynced, and the directory fsynced. Its path goes to `path`.
bool write_side_file(const std::string& dir, const std::string& name, const char* kind,
                     std::string_view data, std::string& path, std::string& error);

}  // namespace store_io
