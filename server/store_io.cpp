// store_io.cpp — see store_io.hpp.
#include "store_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "../common/fd.hpp"

namespace store_io {

std::string errno_text(int e) { return std::strerror(e); }

bool mkdir_p(const std::string& path, std::string& error) {
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    cur = path.substr(0, slash);
    pos = slash + 1;
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      error = "cannot create data directory " + cur + ": " + errno_text(errno);
      return false;
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = "data path " + path + " is not a directory";
    return false;
  }
  return true;
}

bool write_all_at(int fd, const char* p, size_t n, uint64_t off, int& err) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    if (w == 0) {
      err = EIO;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return true;
}

bool read_file(int fd, uint64_t size, std::string& out, const std::string& path,
               std::string& error) {
  out.resize(size);
  size_t got = 0;
  while (got < size) {
    ssize_t r = ::pread(fd, out.data() + got, size - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      error = "cannot read " + path + " at byte " + std::to_string(got) + ": " +
              (r < 0 ? errno_text(errno) : "short read");
      return false;
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

namespace {
bool write_and_sync(int fd, std::string_view data, const std::string& path,
                    std::string& error) {
  int err = 0;
  if (!write_all_at(fd, data.data(), data.size(), 0, err) || ::fsync(fd) != 0) {
    error = "cannot write " + path + ": " + errno_text(err ? err : errno);
    return false;
  }
  return true;
}
}  // namespace

bool write_file(const std::string& path, std::string_view data, std::string& error) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    error = "cannot create " + path + ": " + errno_text(errno);
    return false;
  }
  return write_and_sync(fd.get(), data, path, error);
}

void fsync_dir(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.valid()) ::fsync(d.get());
}

bool write_side_file(const std::string& dir, const std::string& name, const char* kind,
                     std::string_view data, std::string& path, std::string& error) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const std::string base = dir + "/" + name + "." + kind + "-" + stamp + "-";
  for (int n = 1; n < 100000; ++n) {
    path = base + std::to_string(n);
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid() && errno == EEXIST) continue;
    if (!fd.valid()) break;
    if (!write_and_sync(fd.get(), data, path, error)) return false;
    fsync_dir(dir);
    return true;
  }
  error = "cannot create a side file " + path + " in " + dir + ": " + errno_text(errno) +
          "; nothing was cut";
  return false;
}

}  // namespace store_io
