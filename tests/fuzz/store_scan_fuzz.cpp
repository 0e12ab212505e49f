// store_scan_fuzz.cpp — libFuzzer target for the store's recovery scanner and repair.
// Two uses of each input:
//  * raw: bytes 0..1 choose a split, the rest is notes.log then notes.chk; scan_store and
//    repair_store must not crash and their results must hold together (below);
//  * built: a valid store is built from notes derived from the input, then bytes are flipped,
//    cut, inserted or removed as the input says; on top of the general rules, no note whose
//    line or record was touched is ever kept, tail-only losses are never "damage" and keep
//    every whole note, and a single flipped byte of either file is damage at exactly the
//    line it belongs to.
// Build: make build/fuzz/store_scan   Run: build/fuzz/store_scan tests/fuzz/corpus/store_scan
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../../common/protocol.hpp"
#include "../../server/store_scan.hpp"

namespace {

#define FUZZ_ASSERT(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

using V = ScanResult::Verdict;

StoreRecord record_at(std::string_view chk, size_t i) {
  return decode_record(reinterpret_cast<const unsigned char*>(chk.data()) + i * kRecordSize);
}

// Rules every scan result obeys, whatever the bytes.
void check_scan(std::string_view log, std::string_view chk, const ScanResult& s) {
  const size_t n = s.offsets.size();
  if (s.verdict == V::damaged) {  // the note lists are partial then (store_scan.hpp)
    FUZZ_ASSERT(!s.damage_what.empty());
    FUZZ_ASSERT(s.damage_offset <= log.size());
    return;
  }
  FUZZ_ASSERT(s.seqs.size() == n && s.client_ids.size() == n && s.msgs.size() == n);
  FUZZ_ASSERT(s.log_keep <= log.size());
  FUZZ_ASSERT(s.chk_keep <= chk.size() && s.chk_keep % kRecordSize == 0);
  if (s.verdict == V::clean) FUZZ_ASSERT(s.log_keep == log.size() && s.chk_keep == chk.size());
  const bool records = chk.size() >= kRecordSize;
  if (records) FUZZ_ASSERT(!s.rebuilt && s.chk_keep == n * kRecordSize);
  if (!records) FUZZ_ASSERT(s.chk_keep == 0 && s.rebuilt == !log.empty());
  for (size_t i = 0; i < n; ++i) {
    uint64_t end = i + 1 < n ? s.offsets[i + 1] : s.log_keep;
    FUZZ_ASSERT(s.offsets[i] < end && end <= s.log_keep);
    if (i == 0) FUZZ_ASSERT(s.offsets[0] == 0);
    if (i > 0) FUZZ_ASSERT(s.seqs[i] > s.seqs[i - 1]);
    std::string_view line = log.substr(s.offsets[i], end - s.offsets[i]);
    FUZZ_ASSERT(line.back() == '\n');
    if (records) {
      // never keeps a note whose check fails
      StoreRecord r = record_at(chk, i);
      FUZZ_ASSERT(r.seq == s.seqs[i] && r.offset == s.offsets[i] && r.length == line.size());
      FUZZ_ASSERT(record_crc(r, line) == r.crc);
      FUZZ_ASSERT(r.client_id == s.client_ids[i] && r.msg == s.msgs[i]);
    } else {
      auto nl = parse_note_line(line.substr(0, line.size() - 1));
      FUZZ_ASSERT(nl.has_value() && nl->seq == s.seqs[i]);
      FUZZ_ASSERT(s.client_ids[i] == 0 && s.msgs[i] == 0);
    }
  }
  if (n == 0) FUZZ_ASSERT(s.log_keep == 0);
  // What recovery keeps scans clean and identical.
  ScanResult again = scan_store(log.substr(0, s.log_keep), chk.substr(0, s.chk_keep));
  FUZZ_ASSERT(again.verdict == V::clean);
  FUZZ_ASSERT(again.seqs == s.seqs && again.offsets == s.offsets);
}

void check_repair(std::string_view log, std::string_view chk, const ScanResult& s) {
  RepairResult r = repair_store(log, chk);
  FUZZ_ASSERT(r.log.size() + r.damaged.size() == log.size());  // every byte kept or moved
  FUZZ_ASSERT(r.chk.size() == r.kept * kRecordSize);
  ScanResult rs = scan_store(r.log, r.chk);
  FUZZ_ASSERT(rs.verdict == V::clean);
  FUZZ_ASSERT(rs.seqs.size() == r.kept && rs.log_keep == r.log.size());
  if (s.verdict != V::damaged) FUZZ_ASSERT(r.kept >= s.seqs.size());
  if (s.verdict == V::clean) {
    FUZZ_ASSERT(r.log == log && r.damaged.empty());
    if (!s.rebuilt) FUZZ_ASSERT(r.chk == chk);
  }
  // Repair is idempotent.
  RepairResult r2 = repair_store(r.log, r.chk);
  FUZZ_ASSERT(r2.log == r.log && r2.chk == r.chk && r2.damaged.empty() && r2.kept == r.kept);
}

struct Reader {
  const uint8_t* p;
  size_t n, pos = 0;
  uint32_t u8() { return pos < n ? p[pos++] : 0; }
  uint32_t u16() { return u8() | u8() << 8; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  std::string bytes(size_t k) {
    std::string s;
    for (size_t i = 0; i < k; ++i) s += static_cast<char>(u8());
    return s;
  }
};

void raw(const uint8_t* data, size_t size) {
  if (size < 2) return;
  size_t split = (data[0] | data[1] << 8) % (size - 1);
  std::string_view all(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string_view log = all.substr(0, split), chk = all.substr(split);
  ScanResult s = scan_store(log, chk);
  check_scan(log, chk, s);
  check_repair(log, chk, s);
}

void built(const uint8_t* data, size_t size) {
  Reader in{data, size};
  static const char* kAddrs[] = {"127.0.0.1:40522", "[::1]:9527", "10.0.0.7:1",
                                 "[2001:db8::1]:65535"};
  static const char* kChars[] = {"a", "b", " ", "~", "\xC3\xA9", "\xE6\x97\xA5",
                                 "\xF0\x9F\x98\x80", "0"};
  std::string log, chk;
  std::vector<uint64_t> seqs, offs;
  std::vector<std::string> lines;
  const size_t n = 1 + in.u8() % 12;
  uint64_t seq = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t g = in.u8();
    seq += 1 + (g % 4 == 0 ? g : 0);
    std::string text;
    for (size_t k = 0, len = 1 + in.u8() % 16; k < len; ++k) text += kChars[in.u8() % 8];
    std::string line;
    append_note_line(line, seq, 1700000000000 + static_cast<int64_t>(in.u16()) * 997,
                     kAddrs[in.u8() % 4], text);
    uint64_t cid = in.u8() % 2 ? in.u64() : 0, msg = cid ? in.u16() : 0;
    StoreRecord r = make_record(seq, log.size(), line, cid, msg);
    unsigned char buf[kRecordSize];
    encode_record(r, buf);
    chk.append(reinterpret_cast<const char*>(buf), kRecordSize);
    seqs.push_back(seq);
    offs.push_back(log.size());
    log += line;
    lines.push_back(line);
  }
  {
    ScanResult s = scan_store(log, chk);
    FUZZ_ASSERT(s.verdict == V::clean && s.seqs == seqs && s.offsets == offs);
    check_scan(log, chk, s);
  }

  // Mutations, as the input says.
  enum { flip_log, flip_chk, cut_log, cut_chk, insert_log, erase_log, append_log, append_chk };
  const size_t count = in.u8() % 4;
  bool tail_only = true;
  bool forged_chk = false;  // bytes copied from the input into notes.chk could forge a record
  int single = -1;  // the kind of the mutation when there is exactly one
  size_t single_pos = 0;
  for (size_t m = 0; m < count; ++m) {
    uint32_t kind = in.u8() % 8;
    uint32_t at = in.u16();
    if (kind != cut_log && kind != cut_chk) tail_only = false;
    switch (kind) {
      case flip_log:
        if (log.empty()) break;
        single_pos = at % log.size();
        log[single_pos] = static_cast<char>(log[single_pos] ^ (in.u8() | 1));
        break;
      case flip_chk:
        if (chk.empty()) break;
        single_pos = at % chk.size();
        chk[single_pos] = static_cast<char>(chk[single_pos] ^ (in.u8() | 1));
        break;
      case cut_log: log.resize(at % (log.size() + 1)); break;
      case cut_chk: chk.resize(at % (chk.size() + 1)); break;
      case insert_log: log.insert(at % (log.size() + 1), in.bytes(1 + in.u8() % 8)); break;
      case erase_log:
        if (!log.empty()) log.erase(at % log.size(), 1 + in.u8() % 8);
        break;
      case append_log: log += in.bytes(1 + in.u8() % 8); break;
      case append_chk:
        chk += in.bytes(1 + in.u8() % 45);
        forged_chk = true;
        break;
    }
    single = count == 1 ? static_cast<int>(kind) : -1;
  }

  ScanResult s = scan_store(log, chk);
  check_scan(log, chk, s);
  check_repair(log, chk, s);

  const bool records = chk.size() >= kRecordSize;
  if (records && s.verdict != V::damaged && !forged_chk) {
    // the kept notes are the first ones as written: nothing touched slips through
    for (size_t i = 0; i < s.seqs.size(); ++i) {
      FUZZ_ASSERT(i < n && s.seqs[i] == seqs[i] && s.offsets[i] == offs[i]);
      FUZZ_ASSERT(log.compare(offs[i], lines[i].size(), lines[i]) == 0);
    }
  }
  if (count == 0) FUZZ_ASSERT(s.verdict == V::clean && s.seqs.size() == n);

  if (tail_only) {
    // Losing the end of either file (a crash, a power cut) is never damage, and every note
    // whose line and record both survived whole is kept.
    size_t whole_lines = 0;
    while (whole_lines < n && offs[whole_lines] + lines[whole_lines].size() <= log.size())
      ++whole_lines;
    size_t whole_records = chk.size() / kRecordSize;
    FUZZ_ASSERT(s.verdict != V::damaged);
    size_t want = whole_records == 0 ? whole_lines : std::min(whole_lines, whole_records);
    FUZZ_ASSERT(s.seqs.size() == want);
  }

  if (single == flip_log && records) {
    // one changed byte of notes.log: damage, at exactly the line that holds it
    size_t line = 0;
    while (line + 1 < n && offs[line + 1] <= single_pos) ++line;
    FUZZ_ASSERT(s.verdict == V::damaged);
    FUZZ_ASSERT(s.damage_offset == offs[line]);
  }
  if (single == flip_chk) {
    // one changed byte of notes.chk: damage at the line of that record, never a torn tail
    size_t rec = single_pos / kRecordSize;
    FUZZ_ASSERT(s.verdict == V::damaged);
    FUZZ_ASSERT(s.damage_offset == offs[rec]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  raw(data, size);
  built(data, size);
  return 0;
}
