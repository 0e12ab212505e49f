// store_scan_test.cpp — server/store_scan: the recovery scanner and repair on hand-made
// notes.log / notes.chk byte strings: clean, torn tails of every kind, damage in the middle,
// garbage, empty and foreign files, a lost notes.chk; repair keeps every intact note.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../../common/protocol.hpp"
#include "../../server/store_scan.hpp"

namespace {

// A store built in memory the way Store::append writes one: each commit's lines share the
// TIME of their turn; its records are followed by a commit mark (unless legacy: a store from
// before marks).
struct Built {
  std::string log, chk;
  std::vector<uint64_t> offs;      // line offsets
  std::vector<uint64_t> recs;      // byte offset of each note's record in chk
  std::vector<std::string> lines;  // with '\n'
};

std::string record_bytes(const StoreRecord& r) {
  unsigned char buf[kRecordSize];
  encode_record(r, buf);
  return std::string(reinterpret_cast<const char*>(buf), kRecordSize);
}

std::string note_line(uint64_t seq, std::string_view text, std::string_view addr = "10.0.0.1:5",
                      int64_t commit = -1) {
  std::string l;
  append_note_line(l, seq, 1795508130123 + (commit < 0 ? static_cast<int64_t>(seq) : commit),
                   addr, text);
  return l;
}

// Commits of notes (their seqs), client id 7, message = seq + 100.
Built build_commits(const std::vector<std::vector<uint64_t>>& commits, bool legacy = false) {
  Built b;
  uint64_t floor = 0;
  for (size_t c = 0; c < commits.size(); ++c) {
    for (uint64_t s : commits[c]) {
      std::string l = note_line(s, "note number " + std::to_string(s), "10.0.0.1:5",
                                static_cast<int64_t>(c) * 1000);
      b.offs.push_back(b.log.size());
      b.recs.push_back(b.chk.size());
      b.chk += record_bytes(make_record(s, b.log.size(), l, 7, s + 100));
      b.log += l;
      b.lines.push_back(l);
      floor = std::max(floor, s);
    }
    if (!legacy)
      b.chk += record_bytes(
          make_mark(b.log.size(), static_cast<uint32_t>(commits[c].size()), floor));
  }
  return b;
}
// One note per commit, seqs as given.
Built build(const std::vector<uint64_t>& seqs, bool legacy = false) {
  std::vector<std::vector<uint64_t>> commits;
  for (uint64_t s : seqs) commits.push_back({s});
  return build_commits(commits, legacy);
}
Built build(size_t n, bool legacy = false) {
  std::vector<uint64_t> seqs;
  for (size_t i = 1; i <= n; ++i) seqs.push_back(i);
  return build(seqs, legacy);
}

using V = ScanResult::Verdict;

}  // namespace

TEST_CASE("store_scan: record encoding is 40 little-endian bytes") {
  StoreRecord r{0x0102030405060708ULL, 0x1112131415161718ULL, 0x21222324u, 0x31323334u,
                0x4142434445464748ULL, 0x5152535455565758ULL};
  unsigned char buf[kRecordSize];
  encode_record(r, buf);
  CHECK(buf[0] == 0x08);
  CHECK(buf[7] == 0x01);
  CHECK(buf[8] == 0x18);
  CHECK(buf[16] == 0x24);
  CHECK(buf[20] == 0x34);
  CHECK(buf[24] == 0x48);
  CHECK(buf[39] == 0x51);
  StoreRecord d = decode_record(buf);
  CHECK(d.seq == r.seq);
  CHECK(d.offset == r.offset);
  CHECK(d.length == r.length);
  CHECK(d.crc == r.crc);
  CHECK(d.client_id == r.client_id);
  CHECK(d.msg == r.msg);
  // the crc covers the line and every other field of the record
  std::string line = note_line(1, "x");
  StoreRecord m = make_record(1, 0, line, 0, 0);
  CHECK(m.length == line.size());
  CHECK(record_crc(m, line) == m.crc);
  StoreRecord m2 = m;
  m2.client_id = 1;
  CHECK(record_crc(m2, line) != m.crc);
  m2 = m;
  m2.offset = 1;
  CHECK(record_crc(m2, line) != m.crc);
  std::string other = line;
  other[other.size() - 2] = 'y';
  CHECK(record_crc(m, other) != m.crc);
}

TEST_CASE("store_scan: a clean store") {
  Built b = build(3);
  ScanResult s = scan_store(b.log, b.chk);
  CHECK(s.verdict == V::clean);
  CHECK(s.offsets == b.offs);
  CHECK(s.seqs == std::vector<uint64_t>{1, 2, 3});
  CHECK(s.client_ids == std::vector<uint64_t>{7, 7, 7});
  CHECK(s.msgs == std::vector<uint64_t>{101, 102, 103});
  CHECK(s.log_keep == b.log.size());
  CHECK(s.chk_keep == b.chk.size());
  CHECK(s.seq_floor == 3);
  CHECK_FALSE(s.needs_mark);
  CHECK_FALSE(s.rebuilt);
  CHECK(s.damage_what.empty());
  // A store from before commit marks is read the same way and gets a mark.
  Built l = build(3, true);
  s = scan_store(l.log, l.chk);
  CHECK(s.verdict == V::clean);
  CHECK(s.seqs == std::vector<uint64_t>{1, 2, 3});
  CHECK(s.needs_mark);
  CHECK(s.seq_floor == 3);
}

TEST_CASE("store_scan: seqs may have gaps but must rise") {
  Built b = build(std::vector<uint64_t>{1, 5, 9});
  ScanResult s = scan_store(b.log, b.chk);
  CHECK(s.verdict == V::clean);
  CHECK(s.seqs == std::vector<uint64_t>{1, 5, 9});
  Built d = build(std::vector<uint64_t>{1, 5, 5});
  s = scan_store(d.log, d.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_file == "notes.chk");
  CHECK(s.damage_offset == d.recs[2]);
}

TEST_CASE("store_scan: empty store") {
  ScanResult s = scan_store("", "");
  CHECK(s.verdict == V::clean);
  CHECK(s.offsets.empty());
  CHECK(s.log_keep == 0);
  CHECK(s.chk_keep == 0);
  CHECK_FALSE(s.rebuilt);
}

TEST_CASE("store_scan: torn partial last line") {
  Built b = build(3);
  std::string log = b.log + "4\t2026-11-24T08:1";
  ScanResult s = scan_store(log, b.chk);
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == b.log.size());
  CHECK(s.chk_keep == b.chk.size());
  CHECK(s.seqs == std::vector<uint64_t>{1, 2, 3});
  CHECK(s.seq_floor == 3);
  CHECK_FALSE(s.needs_mark);
}

TEST_CASE("store_scan: torn tail of complete but uncommitted lines (one commit)") {
  Built b = build_commits({{1}, {2}, {3}, {4, 5}});
  // lines 4 and 5 (one commit) written, their records never
  std::string chk = b.chk.substr(0, b.recs[3]);
  ScanResult s = scan_store(b.log, chk);
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == b.offs[3]);
  CHECK(s.chk_keep == b.recs[3]);
  CHECK(s.offsets.size() == 3);
  CHECK(s.seq_floor == 5);  // the cut lines' seqs are not given again
  CHECK(s.needs_mark);
  // and a partial sixth line after them
  s = scan_store(b.log + "6\t20", chk);
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == b.offs[3]);
  // the records written but not the mark: torn as well
  s = scan_store(b.log, b.chk.substr(0, b.chk.size() - kRecordSize));
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == b.offs[3]);
  CHECK(s.chk_keep == b.recs[3]);
  CHECK(s.seq_floor == 5);
}

TEST_CASE("store_scan: lines of more than one commit without records are damage") {
  Built b = build(5);  // one note per commit, each its own TIME
  std::string chk = b.chk.substr(0, b.recs[3]);  // notes.chk lost two commits
  ScanResult s = scan_store(b.log, chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_file == "notes.log");
  CHECK(s.damage_offset == b.offs[3]);
  // one commit lost: torn, and seq 5 is never given again
  s = scan_store(b.log, b.chk.substr(0, b.recs[4]));
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == b.offs[4]);
  CHECK(s.seq_floor == 5);
}

TEST_CASE("store_scan: torn partial record") {
  Built b = build(4);
  std::string chk = b.chk.substr(0, b.recs[3] + 17);
  ScanResult s = scan_store(b.log, chk);
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == b.offs[3]);
  CHECK(s.chk_keep == b.recs[3]);
  CHECK(s.seqs == std::vector<uint64_t>{1, 2, 3});
  // a partial record with every line committed
  Built c = build(3);
  s = scan_store(c.log, c.chk + std::string(5, '\0'));
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == c.log.size());
  CHECK(s.chk_keep == c.chk.size());
}

TEST_CASE("store_scan: zeros after the last commit are a torn tail, in either file") {
  Built b = build(3);
  ScanResult s = scan_store(b.log + std::string(100, '\0'), b.chk);
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == b.log.size());
  s = scan_store(b.log, b.chk + std::string(3 * kRecordSize, '\0'));
  CHECK(s.verdict == V::torn);
  CHECK(s.chk_keep == b.chk.size());
  s = scan_store(b.log + std::string(77, '\0'), b.chk + std::string(81, '\0'));
  CHECK(s.verdict == V::torn);
  CHECK(s.seqs == std::vector<uint64_t>{1, 2, 3});
  // both files nothing but zeros: nothing says a commit completed, nothing to keep: damage
  s = scan_store(std::string(200, '\0'), std::string(4 * kRecordSize, '\0'));
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == 0);
}

TEST_CASE("store_scan: a log shorter than its committed records is damage") {
  Built b = build(5);
  std::string log = b.log.substr(0, b.offs[3]);  // lines 4 and 5 lost
  ScanResult s = scan_store(log, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_file == "notes.log");
  CHECK(s.damage_offset == b.offs[3]);
  CHECK(s.damage_what == "notes.log ends at byte " + std::to_string(b.offs[3]) +
                             " but record 7 of notes.chk holds committed note seq 4 at byte " +
                             std::to_string(b.offs[3]) + ": the log is shorter than its check "
                             "records say (emptied, truncated or replaced?)");
  // the log lost its end in the middle of line 5: the last commit is not all there
  s = scan_store(b.log.substr(0, b.offs[4] + 9), b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == b.offs[4] + 9);
  // emptied: nothing is blamed on a note that does not exist
  s = scan_store("", b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == 0);
  CHECK(s.damage_what.find("notes.log ends at byte 0") == 0);
  // one commit of three notes, emptied: still damage (its mark says it completed)
  Built one = build_commits({{1, 2, 3}});
  s = scan_store("", one.chk);
  CHECK(s.verdict == V::damaged);
  // a store from before marks: at most its last record may be torn
  Built l = build(5, true);
  s = scan_store(l.log.substr(0, l.offs[4]), l.chk);
  CHECK(s.verdict == V::torn);
  CHECK(s.seqs.size() == 4);
  s = scan_store(l.log.substr(0, l.offs[3]), l.chk);
  CHECK(s.verdict == V::damaged);
}

TEST_CASE("store_scan: a log replaced by another valid log is damage at byte 0") {
  Built b = build(5);
  std::string other = note_line(1, "another store", "10.0.0.9:1") +
                      note_line(2, "another store", "10.0.0.9:1");
  ScanResult s = scan_store(other, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_file == "notes.log");
  CHECK(s.damage_offset == 0);
}

TEST_CASE("store_scan: a flipped byte in the middle is damage at that line") {
  Built b = build(5);
  std::string log = b.log;
  log[b.offs[2] + b.lines[2].size() - 3] ^= 0x01;  // inside the text of seq 3
  ScanResult s = scan_store(log, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == b.offs[2]);
  CHECK(s.damage_what == "the line at byte " + std::to_string(b.offs[2]) +
                             " does not match record 5 of notes.chk (seq 3): one of the two "
                             "files was changed");
  CHECK(s.seqs == std::vector<uint64_t>{1, 2});

  // in the first line
  log = b.log;
  log[3] ^= 0x20;
  s = scan_store(log, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == 0);
  CHECK(s.damage_what == "the line at byte 0 does not match record 1 of notes.chk (seq 1): "
                        "one of the two files was changed");

  // in the last committed line: not a torn tail, its record is there
  log = b.log;
  log[b.offs[4] + 5] ^= 0x04;
  s = scan_store(log, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == b.offs[4]);

  // a line's '\n' turned into a printable byte
  log = b.log;
  log[b.offs[2] - 1] = 'X';
  s = scan_store(log, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == b.offs[1]);
}

TEST_CASE("store_scan: a flipped byte in notes.chk is damage at its line") {
  Built b = build(4);
  for (size_t field : {0u, 8u, 16u, 20u, 24u, 32u}) {
    CAPTURE(field);
    std::string chk = b.chk;
    chk[b.recs[1] + field] ^= 0x01;  // the record of seq 2
    ScanResult s = scan_store(b.log, chk);
    CHECK(s.verdict == V::damaged);
    CHECK(((s.damage_file == "notes.log" && s.damage_offset == b.offs[1]) ||
           (s.damage_file == "notes.chk" && s.damage_offset == b.recs[1])));
  }
}

TEST_CASE("store_scan: a truncated middle line is damage at that line") {
  Built b = build(4);
  std::string log = b.log;
  log.erase(b.offs[1] + 10, 6);
  ScanResult s = scan_store(log, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == b.offs[1]);
  // a middle line missing entirely
  log = b.log;
  log.erase(b.offs[1], b.lines[1].size());
  s = scan_store(log, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == b.offs[1]);
}

TEST_CASE("store_scan: whatever follows the last commit in notes.log is a torn tail") {
  Built b = build(3);
  for (const std::string& tail :
       {std::string("garbage\n"), std::string("\0\0\0\0\n", 5), note_line(2, "again"),
        note_line(4, "ok") + "junk\n"}) {
    CAPTURE(tail);
    ScanResult s = scan_store(b.log + tail, b.chk);
    CHECK(s.verdict == V::torn);
    CHECK(s.log_keep == b.log.size());
    CHECK(s.seqs == std::vector<uint64_t>{1, 2, 3});
  }
  // seq 4 was on a cut line: never given again
  CHECK(scan_store(b.log + note_line(4, "ok") + "junk\n", b.chk).seq_floor == 4);
  CHECK(scan_store(b.log + "garbage\n", b.chk).seq_floor == 3);
}

TEST_CASE("store_scan: a file that is not ours") {
  ScanResult s = scan_store("Dear diary,\ntoday I wrote a server.\n", "");
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == 0);
  CHECK(s.damage_what == "the first line is not a dailynet note line");
  s = scan_store("hello", "");
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == 0);
  // with a check file of garbage whose records point inside the log
  std::string chk(kRecordSize, '\0');
  s = scan_store("Dear diary,\n", chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == 0);
}

TEST_CASE("store_scan: no notes.chk, records are rebuilt from the lines") {
  Built b = build(std::vector<uint64_t>{1, 2, 7});
  ScanResult s = scan_store(b.log, "");
  CHECK(s.verdict == V::clean);
  CHECK(s.rebuilt);
  CHECK(s.offsets == b.offs);
  CHECK(s.seqs == std::vector<uint64_t>{1, 2, 7});
  CHECK(s.client_ids == std::vector<uint64_t>{0, 0, 0});
  CHECK(s.msgs == std::vector<uint64_t>{0, 0, 0});
  CHECK(s.log_keep == b.log.size());
  CHECK(s.chk_keep == 0);

  // a torn last line
  s = scan_store(b.log + "8\t2026", "");
  CHECK(s.verdict == V::torn);
  CHECK(s.rebuilt);
  CHECK(s.log_keep == b.log.size());
  CHECK(s.seqs.size() == 3);

  // a partial first record only: still rebuilt, and torn
  s = scan_store(b.log, std::string(10, 'x'));
  CHECK(s.verdict == V::torn);
  CHECK(s.rebuilt);
  CHECK(s.log_keep == b.log.size());
  CHECK(s.seqs.size() == 3);

  // a bad line in the middle
  std::string log = b.log;
  log[b.offs[1] + 3] = 'x';  // breaks the time of seq 2
  s = scan_store(log, "");
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == b.offs[1]);
  CHECK(s.damage_what.find(" is not a note line, or its seq does not rise") != std::string::npos);

  // seqs out of order
  Built o = build(std::vector<uint64_t>{1, 3, 2});
  s = scan_store(o.log, "");
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == o.offs[2]);
}

// ---- repair ------------------------------------------------------------------------------

namespace {

// A repaired store must scan clean, keep `kept` notes and carry the given seqs.
void check_repaired(const RepairResult& r, const std::vector<uint64_t>& seqs) {
  CHECK(r.kept == seqs.size());
  ScanResult s = scan_store(r.log, r.chk);
  CHECK(s.verdict == V::clean);
  CHECK(s.seqs == seqs);
  CHECK(s.chk_keep == (seqs.size() + 1) * kRecordSize);  // the records and one mark
  CHECK(s.log_keep == r.log.size());
  CHECK(r.seq_floor >= (seqs.empty() ? 0 : seqs.back()));
}

// b's note records without its marks, then one mark: what repair writes for b.
std::string repaired_chk(const Built& b, uint64_t floor) {
  std::string out;
  for (uint64_t at : b.recs) out += b.chk.substr(at, kRecordSize);
  return out + record_bytes(make_mark(b.log.size(), static_cast<uint32_t>(b.recs.size()), floor));
}

}  // namespace

TEST_CASE("store_scan: repair of a flipped byte moves exactly that line") {
  Built b = build(5);
  std::string log = b.log;
  log[b.offs[2] + 4] ^= 0x01;
  RepairResult r = repair_store(log, b.chk);
  check_repaired(r, {1, 2, 4, 5});
  CHECK(r.damaged == log.substr(b.offs[2], b.lines[2].size()));
  CHECK(r.log == b.lines[0] + b.lines[1] + b.lines[3] + b.lines[4]);
  CHECK(r.log.size() + r.damaged.size() == log.size());
  // client ids and message numbers survive
  ScanResult s = scan_store(r.log, r.chk);
  CHECK(s.client_ids == std::vector<uint64_t>{7, 7, 7, 7});
  CHECK(s.msgs == std::vector<uint64_t>{101, 102, 104, 105});
}

TEST_CASE("store_scan: repair of garbage appended") {
  Built b = build(3);
  std::string log = b.log + "garbage\nmore";
  RepairResult r = repair_store(log, b.chk);
  check_repaired(r, {1, 2, 3});
  CHECK(r.log == b.log);
  CHECK(r.damaged == "garbage\nmore");
}

TEST_CASE("store_scan: repair of a clean store changes nothing") {
  Built b = build(4);
  RepairResult r = repair_store(b.log, b.chk);
  check_repaired(r, {1, 2, 3, 4});
  CHECK(r.log == b.log);
  CHECK(r.chk == repaired_chk(b, 4));
  CHECK(r.damaged.empty());
}

TEST_CASE("store_scan: repair without notes.chk keeps the lines that parse") {
  Built b = build(4);
  std::string log = b.log;
  log[b.offs[1] + 3] = 'x';
  RepairResult r = repair_store(log, "");
  check_repaired(r, {1, 3, 4});
  CHECK(r.damaged == log.substr(b.offs[1], b.lines[1].size()));
  CHECK(r.log.size() + r.damaged.size() == log.size());
  // a file that is not ours: everything is moved aside
  r = repair_store("Dear diary,\nhello\n", "");
  CHECK(r.kept == 0);
  CHECK(r.log.empty());
  CHECK(r.chk.empty());
  CHECK(r.damaged == "Dear diary,\nhello\n");
}

TEST_CASE("store_scan: repair of a damaged record keeps the other notes") {
  Built b = build(4);
  std::string chk = b.chk;
  chk[b.recs[2] + 20] ^= 0x10;  // crc of seq 3
  RepairResult r = repair_store(b.log, chk);
  // By the documented rule a note is kept only when its line verifies against its record,
  // so the (intact) line of seq 3 goes to the side file with its broken record.
  check_repaired(r, {1, 2, 4});
  CHECK(r.damaged == b.lines[2]);
  CHECK(r.log.size() + r.damaged.size() == b.log.size());
}

TEST_CASE("store_scan: repair of a truncated middle line keeps every intact note") {
  // Regression (fixed in a0728f8): the lines after the damage are intact but sit a few
  // bytes earlier than their records say; repair used to look for a line only at its
  // record's offset and moved every later note to the side file.
  Built b = build(4);
  std::string log = b.log;
  log.erase(b.offs[1] + 10, 6);
  RepairResult r = repair_store(log, b.chk);
  check_repaired(r, {1, 3, 4});
  std::string cut = b.lines[1];
  cut.erase(10, 6);
  CHECK(r.damaged == cut);
}

TEST_CASE("store_scan: repair of garbage inserted in the middle keeps every intact note") {
  // Regression, same cause as above: the notes after "junk\n" are intact but shifted.
  Built b = build(4);
  std::string log = b.log;
  log.insert(b.offs[2], "junk\n");
  ScanResult s = scan_store(log, b.chk);
  CHECK(s.verdict == V::damaged);
  CHECK(s.damage_offset == b.offs[2]);
  RepairResult r = repair_store(log, b.chk);
  check_repaired(r, {1, 2, 3, 4});
  CHECK(r.damaged == "junk\n");
}

// ---- regressions -------------------------------------------------------------------------

TEST_CASE("store_scan: a flipped offset in the last record is damage, not a torn tail") {
  // Regression (fixed in a0728f8): one bit flipped in the offset (or length) field of the
  // last record sent it past the end of notes.log; the scanner took it for a lost log tail,
  // called the store torn and cut the last note, complete and intact.
  Built b = build(3);
  for (size_t field : {8u + 7u, 16u + 3u}) {  // top byte of offset, top byte of length
    CAPTURE(field);
    std::string chk = b.chk;
    chk[b.recs[2] + field] ^= 0x40;
    ScanResult s = scan_store(b.log, chk);
    CHECK(s.verdict == V::damaged);
    CHECK(((s.damage_file == "notes.log" && s.damage_offset == b.offs[2]) ||
           (s.damage_file == "notes.chk" && s.damage_offset == b.recs[2])));
  }
}

TEST_CASE("store_scan: a torn first line of a new store is a torn tail") {
  // Regression (fixed in a0728f8): the very first write of a new store, torn (part of one
  // line, no record) was called damage and the server refused to start; SPEC: a torn last
  // line is cut off and reported. A file that is not ours stays damage (tested above).
  Built b = build(1);
  std::string log = b.log.substr(0, 20);  // "1\t2026-11-24T08:15:3"
  ScanResult s = scan_store(log, "");
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == 0);
  CHECK(s.offsets.empty());
  // with its record written but not its commit mark, and the line cut: torn
  s = scan_store(log, b.chk.substr(0, kRecordSize));
  CHECK(s.verdict == V::torn);
  CHECK(s.log_keep == 0);
  // with the mark too, the commit completed: a log that lost it is damage
  CHECK(scan_store(log, b.chk).verdict == V::damaged);
}

TEST_CASE("store_scan: repair keeps a line whose record lost only its seq, offset or length") {
  // The crc covers the line and every record field, so a flipped seq, offset or length is
  // proven by trying the values the line itself gives; a flipped crc, client id or message
  // number cannot be, and that line goes aside with its record.
  Built b = build(4);
  for (size_t field : {0u, 8u, 16u}) {
    CAPTURE(field);
    std::string chk = b.chk;
    chk[b.recs[2] + field] ^= 0x02;  // the record of seq 3
    CHECK(scan_store(b.log, chk).verdict == V::damaged);
    RepairResult r = repair_store(b.log, chk);
    check_repaired(r, {1, 2, 3, 4});
    CHECK(r.log == b.log);
    CHECK(r.chk == repaired_chk(b, 4));  // the record comes back as written
    CHECK(r.damaged.empty());
  }
  for (size_t field : {20u, 24u, 32u}) {
    CAPTURE(field);
    std::string chk = b.chk;
    chk[b.recs[2] + field] ^= 0x02;
    RepairResult r = repair_store(b.log, chk);
    check_repaired(r, {1, 2, 4});
    CHECK(r.damaged == b.lines[2]);
  }
}
