// store.hpp — Store: the append-only notes file and its check file, recovery on open, group
// commit, and positions of notes for streaming. Owns both files and the data-dir lock.
// Does not know about sockets or the index (the server updates the index after a commit).
//
// On disk, in --data:
//   notes.log  the notes, one wire line each: "SEQ\tTIME\tADDR\tTEXT\n". Plain UTF-8 that
//              cat/grep/less read, and that HISTORY streams byte for byte (sendfile).
//   notes.chk  one 40-byte little-endian record per note line, in the same order:
//                u64 seq, u64 offset of the line, u32 line length (with '\n'),
//                u32 crc32c (over the line, then this record with the crc field zeroed),
//                u64 client id, u64 message number (both 0 for a plain datagram).
//              The check value finds damage anywhere; the ids rebuild exactly-once state.
//   LOCK       holds the PID of the server that has the store (flock, released on exit).
// A note is committed when its line and its record are both written. A commit writes the
// batch's lines with one write() and its records with another, then (--fsync always)
// fdatasync()s both. Recovery keeps the longest prefix of verified records, cuts a torn
// tail (uncommitted lines, a partial record) and refuses damage that valid notes follow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../common/fd.hpp"

struct StoreRecord {
  uint64_t seq = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t crc = 0;
  uint64_t client_id = 0;
  uint64_t msg = 0;
};
inline constexpr size_t kRecordSize = 40;
void encode_record(const StoreRecord& r, unsigned char out[kRecordSize]) noexcept;
StoreRecord decode_record(const unsigned char in[kRecordSize]) noexcept;
uint32_t record_crc(const StoreRecord& r, std::string_view line) noexcept;

enum class FsyncMode { always, everysec, never };

// What recovery found and did; `error` non-empty means the store must not be opened.
struct RecoveryReport {
  std::string error;            // one line: file, byte offset, what to do
  uint64_t torn_offset = 0;     // where a torn tail was cut (bytes of notes.log)
  uint64_t torn_bytes = 0;      // log bytes cut there
  uint64_t torn_records = 0;    // check records cut
  bool rebuilt_checks = false;  // notes.chk was missing and rebuilt from notes.log
  std::string repaired_to;      // side file that received damaged bytes (--repair)
  uint64_t repaired_bytes = 0;
  uint64_t stale_lock_pid = 0;  // LOCK named this PID, which no longer holds it
};

// One note the server wants committed; addr and text point into the caller's buffers.
struct NoteToAppend {
  int64_t time_ms = 0;
  std::string_view addr;
  std::string_view text;
  uint64_t client_id = 0;
  uint64_t msg = 0;
};

class Store {
 public:
  Store() = default;
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Creates dir (and parents) if needed, takes the lock, recovers. Returns false with a
  // one-line reason in `error` (lock held, I/O error, damage); `report` says what was done.
  bool open(const std::string& dir, bool repair, RecoveryReport& report, std::string& error);

  // Appends the notes as seqs next_seq().., all or nothing. Returns false (and leaves the
  // files as they were) when the disk refuses; `error` names the errno.
  bool append(const std::vector<NoteToAppend>& notes, FsyncMode mode, std::string& error);
  // fdatasync() of both files if anything was written since the last sync (everysec).
  bool sync(std::string& error);
  bool dirty() const noexcept { return dirty_; }

  uint64_t next_seq() const noexcept { return last_seq_ + 1; }
  uint64_t last_seq() const noexcept { return last_seq_; }
  size_t count() const noexcept { return offsets_.size(); }
  uint64_t bytes() const noexcept { return log_size_; }
  // Position p (0-based, in file order) of a note: its seq, and its byte range in notes.log.
  uint64_t seq_at(size_t p) const noexcept { return seqs_[p]; }
  uint64_t offset_at(size_t p) const noexcept { return offsets_[p]; }
  uint64_t end_at(size_t p) const noexcept {
    return p + 1 < offsets_.size() ? offsets_[p + 1] : log_size_;
  }
  // First position whose seq is > since.
  size_t position_after(uint64_t since) const noexcept;

  int log_fd() const noexcept { return log_.get(); }
  const std::string& log_path() const noexcept { return log_path_; }
  const std::string& dir() const noexcept { return dir_; }

  // Until release_recovery(): the line (without '\n') of position p as recovery mapped it,
  // and the client id / message number its record carries; used to build the index and
  // the exactly-once state at start-up without reading the file twice.
  std::string_view recovered_line(size_t p) const noexcept;
  uint64_t recovered_client_id(size_t p) const noexcept { return rec_client_[p]; }
  uint64_t recovered_msg(size_t p) const noexcept { return rec_msg_[p]; }
  void release_recovery() noexcept;

 private:
  bool lock_dir(uint64_t& stale_pid, std::string& error);
  bool recover(bool repair, RecoveryReport& report, std::string& error);
  bool rewrite(const std::string& log, const std::string& chk, std::string& error);

  std::string dir_, log_path_, chk_path_;
  Fd lock_, log_, chk_;
  uint64_t log_size_ = 0;
  uint64_t chk_size_ = 0;
  uint64_t last_seq_ = 0;
  bool dirty_ = false;
  bool locked_ = false;  // this process holds the flock on LOCK
  std::vector<uint64_t> offsets_;
  std::vector<uint64_t> seqs_;
  // Filled by recover() and dropped by release_recovery().
  std::vector<uint64_t> rec_client_, rec_msg_;
  const char* map_ = nullptr;
  size_t map_len_ = 0;
  // Reused commit buffers.
  std::string log_buf_, chk_buf_;
};
