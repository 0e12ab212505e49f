// history_cursor.hpp — HistoryCursor: one running HISTORY or FOLLOW (or HTTP /notes, /events)
// over the store: owns the snapshot/follow position and the FILTERS, and produces the
// selected note lines within a budget. Holds no note list: memory per cursor is a few
// integers (the caller lends a scratch buffer for reads). Does not own sockets or the store;
// never writes anywhere: the caller decides where bytes go.
//
// Two ways to take its output:
//   raw path   — when raw(): no FROM and no line filter, so every byte of notes.log in
//                [raw_offset(), raw_end()) is output, whole lines: the caller may sendfile()
//                them and call raw_advance(n) (the line protocol's fast path).
//   line path  — produce(): reads notes.log in chunks (at most kChunk bytes each) and calls
//                emit(line) for every selected note line, in seq order, "SEQ\tTIME\tADDR\t
//                TEXT\n" with its '\n' (parse it with parse_note_line for JSON or SSE).
//                Works in every mode, raw() or not. With FROM it reads spans around the
//                listed notes, ended by a gap wider than kMaxGap (a sparse client's notes
//                are read alone); a run of adjacent listed notes of kRunBytes or more goes
//                by the raw path instead (start_run).
// Position, in one unit per mode: without FROM a byte offset in notes.log; with FROM an
// index into the Index's position list of that address.
//
// Rules (SPEC.md "TCP" precise points): SINCE SEQ is exclusive; SINCE/UNTIL TIME test each
// note's own TIME (the TimeIndex only narrows where to look); LAST N keeps the last N of the
// notes that pass the other filters (found by reading backwards from the snapshot end, then
// streamed forwards); MATCH is a chunked scan (NoteFilter). A snapshot ends at the store's
// end when start() ran; a follow cursor runs on as notes are stored, with the same filters
// (LAST applies to what was stored at start, as tail -n N -f). A follow cursor whose SINCE N
// is at or past the newest seq at start skips the notes stored later with seq <= N (a
// Last-Event-ID from another store): seqs rise in store order, so they are a prefix of what
// follows, skipped by moving the position (the raw path keeps working).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "../common/filters.hpp"
#include "index.hpp"
#include "note_filter.hpp"
#include "store.hpp"

class HistoryCursor {
 public:
  enum class Mode { snapshot, follow };
  static constexpr size_t kChunk = 128 << 10;  // store bytes read at most per chunk
  // FROM: a gap of other notes wider than this between two listed ones ends a read.
  static constexpr uint64_t kMaxGap = 16 << 10;

  HistoryCursor() = default;
  // Positions the cursor for `f` over the store and index as they are now.
  HistoryCursor(const Filters& f, Mode mode, const Store& st, const Index& idx);

  bool follow() const noexcept { return mode_ == Mode::follow; }

  // ---- raw path (no FROM, no TIME bound, no MATCH; or a long run of a FROM) ----
  bool raw() const noexcept { return (!by_list_ && filter_.all()) || run_end_ > 0; }
  uint64_t raw_offset() const noexcept { return byte_off_; }
  uint64_t raw_end(const Store& st) const noexcept {
    if (!by_list_) skip_since(st, nullptr);  // a FROM run starts after the skip (start_run)
    return run_end_ ? run_end_ : range_end(st);
  }
  void raw_advance(uint64_t bytes) noexcept {
    byte_off_ += bytes;
    if (run_end_ && byte_off_ >= run_end_) {  // the run is sent: on to the next listed note
      li_ = run_li_end_;
      run_end_ = 0;
    }
  }
  // FROM without a line filter: when the next listed notes are a run of adjacent notes of
  // at least kRunBytes, makes them the raw path's range (raw() is true until they are sent,
  // so the caller may sendfile() them) and returns true. Call it with no output pending.
  bool start_run(const Store& st, const Index& idx) noexcept;
  static constexpr uint64_t kRunBytes = 32 << 10;  // shorter runs are gathered
  static constexpr uint64_t kRunMax = 16 << 20;    // a longer run is sent in several

  // Raw path stopped inside a line (sendfile() ends where the socket or the turn's budget
  // cut it): appends the rest of that line (one line at most) to `out` and moves past it, so
  // that what follows (BYE, a close) never lands after half a note line. Nothing to do at a
  // line start. False, with failed(), when the store can not give the bytes.
  bool finish_line(const Store& st, std::string& out);

  // ---- line path ----
  // Reads notes.log and calls emit(line) for each selected note, until `emit_limit` bytes
  // were emitted, `read_budget` store bytes were read (at least one chunk is read when there
  // is anything to read), or nothing is left now. Returns the store bytes read: charge them
  // to the turn, as a scan costs about what sending costs. Sets failed() on a read error.
  size_t produce(const Store& st, const Index& idx, std::vector<char>& scratch,
                 size_t read_budget, size_t emit_limit,
                 const std::function<void(std::string_view)>& emit);

  // Nothing left to produce now: a snapshot is complete; a follower has caught up.
  bool at_end(const Store& st, const Index& idx) const noexcept;
  // For END: the number of note lines this snapshot sends (valid once at_end()).
  uint64_t lines() const noexcept { return filter_.all() ? planned_ : emitted_; }
  // FOLLOW: bytes stored since start() that the cursor has not passed yet (with FROM, from
  // its next note to the address's last one: an upper bound).
  uint64_t backlog_bytes(const Store& st, const Index& idx) const noexcept;
  // The store can not give the rest (a read error, or notes.log found shorter than the
  // server wrote: Store::readable_end): end the snapshot where the cursor stands, at a line
  // boundary, so that lines() counts exactly the lines emitted or sent (SPEC: END counts
  // the lines sent). Clears failed().
  void end_early(const Store& st) noexcept;
  bool failed() const noexcept { return !error_.empty(); }
  // "store read failed at byte N of PATH: REASON" when failed().
  const std::string& error() const noexcept { return error_; }

 private:
  uint64_t range_end(const Store& st) const noexcept {
    return mode_ == Mode::snapshot ? end_byte_ : st.bytes();
  }
  uint64_t list_end(const Index& idx) const noexcept;
  // Follow with SINCE N at or past the newest seq at start: moves the position past the notes
  // stored since with seq <= N (SPEC "SINCE N is exclusive"). idx may be null without FROM.
  // Const because at_end() and raw_end() are: the position it moves is where the stream
  // starts, not output.
  void skip_since(const Store& st, const Index* idx) const noexcept;
  const Index::Positions& list(const Index& idx) const noexcept;
  bool read_at(const Store& st, char* buf, size_t n, uint64_t off);
  size_t range_step(const Store& st, std::vector<char>& scratch, size_t& emitted,
                    const std::function<void(std::string_view)>& emit);
  size_t list_step(const Store& st, const Index& idx, std::vector<char>& scratch,
                   size_t emit_room, size_t& emitted,
                   const std::function<void(std::string_view)>& emit);
  size_t locate_range_step(const Store& st, std::vector<char>& scratch);
  size_t locate_list_step(const Store& st, const Index& idx, std::vector<char>& scratch);

  Mode mode_ = Mode::snapshot;
  std::optional<AddrFilter> from_;
  bool by_list_ = false;
  NoteFilter filter_;
  mutable uint64_t byte_off_ = 0;         // no FROM (or a FROM run): next byte
  uint64_t end_byte_ = 0;                 // no FROM: snapshot end byte
  mutable uint64_t li_ = 0;               // FROM: next list index (skip_since moves both)
  uint64_t li_end_ = 0;                   // FROM: snapshot end index
  uint64_t since_seq_ = 0;                // SINCE N (0: none)
  mutable bool since_pending_ = false;    // follow: no note with seq > N stored yet
  uint64_t planned_ = 0;                  // lines of a snapshot without a line filter
  uint64_t emitted_ = 0;                  // lines produce() emitted
  uint64_t follow_base_ = 0;              // store bytes at start()
  // LAST N with a line filter: reading backwards from back_ (exclusive) down to lower_
  // (bytes or list indices), need_ passing notes still to find.
  bool locating_ = false;
  uint64_t need_ = 0, back_ = 0, lower_ = 0;
  // FROM sent as raw runs: while run_end_ > 0, [byte_off_, run_end_) is the rest of the run
  // of listed notes [li_, run_li_end_), whose first note is at store position run_pos_.
  uint64_t run_end_ = 0, run_li_end_ = 0, run_pos_ = 0;
  bool long_run_next_ = false;  // list_step stopped before a run for start_run()
  std::string error_;
};
