// state_files.cpp — see state_files.hpp.
#include "state_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "../common/net.hpp"
#include "terminal.hpp"

namespace client {

namespace {

std::string read_whole(int fd) {
  std::string s;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, static_cast<size_t>(n));
  }
  return s;
}

std::string read_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string s = read_whole(fd);
  ::close(fd);
  return s;
}

// Replaces path with data: a temporary file (0600) beside it, then rename.
bool replace_file(const std::string& path, const std::string& data, std::string& error) {
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  bool ok = write_all(fd, data) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    error = "cannot write " + path + ": " + std::strerror(saved);
    return false;
  }
  return true;
}

std::string hex16(uint64_t v) {
  static const char* hex = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = hex[v & 15];
  return s;
}

// Holds an exclusive flock on path + ".lock" while alive.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

std::string state_dir(const EnvLookup& env) {
  const char* x = env("XDG_STATE_HOME");
  if (x && x[0] == '/') return std::string(x) + "/dailynet";
  const char* h = env("HOME");
  if (h && h[0] == '/') return std::string(h) + "/.local/state/dailynet";
  return {};
}

bool make_state_dir(const std::string& dir, std::string& error) {
  if (dir.empty()) {
    error = "no state directory (set XDG_STATE_HOME or HOME)";
    return false;
  }
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      error = "cannot create " + part + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

std::vector<std::string> load_history(const std::string& path, size_t max) {
  std::vector<std::string> v;
  std::string s = read_path(path);
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    if (nl > pos) v.emplace_back(s, pos, nl - pos);
    pos = nl + 1;
  }
  if (v.size() > max) v.erase(v.begin(), v.end() - static_cast<long>(max));
  return v;
}

bool save_history(const std::string& path, const std::vector<std::string>& entries,
                  std::string& error) {
  std::string data;
  size_t first = entries.size() > kHistoryMax ? entries.size() - kHistoryMax : 0;
  for (size_t i = first; i < entries.size(); ++i) {
    if (entries[i].find_first_of("\r\n") != std::string::npos) continue;
    data += entries[i];
    data += '\n';
  }
  return replace_file(path, data, error);
}

std::string format_outbox(const std::vector<OutboxEntry>& entries) {
  std::string s =
      "# dailynet outbox: notes not yet acknowledged; sent first by the next dailynet or\n"
      "# dailynet send to that server. SERVER CLIENT_ID MESSAGE TEXT, tab-separated.\n";
  for (const auto& e : entries) {
    s += e.server + '\t' + hex16(e.client_id) + '\t' + std::to_string(e.msg) + '\t' + e.text +
         '\n';
  }
  return s;
}

std::vector<OutboxEntry> parse_outbox(std::string_view text) {
  std::vector<OutboxEntry> v;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t t1 = line.find('\t'), t2 = t1 == line.npos ? line.npos : line.find('\t', t1 + 1),
           t3 = t2 == line.npos ? line.npos : line.find('\t', t2 + 1);
    if (t3 == line.npos || t1 == 0) continue;
    std::string_view id = line.substr(t1 + 1, t2 - t1 - 1);
    auto msg = parse_u64(line.substr(t2 + 1, t3 - t2 - 1));
    if (id.size() != 16 || !msg || *msg == 0 || t3 + 1 >= line.size()) continue;
    uint64_t cid = 0;
    bool ok = true;
    for (char c : id) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) ok = false;
      cid = cid << 4 | static_cast<uint64_t>(d < 0 ? 0 : d);
    }
    if (!ok) continue;
    v.push_back({std::string(line.substr(0, t1)), cid, *msg, std::string(line.substr(t3 + 1))});
  }
  return v;
}

namespace {

// An outbox entry's identity: the same server, client id and message number are the same note.
using EntryKey = std::tuple<std::string_view, uint64_t, uint64_t>;
EntryKey key_of(const OutboxEntry& e) { return {e.server, e.client_id, e.msg}; }

}  // namespace

bool outbox_add(const std::string& path, const std::vector<OutboxEntry>& add, std::string& error) {
  FileLock lock(path);
  std::vector<OutboxEntry> all = parse_outbox(read_path(path));
  all.reserve(all.size() + add.size());  // no reallocation below: `have` views into `all`
  std::set<EntryKey> have;  // a set, not a search per entry: a long paste is one write
  for (const auto& e : all) have.insert(key_of(e));
  for (const auto& e : add)
    if (have.insert(key_of(e)).second) all.push_back(e);
  return replace_file(path, format_outbox(all), error);
}

std::vector<std::vector<OutboxEntry>> outbox_for(const std::string& path,
                                                 const std::string& server) {
  FileLock lock(path);
  std::map<uint64_t, std::vector<OutboxEntry>> by_id;
  std::vector<uint64_t> order;
  for (auto& e : parse_outbox(read_path(path))) {
    if (e.server != server) continue;
    if (!by_id.count(e.client_id)) order.push_back(e.client_id);
    by_id[e.client_id].push_back(std::move(e));
  }
  std::vector<std::vector<OutboxEntry>> groups;
  for (uint64_t id : order) {
    auto& g = by_id[id];
    std::sort(g.begin(), g.end(), [](const auto& a, const auto& b) { return a.msg < b.msg; });
    groups.push_back(std::move(g));
  }
  return groups;
}

bool outbox_remove(const std::string& path, const std::vector<OutboxEntry>& done,
                   std::string& error) {
  FileLock lock(path);
  std::vector<OutboxEntry> all = parse_outbox(read_path(path));
  std::set<EntryKey> gone;
  for (const auto& d : done) gone.insert(key_of(d));
  std::vector<OutboxEntry> keep;
  for (auto& e : all)
    if (!gone.count(key_of(e))) keep.push_back(std::move(e));
  if (keep.size() == all.size()) return true;
  if (keep.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      error = "cannot remove " + path + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  return replace_file(path, format_outbox(keep), error);
}

}  // namespace client
