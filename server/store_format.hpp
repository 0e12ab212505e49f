// store_format.hpp — the on-disk format of the store in --data, and the codec of its check
// records. Pure code (no I/O): the write path (store.cpp) and the recovery scanner
// (store_scan.cpp) both depend on this file, not on each other.
//
// notes.log  The notes, one wire line each: "SEQ\tTIME\tADDR\tTEXT\n" (SPEC "TCP"). Plain
//            UTF-8 that cat/grep/less read and that HISTORY streams byte for byte. Only ever
//            appended to by the server.
//
// notes.chk  40-byte little-endian records, appended in commit order. Two kinds, same layout:
//
//   note record  one per line of notes.log, in the same order:
//                  u64 seq (>= 1), u64 offset of the line in notes.log, u32 line length
//                  (with its '\n'), u32 crc32c over the line and then this record with the
//                  crc field zeroed, u64 client id, u64 message number (both 0 for a plain
//                  datagram; they rebuild the exactly-once table at start).
//
//   commit mark  closes one group commit: written in the same write() as the commit's note
//                records, right after them:
//                  u64 0 (no note has seq 0: this is what makes it a mark), u64 size of
//                  notes.log at the end of the commit, u32 number of notes in the commit,
//                  u32 crc32c over this record with the crc field zeroed, u64 seq floor (the
//                  highest seq ever given, even to a note later lost to damage: the next note
//                  gets floor+1, so no seq is given twice), u64 kMarkMagic.
//
//   A commit is complete when its mark is there and every record before the mark verifies
//   against notes.log (the line sits at the running offset, crc matches, seqs rise). The crcs
//   make a commit verifiable on its own: whatever order the two files reached the disk in,
//   a complete commit is all there. So the store knows where the last complete group commit
//   ends — at its mark — and start-up cuts as torn only what lies after it: records after the
//   last mark and bytes of notes.log after the offset it names, whatever they hold. Anything
//   else that does not match is damage (store_scan.hpp has the rules).
//
//   Stores written before commit marks existed (no mark in notes.chk) stay readable: each
//   verified record counts as its own commit, and the first start appends a mark. A missing
//   or empty notes.chk is rebuilt from the lines of notes.log (ids lost), then marked.
//
// Side files  Recovery and --repair delete nothing: every byte they cut goes to a new file in
//            --data named notes.log.torn-<UTC time>-<n>, notes.chk.torn-…, notes.log.damaged-…
//            or notes.chk.damaged-… (O_EXCL with a rising n: an earlier one is never replaced).
//
// LOCK       The PID of the server that holds the store (flock; emptied on a clean stop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct StoreRecord {
  uint64_t seq = 0;        // note: its seq (>= 1); mark: 0
  uint64_t offset = 0;     // note: where its line starts; mark: notes.log size after the commit
  uint32_t length = 0;     // note: line length with '\n'; mark: notes in the commit
  uint32_t crc = 0;
  uint64_t client_id = 0;  // note: client id; mark: seq floor
  uint64_t msg = 0;        // note: message number; mark: kMarkMagic
};
inline constexpr size_t kRecordSize = 40;
inline constexpr uint64_t kMarkMagic = 0x314b52414d4e4444ULL;  // "DDNMARK1" little-endian

void encode_record(const StoreRecord& r, unsigned char out[kRecordSize]) noexcept;
StoreRecord decode_record(const unsigned char in[kRecordSize]) noexcept;
// Appends the encoded record to out.
void append_record(std::string& out, const StoreRecord& r);

// The crc of a note record: crc32c over the line (with '\n'), then the record, crc zeroed.
uint32_t record_crc(const StoreRecord& r, std::string_view line) noexcept;
// A note record for a line at `offset`, its crc filled in.
StoreRecord make_record(uint64_t seq, uint64_t offset, std::string_view line_with_nl,
                        uint64_t client_id, uint64_t msg) noexcept;

// A commit mark: notes.log is log_end bytes after a commit of `notes` notes; seq_floor is the
// highest seq given so far.
StoreRecord make_mark(uint64_t log_end, uint32_t notes, uint64_t seq_floor) noexcept;
// True when r is a commit mark whose own crc holds (where it points is checked by the scan).
bool is_mark(const StoreRecord& r) noexcept;
