// store.cpp — files, lock, recovery and group commit; formats and rules in store.hpp and
// store_scan.cpp.
#include "store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "../common/protocol.hpp"
#include "store_scan.hpp"

namespace {

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

bool write_file(const std::string& path, std::string_view data, std::string& error) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  int err = 0;
  if (!fd.valid() || !write_all_at(fd.get(), data.data(), data.size(), 0, err) ||
      ::fsync(fd.get()) != 0) {
    error = "cannot write " + path + ": " + errno_text(err ? err : errno);
    return false;
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
      error = "cannot read " + path + ": " + (r < 0 ? errno_text(errno) : "short read");
      return false;
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

Store::~Store() {
  release_recovery();
  // A clean stop leaves an empty LOCK: a PID found there at start names a server that ended
  // without stopping (kill -9, a crash), and the start says so.
  if (locked_ && ::ftruncate(lock_.get(), 0) != 0) {
  }
}

bool Store::lock_dir(uint64_t& stale_pid, std::string& error) {
  std::string path = dir_ + "/LOCK";
  lock_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock_.valid()) {
    error = "cannot open " + path + ": " + errno_text(errno);
    return false;
  }
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = ::pread(lock_.get(), buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    error = "data dir " + dir_ + " is locked by another server" +
            (pid.empty() ? std::string() : " (pid " + pid + ")") +
            "; stop it or pass another --data";
    return false;
  }
  // flock is released whenever a process ends, however it ends; a PID left in the file
  // names a server that is gone. Say so, and take the store.
  char old[32] = {0};
  ssize_t got = ::pread(lock_.get(), old, sizeof old - 1, 0);
  if (auto prev = parse_u64(std::string_view(old, got > 0 ? static_cast<size_t>(got) : 0)
                                .substr(0, std::string_view(old).find('\n')));
      prev && *prev > 0 && *prev != static_cast<uint64_t>(::getpid()))
    stale_pid = *prev;
  locked_ = true;
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_.get(), 0) != 0 ||
      ::pwrite(lock_.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    error = "cannot write " + path + ": " + errno_text(errno);
    return false;
  }
  return true;
}

bool Store::open(const std::string& dir, bool repair, RecoveryReport& report,
                 std::string& error) {
  dir_ = dir;
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  log_path_ = dir_ + "/notes.log";
  chk_path_ = dir_ + "/notes.chk";
  if (!mkdir_p(dir_, error) || !lock_dir(report.stale_lock_pid, error)) return false;
  log_.reset(::open(log_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!log_.valid()) {
    error = "cannot open " + log_path_ + ": " + errno_text(errno);
    return false;
  }
  chk_.reset(::open(chk_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!chk_.valid()) {
    error = "cannot open " + chk_path_ + ": " + errno_text(errno);
    return false;
  }
  return recover(repair, report, error);
}

bool Store::recover(bool repair, RecoveryReport& report, std::string& error) {
  struct stat ls, cs;
  if (::fstat(log_.get(), &ls) != 0 || ::fstat(chk_.get(), &cs) != 0) {
    error = "cannot stat the store in " + dir_ + ": " + errno_text(errno);
    return false;
  }
  std::string chk;
  if (!read_file(chk_.get(), static_cast<uint64_t>(cs.st_size), chk, chk_path_, error))
    return false;
  release_recovery();
  map_len_ = static_cast<size_t>(ls.st_size);
  if (map_len_ > 0) {
    void* m = ::mmap(nullptr, map_len_, PROT_READ, MAP_SHARED, log_.get(), 0);
    if (m == MAP_FAILED) {
      error = "cannot map " + log_path_ + ": " + errno_text(errno);
      map_len_ = 0;
      return false;
    }
    ::madvise(m, map_len_, MADV_SEQUENTIAL);
    map_ = static_cast<const char*>(m);
  }
  std::string_view log(map_, map_len_);
  ScanResult s = scan_store(log, chk);

  if (s.verdict == ScanResult::Verdict::damaged) {
    if (!repair) {
      error = log_path_ + " is damaged at byte " + std::to_string(s.damage_offset) + ": " +
              s.damage_what + "; start with --repair to move the damaged bytes to a side " +
              "file and keep every intact note";
      return false;
    }
    RepairResult r = repair_store(log, chk);
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
    report.repaired_to = dir_ + "/notes.damaged-" + stamp;
    report.repaired_bytes = r.damaged.size();
    if (!write_file(report.repaired_to, r.damaged, error) || !rewrite(r.log, r.chk, error))
      return false;
    return recover(false, report, error);  // the rewritten store must now scan clean
  }

  if (s.verdict == ScanResult::Verdict::torn) {
    report.torn_offset = s.log_keep;
    report.torn_bytes = log.size() - s.log_keep;
    report.torn_records = (chk.size() - s.chk_keep + kRecordSize - 1) / kRecordSize;
    if (::ftruncate(log_.get(), static_cast<off_t>(s.log_keep)) != 0) {
      error = "cannot cut the torn tail of " + log_path_ + ": " + errno_text(errno);
      return false;
    }
  }
  std::string_view kept_log = log.substr(0, s.log_keep);
  if (s.rebuilt || s.chk_keep != chk.size()) {
    // Write the records anew (notes.chk lost) or cut a torn record tail.
    report.rebuilt_checks = s.rebuilt;
    std::string fresh;
    if (s.rebuilt) {
      for (size_t i = 0; i < s.offsets.size(); ++i) {
        uint64_t end = i + 1 < s.offsets.size() ? s.offsets[i + 1] : s.log_keep;
        StoreRecord r = make_record(s.seqs[i], s.offsets[i],
                                    kept_log.substr(s.offsets[i], end - s.offsets[i]), 0, 0);
        unsigned char buf[kRecordSize];
        encode_record(r, buf);
        fresh.append(reinterpret_cast<const char*>(buf), kRecordSize);
      }
    } else {
      fresh = chk.substr(0, s.chk_keep);
    }
    int err = 0;
    if (::ftruncate(chk_.get(), 0) != 0 ||
        !write_all_at(chk_.get(), fresh.data(), fresh.size(), 0, err) ||
        ::fdatasync(chk_.get()) != 0) {
      error = "cannot rewrite " + chk_path_ + ": " + errno_text(err ? err : errno);
      return false;
    }
    chk_size_ = fresh.size();
  } else {
    chk_size_ = chk.size();
  }
  if (s.verdict == ScanResult::Verdict::torn) ::fdatasync(log_.get());
  log_size_ = s.log_keep;
  offsets_ = std::move(s.offsets);
  seqs_ = std::move(s.seqs);
  rec_client_ = std::move(s.client_ids);
  rec_msg_ = std::move(s.msgs);
  last_seq_ = seqs_.empty() ? 0 : seqs_.back();
  return true;
}

bool Store::rewrite(const std::string& log, const std::string& chk, std::string& error) {
  // Order matters for a crash in the middle: without notes.chk the next start rebuilds it
  // from whichever notes.log is in place, so the pair is never mismatched.
  std::string log_tmp = log_path_ + ".tmp", chk_tmp = chk_path_ + ".tmp";
  if (!write_file(log_tmp, log, error) || !write_file(chk_tmp, chk, error)) return false;
  release_recovery();
  if (::unlink(chk_path_.c_str()) != 0 || ::rename(log_tmp.c_str(), log_path_.c_str()) != 0 ||
      ::rename(chk_tmp.c_str(), chk_path_.c_str()) != 0) {
    error = "cannot replace the store files in " + dir_ + ": " + errno_text(errno);
    return false;
  }
  Fd d(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.valid()) ::fsync(d.get());
  log_.reset(::open(log_path_.c_str(), O_RDWR | O_CLOEXEC));
  chk_.reset(::open(chk_path_.c_str(), O_RDWR | O_CLOEXEC));
  if (!log_.valid() || !chk_.valid()) {
    error = "cannot reopen the store in " + dir_ + ": " + errno_text(errno);
    return false;
  }
  return true;
}

std::string_view Store::recovered_line(size_t p) const noexcept {
  uint64_t b = offsets_[p], e = end_at(p);
  if (!map_ || e > map_len_) return {};
  return std::string_view(map_ + b, e - b - 1);
}

void Store::release_recovery() noexcept {
  if (map_) ::munmap(const_cast<char*>(map_), map_len_);
  map_ = nullptr;
  map_len_ = 0;
  rec_client_ = {};
  rec_msg_ = {};
}

size_t Store::position_after(uint64_t since) const noexcept {
  return static_cast<size_t>(std::upper_bound(seqs_.begin(), seqs_.end(), since) -
                             seqs_.begin());
}

bool Store::append(const std::vector<NoteToAppend>& notes, FsyncMode mode,
                   std::string& error) {
  if (notes.empty()) return true;
  log_buf_.clear();
  chk_buf_.clear();
  uint64_t seq = last_seq_;
  uint64_t off = log_size_;
  size_t first_new = offsets_.size();
  for (const NoteToAppend& n : notes) {
    size_t start = log_buf_.size();
    append_note_line(log_buf_, ++seq, n.time_ms, n.addr, n.text);
    std::string_view line(log_buf_.data() + start, log_buf_.size() - start);
    StoreRecord r = make_record(seq, off + start, line, n.client_id, n.msg);
    unsigned char buf[kRecordSize];
    encode_record(r, buf);
    chk_buf_.append(reinterpret_cast<const char*>(buf), kRecordSize);
    offsets_.push_back(off + start);
    seqs_.push_back(seq);
  }
  int err = 0;
  bool ok = write_all_at(log_.get(), log_buf_.data(), log_buf_.size(), log_size_, err) &&
            write_all_at(chk_.get(), chk_buf_.data(), chk_buf_.size(), chk_size_, err);
  if (ok && mode == FsyncMode::always) {
    ok = ::fdatasync(log_.get()) == 0 && ::fdatasync(chk_.get()) == 0;
    if (!ok) err = errno;
  }
  if (!ok) {
    // Nothing partial may stay: cut both files back to the last committed note.
    if (::ftruncate(log_.get(), static_cast<off_t>(log_size_)) != 0 ||
        ::ftruncate(chk_.get(), static_cast<off_t>(chk_size_)) != 0)
      error = "append failed (" + errno_text(err) + ") and cutting back failed too (" +
              errno_text(errno) + ")";
    else
      error = "append to " + log_path_ + " failed: " + errno_text(err);
    offsets_.resize(first_new);
    seqs_.resize(first_new);
    return false;
  }
  log_size_ += log_buf_.size();
  chk_size_ += chk_buf_.size();
  last_seq_ = seq;
  dirty_ = mode != FsyncMode::always;
  return true;
}

bool Store::sync(std::string& error) {
  if (!dirty_) return true;
  if (::fdatasync(log_.get()) != 0 || ::fdatasync(chk_.get()) != 0) {
    error = "fdatasync of " + log_path_ + " failed: " + errno_text(errno);
    return false;
  }
  dirty_ = false;
  return true;
}
