// store.hpp — Store: the append-only notes file and its check file, recovery on open, group
// commit, positions of notes for streaming, and the watch on the files while running. Owns
// both files and the data-dir lock. Does not know about sockets or the index.
//
// Formats (notes.log, notes.chk with its note records and commit marks, side files, LOCK):
// store_format.hpp. Start-up rules (what is torn, what is damage): store_scan.hpp.
//
// A commit writes the batch's lines with one write() and its records plus one commit mark
// with another, then (--fsync always) fdatasync()s both before any OK leaves: append() does
// it inline; the server pipelines it (begin_append() hands the two fdatasyncs to the sync
// thread, store_sync.hpp, and the loop goes on reading; finish_append() publishes the commit
// once both returned). At most one commit is in flight and nothing else is written meanwhile,
// so after a crash at most one commit is torn (store_scan.hpp), as with append(). A commit in
// flight is not yet counted, readable or visible: count(), bytes(), seq_at(), readable_end()
// and last_seq() describe published commits only (under --fsync always: durable ones). Recovery
// cuts only what follows the last complete commit, and moves every byte it cuts to a new
// side file first. While running, check_files() notices notes.log or notes.chk truncated,
// replaced, moved, removed or written by someone else; the store then refuses every append
// (ERR store unavailable) until a restart, and readable_end() keeps readers to bytes it wrote.
#pragma once

#include <cstdint>
#include <functional>
#include <sys/types.h>
#include <string>
#include <string_view>
#include <vector>

#include "../common/fd.hpp"
#include "columns.hpp"
#include "store_format.hpp"
#include "store_sync.hpp"


struct ScanResult;

enum class FsyncMode { always, everysec, never };

// What recovery found and did; `error` non-empty means the store must not be opened.
struct RecoveryReport {
  std::string error;            // one line: file, byte offset, what to do
  uint64_t torn_offset = 0;     // where a torn tail was cut (bytes of notes.log)
  uint64_t torn_bytes = 0;      // log bytes cut there, now in torn_log_to
  uint64_t torn_records = 0;    // check records (rounded up) cut, now in torn_chk_to
  std::string torn_log_to, torn_chk_to;  // side files ("" when nothing was cut there)
  bool rebuilt_checks = false;  // notes.chk was missing and rebuilt from notes.log
  bool marked = false;          // a store from before commit marks got its first mark
  std::string repaired_to;      // side file that received damaged log bytes (--repair)
  std::string repaired_chk_to;  // side file that received the old notes.chk (--repair)
  uint64_t repaired_bytes = 0;
  uint64_t stale_lock_pid = 0;  // LOCK named this PID, which no longer holds it
};

// The log lines that tell what recovery did (torn tail cut, records rebuilt, repair, a
// stale LOCK taken), each naming the side files that hold what was cut. count: notes kept.
std::vector<std::string> describe_recovery(const RecoveryReport& r, const std::string& log_path,
                                           size_t count);

// One note the server wants committed; addr and text point into the caller's buffers.
struct NoteToAppend {
  int64_t time_ms = 0;
  std::string_view addr;
  std::string_view text;
  uint64_t client_id = 0;
  uint64_t msg = 0;
};

// One note as recovery found it, handed to the caller of Store::open (index, exactly-once).
struct RecoveredNote {
  size_t position = 0;     // 0-based, in file order
  uint64_t seq = 0;
  std::string_view line;   // without its '\n'
  uint64_t client_id = 0;  // 0 for a plain datagram
  uint64_t msg = 0;
};

class Store {
 public:
  Store() = default;
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Creates dir (and parents) if needed, takes the lock, recovers, then calls each_note for
  // every note in the store, in order (the line without '\n' is valid only during the call).
  // Returns false with a one-line reason in `error` (lock held, I/O error, damage: the file
  // and byte offset); `report` says what was done.
  bool open(const std::string& dir, bool repair, const std::function<void(const RecoveredNote&)>& each_note,
            RecoveryReport& report, std::string& error);

  // Appends the notes as seqs next_seq().., all or nothing, and publishes them. Returns
  // false (and leaves the files as they were) when the disk refuses; `error` names the errno.
  // Refuses everything once check_files() found the files changed. The notes of one commit
  // must share one time_ms: recovery tells commits apart by the TIME of their lines.
  // Precondition: !in_flight().
  bool append(const std::vector<NoteToAppend>& notes, FsyncMode mode, std::string& error);
  // The pipelined commit (--fsync always): starts the sync thread (once; false with a reason
  // when it can not), then begin_append() writes the notes as append() does and hands both
  // fdatasyncs to the thread: in_flight() until finish_append(), which waits for them (at
  // once when sync_ended(); sync_fd() is readable then), publishes the commit and returns
  // true, or cuts both files back and returns false with the errno in `error`. An empty
  // `notes` or a refused write leaves nothing in flight. Precondition of both: as append().
  bool start_sync_thread(std::string& error) { return sync_.start(error); }
  bool begin_append(const std::vector<NoteToAppend>& notes, std::string& error);
  bool finish_append(std::string& error);
  bool in_flight() const noexcept { return sync_.pending() && !background_sync_; }
  bool sync_ended() const noexcept { return sync_.ended(); }
  int sync_fd() const noexcept { return sync_.event_fd(); }
  // Are notes.log and notes.chk still the files this store opened (same device and inode at
  // their paths) with the sizes it wrote? Called on every commit and at least once a second.
  // The first time not: returns false with one line naming the file and what changed in
  // `what`; from then on the store is unavailable() (appends refused) until a restart.
  bool check_files(std::string& what);
  bool unavailable() const noexcept { return !failed_.empty(); }
  // The end of the bytes of notes.log a reader may send: bytes() while the file holds what
  // this store wrote; after it was found shorter, the end of the last whole note it still
  // holds (never more again, so a file refilled by someone else is not sent).
  uint64_t readable_end() const noexcept;
  // fdatasync() of both files if anything was written since the last sync (everysec), on
  // the calling thread: first waits for a background sync in progress (below). Used at
  // shutdown, where the flush must be done before exit.
  bool sync(std::string& error);
  bool dirty() const noexcept { return dirty_; }
  // --fsync everysec off the loop (as redis's background fsync): begin_background_sync()
  // hands fdatasync(notes.log) and fdatasync(notes.chk) to the sync thread and clears
  // dirty(); the loop goes on writing (a pwrite beside a running fdatasync is fine: what the
  // sync covers is at least what was written before it started). When sync_ended() (the
  // eventfd is readable), finish_background_sync() collects it: false with a one-line reason
  // naming the errno (and dirty() again) when the disk refused. Preconditions:
  // start_sync_thread() done, no job pending (neither a commit in flight nor a sync).
  void begin_background_sync();
  bool background_sync_pending() const noexcept { return background_sync_; }
  bool finish_background_sync(std::string& error);

  // last_seq is the highest seq ever given (the seq floor), also when its note was lost to
  // damage or cut from a torn tail: the next note never takes a seq given before.
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
  // Number of notes whose line starts before byte `off` of notes.log.
  size_t position_at(uint64_t off) const noexcept;

  int log_fd() const noexcept { return log_.get(); }
  const std::string& log_path() const noexcept { return log_path_; }


 private:
  bool lock_dir(uint64_t& stale_pid, std::string& error);
  bool recover(bool repair, RecoveryReport& report, std::string& error);
  bool cut_torn(const ScanResult& s, std::string_view log, std::string_view chk,
                RecoveryReport& report, std::string& error);
  bool repair(std::string_view log, std::string_view chk, RecoveryReport& report,
              std::string& error);
  bool rewrite(const std::string& log, const std::string& chk, std::string& error);
  // Writes a commit after the published bytes (pend_* describe it); false: cut back.
  bool write_commit(const std::vector<NoteToAppend>& notes, std::string& error);
  void publish();
  // Drops the commit being written or synced: both files back to the published sizes.
  bool cut_back(int err, std::string& error);
  void unmap() noexcept;

  std::string dir_, log_path_, chk_path_;
  Fd lock_, log_, chk_;
  uint64_t log_size_ = 0;
  uint64_t chk_size_ = 0;
  uint64_t last_seq_ = 0;
  bool dirty_ = false;
  bool background_sync_ = false;  // the sync thread's job is an everysec sync, not a commit
  bool locked_ = false;  // this process holds the flock on LOCK
  std::string failed_;   // what check_files() found changed; non-empty: unavailable
  dev_t log_dev_ = 0, chk_dev_ = 0;
  ino_t log_ino_ = 0, chk_ino_ = 0;
  mutable uint64_t trusted_end_ = UINT64_MAX;  // lowered when notes.log is found shorter
  OffsetColumn offsets_;  // per note: where its line starts (4 bytes a note)
  SeqColumn seqs_;        // per note: its seq (runs: a few bytes in all)
  // While open() runs: the ids of the recovered notes and notes.log mapped.
  std::vector<uint64_t> rec_client_, rec_msg_;
  const char* map_ = nullptr;
  size_t map_len_ = 0;
  // Reused commit buffers.
  std::string log_buf_, chk_buf_;
  // The commit written and not yet published (in flight): its bytes in each file, its notes.
  uint64_t pend_log_ = 0, pend_chk_ = 0, pend_last_seq_ = 0;
  std::vector<uint64_t> pend_offsets_, pend_seqs_;
  SyncWorker sync_;  // declared after the fds: destroyed (joined) before they close
};
