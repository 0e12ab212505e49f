// store_scan.hpp — the store's recovery scanner and repair, as pure functions over the bytes
// of notes.log and notes.chk (formats in store.hpp). No I/O: unit-tested and fuzzed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store.hpp"

struct ScanResult {
  enum class Verdict { clean, torn, damaged } verdict = Verdict::clean;
  // The committed notes, in order (all of them unless damaged).
  std::vector<uint64_t> offsets, seqs, client_ids, msgs;
  uint64_t log_keep = 0;   // bytes of notes.log to keep (cut after them when torn)
  uint64_t chk_keep = 0;   // bytes of notes.chk to keep
  bool rebuilt = false;    // notes.chk was empty, records derived from notes.log
  // damaged: where (byte offset in notes.log) and what, for the one-line error.
  uint64_t damage_offset = 0;
  std::string damage_what;
};

ScanResult scan_store(std::string_view log, std::string_view chk);

struct RepairResult {
  std::string log, chk;   // the intact notes, re-framed
  std::string damaged;    // every byte of notes.log not kept, in file order
  uint64_t kept = 0;
};

// Keeps every note whose line verifies against its record (or, without records, every line
// that parses with a rising seq); everything else goes to `damaged`.
RepairResult repair_store(std::string_view log, std::string_view chk);

// The record for a line at `offset`, with its crc filled in.
StoreRecord make_record(uint64_t seq, uint64_t offset, std::string_view line_with_nl,
                        uint64_t client_id, uint64_t msg) noexcept;
