// store.cpp — the lock, opening, group commit and the watch on the files; formats in
// store_format.hpp, recovery in store_recover.cpp (rules in store_scan.hpp).
#include "store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "../common/protocol.hpp"
#include "store_io.hpp"

using store_io::errno_text;
using store_io::write_all_at;

Store::~Store() {
  unmap();
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
  char buf[32] = {0};
  ssize_t n = ::pread(lock_.get(), buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    error = "data dir " + dir_ + " is locked by another server" +
            (pid.empty() ? std::string() : " (pid " + pid + ")") +
            "; stop it or pass another --data";
    return false;
  }
  // flock is released whenever a process ends, however it ends; a PID left in the file
  // names a server that is gone. Say so, and take the store.
  if (auto prev = parse_u64(pid); prev && *prev > 0) stale_pid = *prev;
  locked_ = true;
  std::string mine = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_.get(), 0) != 0 ||
      ::pwrite(lock_.get(), mine.data(), mine.size(), 0) != static_cast<ssize_t>(mine.size())) {
    error = "cannot write " + path + ": " + errno_text(errno);
    return false;
  }
  return true;
}

bool Store::open(const std::string& dir, bool repair,
                 const std::function<void(const RecoveredNote&)>& each_note,
                 RecoveryReport& report, std::string& error) {
  dir_ = dir;
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  log_path_ = dir_ + "/notes.log";
  chk_path_ = dir_ + "/notes.chk";
  if (!store_io::mkdir_p(dir_, error) || !lock_dir(report.stale_lock_pid, error)) return false;
  log_.reset(::open(log_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  chk_.reset(::open(chk_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!log_.valid() || !chk_.valid()) {
    error = "cannot open " + (log_.valid() ? chk_path_ : log_path_) + ": " + errno_text(errno);
    return false;
  }
  if (!recover(repair, report, error)) return false;
  for (size_t p = 0; p < offsets_.size(); ++p) {
    uint64_t b = offsets_[p], e = end_at(p);
    std::string_view line = map_ && e <= map_len_ ? std::string_view(map_ + b, e - b - 1)
                                                  : std::string_view();
    each_note(RecoveredNote{p, seqs_[p], line, rec_client_[p], rec_msg_[p]});
  }
  unmap();
  struct stat ls, cs;
  if (::fstat(log_.get(), &ls) != 0 || ::fstat(chk_.get(), &cs) != 0) {
    error = "cannot stat the store in " + dir_ + ": " + errno_text(errno);
    return false;
  }
  log_dev_ = ls.st_dev, log_ino_ = ls.st_ino, chk_dev_ = cs.st_dev, chk_ino_ = cs.st_ino;
  return true;
}

size_t Store::position_after(uint64_t since) const noexcept {
  return seqs_.upper_bound(since);
}

size_t Store::position_at(uint64_t off) const noexcept {
  return offsets_.lower_bound(off);
}

bool Store::write_commit(const std::vector<NoteToAppend>& notes, std::string& error) {
  assert(!in_flight() && pend_log_ == 0);
  if (!failed_.empty()) {
    error = "store unavailable: " + failed_;
    return false;
  }
  log_buf_.clear();
  chk_buf_.clear();
  pend_offsets_.clear();
  pend_seqs_.clear();
  uint64_t seq = last_seq_;
  const uint64_t off = log_size_;
  for (const NoteToAppend& n : notes) {
    size_t start = log_buf_.size();
    append_note_line(log_buf_, ++seq, n.time_ms, n.addr, n.text);
    std::string_view line(log_buf_.data() + start, log_buf_.size() - start);
    append_record(chk_buf_, make_record(seq, off + start, line, n.client_id, n.msg));
    pend_offsets_.push_back(off + start);
    pend_seqs_.push_back(seq);
  }
  // The commit mark closes the commit (store_format.hpp), in the same write as its records.
  append_record(chk_buf_, make_mark(off + log_buf_.size(),
                                    static_cast<uint32_t>(notes.size()), seq));
  int err = 0;
  if (!write_all_at(log_.get(), log_buf_.data(), log_buf_.size(), log_size_, err) ||
      !write_all_at(chk_.get(), chk_buf_.data(), chk_buf_.size(), chk_size_, err))
    return cut_back(err, error);
  pend_log_ = log_buf_.size();
  pend_chk_ = chk_buf_.size();
  pend_last_seq_ = seq;
  return true;
}

void Store::publish() {
  offsets_.append(pend_offsets_);
  seqs_.append(pend_seqs_);
  log_size_ += pend_log_;
  chk_size_ += pend_chk_;
  last_seq_ = pend_last_seq_;
  pend_log_ = pend_chk_ = 0;
}

bool Store::cut_back(int err, std::string& error) {
  pend_log_ = pend_chk_ = 0;
  // Nothing partial may stay: cut both files back to the last published commit.
  if (::ftruncate(log_.get(), static_cast<off_t>(log_size_)) != 0 ||
      ::ftruncate(chk_.get(), static_cast<off_t>(chk_size_)) != 0)
    error = "append failed (" + errno_text(err) + ") and cutting back failed too (" +
            errno_text(errno) + ")";
  else
    error = "append to " + log_path_ + " failed: " + errno_text(err);
  return false;
}

bool Store::append(const std::vector<NoteToAppend>& notes, FsyncMode mode,
                   std::string& error) {
  if (notes.empty()) return true;
  if (!write_commit(notes, error)) return false;
  if (mode == FsyncMode::always &&
      (::fdatasync(log_.get()) != 0 || ::fdatasync(chk_.get()) != 0))
    return cut_back(errno, error);
  publish();
  dirty_ = mode != FsyncMode::always;
  return true;
}

bool Store::begin_append(const std::vector<NoteToAppend>& notes, std::string& error) {
  if (notes.empty()) return true;
  if (!write_commit(notes, error)) return false;
  sync_.submit(log_.get(), chk_.get());
  return true;
}

bool Store::finish_append(std::string& error) {
  if (int err = sync_.collect(); err != 0) return cut_back(err, error);
  publish();
  dirty_ = false;
  return true;
}

void Store::begin_background_sync() {
  assert(sync_.started() && !sync_.pending());
  sync_.submit(log_.get(), chk_.get());
  background_sync_ = true;
  dirty_ = false;
}

bool Store::finish_background_sync(std::string& error) {
  assert(background_sync_);
  const int err = sync_.collect();
  background_sync_ = false;
  if (err == 0) return true;
  dirty_ = true;  // the next second tries again
  error = "fdatasync of " + log_path_ + " or " + chk_path_ + " failed: " + errno_text(err) +
          " (--fsync everysec: the notes written in the last second may not be on disk)";
  return false;
}

bool Store::sync(std::string& error) {
  if (background_sync_ && !finish_background_sync(error)) return false;
  if (!dirty_) return true;
  if (::fdatasync(log_.get()) != 0 || ::fdatasync(chk_.get()) != 0) {
    error = "fdatasync of " + log_path_ + " failed: " + errno_text(errno);
    return false;
  }
  dirty_ = false;
  return true;
}

namespace {

// What changed about one store file, or "" when it is still the file with the size written.
std::string file_change(int fd, const std::string& path, dev_t dev, ino_t ino,
                        uint64_t written) {
  struct stat at_path, open_file;
  if (::fstat(fd, &open_file) != 0) return "cannot be checked: " + errno_text(errno);
  if (::stat(path.c_str(), &at_path) != 0)
    return errno == ENOENT ? "was removed or moved away" : "cannot be checked: " + errno_text(errno);
  if (at_path.st_dev != dev || at_path.st_ino != ino)
    return "was replaced by another file (moved or rotated)";
  const uint64_t size = static_cast<uint64_t>(open_file.st_size);
  if (size < written)
    return "was truncated to " + std::to_string(size) + " bytes (the server wrote " +
           std::to_string(written) + ")";
  if (size > written)
    return "grew to " + std::to_string(size) + " bytes (the server wrote " +
           std::to_string(written) + "): another program writes to it";
  return "";
}

}  // namespace

bool Store::check_files(std::string& what) {
  if (!failed_.empty()) return false;
  // The sizes written: published commits plus the one in flight.
  std::string change =
      file_change(log_.get(), log_path_, log_dev_, log_ino_, log_size_ + pend_log_);
  std::string path = log_path_;
  if (change.empty()) {
    change = file_change(chk_.get(), chk_path_, chk_dev_, chk_ino_, chk_size_ + pend_chk_);
    path = chk_path_;
  }
  if (change.empty()) return true;
  failed_ = path + " " + change;
  (void)readable_end();  // lowers the readable end if notes.log lost bytes
  what = "store unavailable: " + failed_ +
         "; refusing new notes with 'ERR store unavailable' and answering reads from what "
         "the server wrote; restart to check the store";
  return false;
}

uint64_t Store::readable_end() const noexcept {
  struct stat st;
  if (::fstat(log_.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) < log_size_) {
    // Only whole notes that are still there; and never more again.
    size_t p = position_at(static_cast<uint64_t>(st.st_size) + 1);  // lines starting <= size
    uint64_t whole = p == 0 ? 0 : (end_at(p - 1) <= static_cast<uint64_t>(st.st_size)
                                       ? end_at(p - 1)
                                       : offsets_[p - 1]);
    trusted_end_ = std::min(trusted_end_, whole);
  }
  return std::min(log_size_, trusted_end_);
}
