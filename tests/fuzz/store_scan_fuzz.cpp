// store_scan_fuzz.cpp — libFuzzer target for the store's recovery scanner and repair.
// Two uses of each input:
//  * raw: bytes 0..1 choose a split, the rest is notes.log then notes.chk; scan_store and
//    repair_store must not crash and their results must hold together (check_scan and
//    check_repair below: what is kept verifies and re-scans clean after the store's own
//    follow-up writes; every byte is kept or cut as a whole suffix, or kept or moved by
//    repair; the seq floor never falls below a kept seq or a mark's floor).
//  * built: a valid store of group commits (records + commit mark, each commit one TIME) is
//    built from the input, every note acknowledged; then the input mutates it. The invariant
//    of issue 11: no acknowledged seq is cut unless it is accounted for (its whole line in
//    the cut bytes, i.e. in a side file), no seq is ever given again (the floor is at least
//    every acknowledged seq), and every cut byte is accounted for; plus, for one mutation:
//    junk after the last commit is torn and keeps every note; a changed, inserted or erased
//    byte of a commit, or a shorter notes.log, is damage (a flipped log byte: at its line);
//    a shorter notes.chk loses at most its last commit, to the side file.
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
#include "fuzz_assert.hpp"

namespace {

using V = ScanResult::Verdict;

StoreRecord record_at(std::string_view chk, size_t i) {
  return decode_record(reinterpret_cast<const unsigned char*>(chk.data()) + i * kRecordSize);
}

// What Store::recover writes after a scan (rebuilt records, a mark), on the kept prefix.
std::string chk_after_recovery(std::string_view log, std::string_view chk, const ScanResult& s) {
  std::string out(chk.substr(0, s.chk_keep));
  if (s.rebuilt)
    for (size_t i = 0; i < s.offsets.size(); ++i) {
      uint64_t end = i + 1 < s.offsets.size() ? s.offsets[i + 1] : s.log_keep;
      append_record(out, make_record(s.seqs[i], s.offsets[i],
                                     log.substr(s.offsets[i], end - s.offsets[i]), 0, 0));
    }
  if (s.needs_mark) append_record(out, make_mark(s.log_keep, 0, s.seq_floor));
  return out;
}

// Rules every scan result obeys, whatever the bytes.
void check_scan(std::string_view log, std::string_view chk, const ScanResult& s) {
  const size_t n = s.offsets.size();
  if (s.verdict == V::damaged) {  // the note lists are partial then (store_scan.hpp)
    FUZZ_ASSERT(!s.damage_what.empty());
    FUZZ_ASSERT(s.damage_file == "notes.log" || s.damage_file == "notes.chk");
    FUZZ_ASSERT(s.damage_offset <= (s.damage_file == "notes.log" ? log.size() : chk.size()));
    return;
  }
  FUZZ_ASSERT(s.seqs.size() == n && s.client_ids.size() == n && s.msgs.size() == n);
  // Cut bytes are whole suffixes of each file (they go to side files as they are).
  FUZZ_ASSERT(s.log_keep <= log.size());
  FUZZ_ASSERT(s.chk_keep <= chk.size() && s.chk_keep % kRecordSize == 0);
  if (s.verdict == V::clean) FUZZ_ASSERT(s.log_keep == log.size() && s.chk_keep == chk.size());
  if (s.verdict == V::torn) FUZZ_ASSERT(s.log_keep < log.size() || s.chk_keep < chk.size());
  const bool records = chk.size() >= kRecordSize;
  if (!records) FUZZ_ASSERT(s.chk_keep == 0 && s.rebuilt == !log.empty());
  if (records) FUZZ_ASSERT(!s.rebuilt);
  size_t r = 0;  // next record of the kept chk
  for (size_t i = 0; i < n; ++i) {
    uint64_t end = i + 1 < n ? s.offsets[i + 1] : s.log_keep;
    FUZZ_ASSERT(s.offsets[i] < end && end <= s.log_keep);
    if (i == 0) FUZZ_ASSERT(s.offsets[0] == 0);
    if (i > 0) FUZZ_ASSERT(s.seqs[i] > s.seqs[i - 1]);
    std::string_view line = log.substr(s.offsets[i], end - s.offsets[i]);
    FUZZ_ASSERT(line.back() == '\n');
    if (records) {
      // never keeps a note whose check fails
      while (r * kRecordSize < s.chk_keep && is_mark(record_at(chk, r))) ++r;
      FUZZ_ASSERT(r * kRecordSize < s.chk_keep);
      StoreRecord rec = record_at(chk, r++);
      FUZZ_ASSERT(rec.seq == s.seqs[i] && rec.offset == s.offsets[i] && rec.length == line.size());
      FUZZ_ASSERT(record_crc(rec, line) == rec.crc);
      FUZZ_ASSERT(rec.client_id == s.client_ids[i] && rec.msg == s.msgs[i]);
    } else {
      auto nl = parse_note_line(line.substr(0, line.size() - 1));
      FUZZ_ASSERT(nl.has_value() && nl->seq == s.seqs[i]);
      FUZZ_ASSERT(s.client_ids[i] == 0 && s.msgs[i] == 0);
    }
  }
  if (n == 0) FUZZ_ASSERT(s.log_keep == 0);
  if (n > 0) FUZZ_ASSERT(s.seq_floor >= s.seqs.back());
  // No seq given twice: the floor covers every mark that was kept.
  for (size_t i = 0; i * kRecordSize < s.chk_keep; ++i)
    if (StoreRecord m = record_at(chk, i); is_mark(m)) FUZZ_ASSERT(s.seq_floor >= m.client_id);
  // What recovery keeps, with what it writes after, scans clean and identical.
  std::string kept_chk = chk_after_recovery(log, chk, s);
  ScanResult again = scan_store(log.substr(0, s.log_keep), kept_chk);
  FUZZ_ASSERT(again.verdict == V::clean);
  FUZZ_ASSERT(again.seqs == s.seqs && again.offsets == s.offsets);
  FUZZ_ASSERT(again.seq_floor == s.seq_floor && !again.needs_mark);
}

void check_repair(std::string_view log, std::string_view chk, const ScanResult& s) {
  RepairResult r = repair_store(log, chk);
  FUZZ_ASSERT(r.log.size() + r.damaged.size() == log.size());  // every byte kept or moved
  ScanResult rs = scan_store(r.log, r.chk);
  FUZZ_ASSERT(rs.verdict == V::clean);
  FUZZ_ASSERT(rs.seqs.size() == r.kept && rs.log_keep == r.log.size());
  FUZZ_ASSERT(rs.seq_floor == r.seq_floor && !rs.needs_mark);
  for (size_t i = 0; i < chk.size() / kRecordSize; ++i)  // no mark's floor is forgotten
    if (StoreRecord m = record_at(chk, i); is_mark(m)) FUZZ_ASSERT(r.seq_floor >= m.client_id);
  if (s.verdict != V::damaged) {
    FUZZ_ASSERT(r.kept >= s.seqs.size());
    FUZZ_ASSERT(r.seq_floor >= (s.seqs.empty() ? 0 : s.seqs.back()));
  }
  if (s.verdict == V::clean) FUZZ_ASSERT(r.log == log && r.damaged.empty());
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
  // Group commits as Store::append writes them; every note acknowledged.
  std::string log, chk;
  std::vector<uint64_t> seqs, offs, commit_log_end;
  std::vector<std::string> lines;
  const size_t commits = 1 + in.u8() % 6;
  uint64_t seq = 0;
  int64_t time = 1700000000000;
  for (size_t c = 0; c < commits; ++c) {
    time += 1 + in.u16();  // one TIME per turn, rising: two commits never share it here
    const size_t notes = 1 + in.u8() % 4;
    for (size_t i = 0; i < notes; ++i) {
      std::string text;
      for (size_t k = 0, len = 1 + in.u8() % 16; k < len; ++k) text += kChars[in.u8() % 8];
      std::string line;
      append_note_line(line, ++seq, time, kAddrs[in.u8() % 4], text);
      uint64_t cid = in.u8() % 2 ? in.u64() : 0, msg = cid ? in.u16() : 0;
      append_record(chk, make_record(seq, log.size(), line, cid, msg));
      seqs.push_back(seq);
      offs.push_back(log.size());
      log += line;
      lines.push_back(line);
    }
    append_record(chk, make_mark(log.size(), static_cast<uint32_t>(notes), seq));
    commit_log_end.push_back(log.size());
  }
  const size_t n = seqs.size();
  const uint64_t acked = seq;  // every seq up to here was acknowledged
  const size_t log_committed = log.size(), chk_committed = chk.size();
  const std::string committed_log = log;
  {
    ScanResult s = scan_store(log, chk);
    FUZZ_ASSERT(s.verdict == V::clean && s.seqs == seqs && s.offsets == offs);
    FUZZ_ASSERT(s.seq_floor == acked);
    check_scan(log, chk, s);
  }

  // Mutations, as the input says.
  enum { flip_log, flip_chk, cut_log, cut_chk, insert_log, erase_log, append_log, append_chk };
  const size_t count = in.u8() % 4;
  int single = -1;  // the kind of the mutation when there is exactly one
  size_t single_pos = 0;
  bool touched_log = false, touched_chk = false;
  for (size_t m = 0; m < count; ++m) {
    uint32_t kind = in.u8() % 8;
    uint32_t at = in.u16();
    switch (kind) {
      case flip_log:
        single_pos = at % log.size();
        log[single_pos] = static_cast<char>(log[single_pos] ^ (in.u8() | 1));
        touched_log = true;
        break;
      case flip_chk:
        single_pos = at % chk.size();
        chk[single_pos] = static_cast<char>(chk[single_pos] ^ (in.u8() | 1));
        touched_chk = true;
        break;
      case cut_log: log.resize(at % log.size()); touched_log = true; break;
      case cut_chk: chk.resize(at % chk.size()); touched_chk = true; break;
      case insert_log:
        single_pos = at % (log.size() + 1);
        log.insert(single_pos, in.bytes(1 + in.u8() % 8));
        touched_log = touched_log || single_pos < log_committed;
        break;
      case erase_log:
        single_pos = at % log.size();
        log.erase(single_pos, 1 + in.u8() % 8);
        touched_log = true;
        break;
      case append_log: {
        // Sometimes the real start of a next commit (cut short), sometimes junk.
        std::string junk = in.bytes(1 + in.u8() % 8);
        if (in.u8() % 2) {
          std::string line;
          append_note_line(line, acked + 1, time + 1, kAddrs[0], "next");
          junk = line.substr(0, 1 + junk.size() % line.size());
        }
        log += junk;
        break;
      }
      case append_chk: chk += in.bytes(1 + in.u8() % 45); break;
    }
    if (log.empty()) log = " ";  // keep the modulo above defined
    if (chk.empty()) chk = std::string(1, '\0');
    single = count == 1 ? static_cast<int>(kind) : -1;
  }

  ScanResult s = scan_store(log, chk);
  check_scan(log, chk, s);
  check_repair(log, chk, s);
  if (count == 0) FUZZ_ASSERT(s.verdict == V::clean && s.seqs.size() == n);

  if (s.verdict != V::damaged && !touched_log) {
    // No acknowledged seq is cut unless accounted for: every acknowledged note is kept, or
    // (notes.chk lost its end) its whole line is in the cut bytes of notes.log, which go to
    // a side file. And none of their seqs is given again.
    for (size_t i = 0; i < n; ++i) {
      const bool kept = i < s.seqs.size() && s.seqs[i] == seqs[i] && s.offsets[i] == offs[i];
      const bool cut = offs[i] >= s.log_keep && offs[i] + lines[i].size() <= log.size() &&
                       log.compare(offs[i], lines[i].size(), lines[i]) == 0;
      FUZZ_ASSERT(kept || cut);
    }
    FUZZ_ASSERT(s.seq_floor >= acked);
  }
  if (s.verdict != V::damaged && !touched_chk && !touched_log)
    FUZZ_ASSERT(s.seqs == seqs);  // only junk after the last commit: every note kept

  switch (single) {
    case flip_log: {  // one changed byte of a commit: damage, at exactly its line
      size_t line = 0;
      while (line + 1 < n && offs[line + 1] <= single_pos) ++line;
      FUZZ_ASSERT(s.verdict == V::damaged);
      FUZZ_ASSERT(s.damage_file == "notes.log" && s.damage_offset == offs[line]);
      break;
    }
    case flip_chk:  // one changed byte of notes.chk: damage, never a torn tail
    case cut_log:   // a log shorter than its commits: damage
    case erase_log:
      FUZZ_ASSERT(s.verdict == V::damaged);
      break;
    case insert_log:  // unless the insertion only moved bytes to the end (junk after it)
      if (log.compare(0, log_committed, committed_log) != 0)
        FUZZ_ASSERT(s.verdict == V::damaged);
      break;
    case cut_chk: {  // at most the last commit is lost, to the side file
      if (s.verdict != V::damaged && commits > 1)
        FUZZ_ASSERT(s.log_keep >= commit_log_end[commits - 2]);
      break;
    }
    case append_log:
    case append_chk:  // junk after the last commit: damage only past the committed bytes
      if (s.verdict == V::damaged)
        FUZZ_ASSERT(s.damage_offset >= (s.damage_file == "notes.log" ? log_committed
                                                                     : chk_committed));
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  raw(data, size);
  built(data, size);
  return 0;
}
