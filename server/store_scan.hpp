// store_scan.hpp — the store's recovery scanner and repair, as pure functions over the bytes
// of notes.log and notes.chk (format in store_format.hpp). No I/O: unit-tested and fuzzed.
//
// The start-up rules (SPEC "Server and store": a seq is never given to two notes, an
// acknowledged note never silently disappears):
//  * A commit is complete when its commit mark is in notes.chk and every record up to the
//    mark verifies against notes.log. The last complete commit is the boundary.
//  * Torn (cut, to side files, and reported): what lies after the boundary and can not have
//    been acknowledged — records after the last mark and notes.log bytes after the offset the
//    mark names, whatever they hold (a partial line, garbage, zeros, whole lines), provided
//    they are at most one commit: nothing mark-like among those records (a damaged
//    mark still counts), and no note lines
//    of two different TIMEs (a commit's notes share the TIME of the turn that took them).
//  * Damage (the start is refused naming file and byte offset; --repair): anything else —
//    a record or mark before the boundary that does not verify while a later mark exists
//    (a log emptied, truncated or replaced, a changed line or record), or lines of more
//    than one commit without records.
//  * No marks at all (a store written before marks): every verified record is its own
//    commit; at most the last record may fail (torn). No notes.chk at all: the log's lines
//    are checked instead; a partial last line is torn.
//  * The seq floor (next seq - 1) is the highest seq in a kept note, a verified mark or a
//    torn note line that continues the seqs: a seq whose line was cut is never given again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store_format.hpp"

struct ScanResult {
  enum class Verdict { clean, torn, damaged } verdict = Verdict::clean;
  // The kept notes, in order (those before the damage when damaged).
  std::vector<uint64_t> offsets, seqs, client_ids, msgs;
  uint64_t log_keep = 0;    // bytes of notes.log to keep (the rest is cut when torn)
  uint64_t chk_keep = 0;    // bytes of notes.chk to keep
  uint64_t seq_floor = 0;   // the highest seq ever given: the next note gets seq_floor + 1
  bool rebuilt = false;     // notes.chk was empty: records derived from notes.log
  bool needs_mark = false;  // append make_mark(log_keep, 0, seq_floor) after cutting
  // damaged: which file ("notes.log" or "notes.chk"), where, and what, in true words.
  std::string damage_file;
  uint64_t damage_offset = 0;
  std::string damage_what;
};

ScanResult scan_store(std::string_view log, std::string_view chk);

struct RepairResult {
  std::string log, chk;     // the intact notes, re-framed, chk ending in a mark
  std::string damaged;      // every byte of notes.log not kept, in file order
  uint64_t kept = 0;
  uint64_t seq_floor = 0;   // as in ScanResult, over everything the damaged store held
};

// Keeps every note whose line verifies against its record (or, without records, every line
// that parses with a rising seq); everything else goes to `damaged`. The seq floor counts
// the seqs of lost notes too (marks, records, damaged lines), so none is given again.
RepairResult repair_store(std::string_view log, std::string_view chk);
