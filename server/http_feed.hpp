// http_feed.hpp — NoteFeed: the notes one HTTP /notes or /events response sends, read from
// the store a bounded span at a time (never the whole history in memory). A small adapter
// over the store and the attribution index with the FILTERS the line protocol's HISTORY
// has (FROM, SINCE seq, LAST) plus an upper seq bound (`before`, the page's "older"
// button); meant to be swapped for the shared history cursor when it offers the rest.
// Does not own the store or the index; holds positions only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../common/net.hpp"
#include "../common/protocol.hpp"
#include "tcp_session.hpp"

// The query of a /notes or /events request (SPEC.md "HTTP": from, since, last; plus
// before=SEQ: only notes with seq < SEQ).
struct NoteQuery {
  Command filters;      // from, since (seq), last
  uint64_t before = 0;  // 0: no upper bound
};

// Decoded query parameters -> NoteQuery. false with a one-line reason ("since wants a seq,
// not 'x'") for a 400. Unknown parameters are ignored (caches add their own).
bool parse_note_query(const std::vector<std::pair<std::string, std::string>>& params,
                      NoteQuery& q, std::string& error);

class NoteFeed {
 public:
  // Snapshot (follow false): the matching notes stored now. Follow: those, then every new
  // matching note as it is stored.
  void start(const NoteQuery& q, const SessionContext& ctx, bool follow);
  // Appends the next matching note lines (each "SEQ\tTIME\tADDR\tTEXT\n") to out, about
  // max_bytes at most (always at least one line when one is due). Returns the lines added;
  // 0 with ok false when the store could not be read.
  size_t read(const SessionContext& ctx, size_t max_bytes, std::string& out, bool& ok);
  // Snapshot: everything was read. Follow: caught up with the store for now.
  bool finished(const SessionContext& ctx) const noexcept;
  // Follow: bytes of matching notes stored and not read yet (an upper bound).
  uint64_t backlog_bytes(const SessionContext& ctx) const noexcept;

 private:
  uint64_t end_pos(const SessionContext& ctx) const noexcept;  // list index or position
  uint64_t position(const SessionContext& ctx, uint64_t i) const noexcept;

  std::optional<AddrFilter> from_;
  bool follow_ = false;
  uint64_t next_ = 0;  // next index (into the FROM list, or a store position)
  uint64_t end_ = 0;   // snapshot end, same units
  uint64_t before_ = 0;
};
