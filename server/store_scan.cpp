// store_scan.cpp — recovery and repair rules over bytes; the rules are stated in
// store_scan.hpp, the format in store_format.hpp.
#include "store_scan.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "../common/protocol.hpp"

namespace {

constexpr size_t npos = std::string_view::npos;

StoreRecord rec_at(std::string_view chk, size_t i) noexcept {
  return decode_record(reinterpret_cast<const unsigned char*>(chk.data()) + i * kRecordSize);
}

bool beyond_end(std::string_view log, const StoreRecord& r) noexcept {
  return r.offset > log.size() || r.length > log.size() - r.offset;
}

// Does note record r describe a line of log that verifies? (Not checking order.)
bool line_verifies(std::string_view log, const StoreRecord& r) noexcept {
  if (r.length < 2 || beyond_end(log, r)) return false;
  std::string_view line = log.substr(r.offset, r.length);
  return line.back() == '\n' && record_crc(r, line) == r.crc;
}

// The note lines of log[from..) that can not be checked against records: every complete line
// must be a note with a rising seq above `seq`; a last line without '\n' is allowed when
// allow_partial. Returns the offset of the first bad line, or npos.
size_t check_lines(std::string_view log, size_t from, uint64_t seq, bool allow_partial,
                   std::vector<uint64_t>* offsets, std::vector<uint64_t>* seqs) {
  size_t pos = from;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    if (nl == npos) return allow_partial ? npos : pos;
    auto n = parse_note_line(log.substr(pos, nl - pos));
    if (!n || n->seq <= seq) return pos;
    seq = n->seq;
    if (offsets) offsets->push_back(pos);
    if (seqs) seqs->push_back(seq);
    pos = nl + 1;
  }
  return npos;
}

bool looks_like_note_start(std::string_view s) noexcept {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i > 0 && s[0] != '0' && (i == s.size() || s[i] == '\t');
}

// What the bytes of notes.log after the boundary hold: note lines of how many TIMEs, and the
// seq floor raised over lines that continue the seqs (a cut line's seq is not given again).
struct LogTail {
  bool several_commits = false;  // note lines with two different TIMEs
  uint64_t floor = 0;
};
LogTail inspect_log_tail(std::string_view log, size_t from, uint64_t floor) {
  LogTail t{false, floor};
  std::optional<std::string_view> time;
  for (size_t pos = from, nl; pos < log.size(); pos = nl + 1) {
    nl = log.find('\n', pos);
    if (nl == npos) break;
    auto n = parse_note_line(log.substr(pos, nl - pos));
    if (!n) continue;
    if (time && *time != n->time) t.several_commits = true;
    time = n->time;
    if (n->seq == t.floor + 1) t.floor = n->seq;
  }
  return t;
}

void set_damage(ScanResult& s, const char* file, uint64_t offset, std::string what) {
  s.verdict = ScanResult::Verdict::damaged;
  s.damage_file = file;
  s.damage_offset = offset;
  s.damage_what = std::move(what);
}

// The damage found at record f (the first that does not verify), in words that are true.
void describe_failure(ScanResult& s, std::string_view log, size_t f, const StoreRecord& r,
                      uint64_t expect, uint64_t last_seq) {
  const std::string rec = "record " + std::to_string(f + 1) + " of notes.chk";
  const std::string end = "notes.log ends at byte " + std::to_string(log.size());
  if (is_mark(r)) {
    if (r.offset > log.size())
      set_damage(s, "notes.log", log.size(),
                 end + " but " + rec + " marks a commit that ended at byte " +
                     std::to_string(r.offset) + ": the log is shorter than its check records "
                     "say (emptied, truncated or replaced?)");
    else
      set_damage(s, "notes.chk", f * kRecordSize,
                 rec + " marks a commit ending at byte " + std::to_string(r.offset) +
                     " of notes.log, but the notes before it end at byte " +
                     std::to_string(expect));
  } else if (r.offset == expect && r.seq > last_seq && beyond_end(log, r) &&
             log.find('\n', expect) == npos) {  // no whole line there: the log lost it
    set_damage(s, "notes.log", log.size(),
               end + " but " + rec + " holds committed note seq " + std::to_string(r.seq) +
                   " at byte " + std::to_string(r.offset) + ": the log is shorter than its "
                   "check records say (emptied, truncated or replaced?)");
  } else if (r.offset == expect && r.seq > last_seq) {
    set_damage(s, "notes.log", expect,
               "the line at byte " + std::to_string(expect) + " does not match " + rec +
                   " (seq " + std::to_string(r.seq) + "): one of the two files was changed");
  } else if (r.seq == 0 && r.offset == 0 && r.length == 0 && r.crc == 0 && r.msg == 0) {
    set_damage(s, "notes.chk", f * kRecordSize, rec + " is all zeros");
  } else if (r.seq == 0) {
    set_damage(s, "notes.chk", f * kRecordSize,
               rec + ", a commit mark, is damaged (its check value does not match)");
  } else {
    set_damage(s, "notes.chk", f * kRecordSize,
               rec + " does not follow the one before it (it names seq " +
                   std::to_string(r.seq) + " at byte " + std::to_string(r.offset) +
                   "; the next note after seq " + std::to_string(last_seq) +
                   " starts at byte " + std::to_string(expect) + ")");
  }
}

// notes.chk empty: a new store, or a lost notes.chk. The lines are checked instead.
ScanResult scan_without_records(std::string_view log, std::string_view chk) {
  ScanResult s;
  s.rebuilt = !log.empty();
  size_t bad = check_lines(log, 0, 0, false, &s.offsets, &s.seqs);
  s.log_keep = log.size();
  if (bad != npos) {
    // A last line without '\n' is a torn tail — after good lines, or alone when it starts
    // like a note line (the first write of a new store, cut short). Anything else is
    // damage, so a file that is not ours is never cut.
    bool last_partial =
        log.find('\n', bad) == npos && (bad > 0 || looks_like_note_start(log));
    if (!last_partial) {
      set_damage(s, "notes.log", bad,
                 bad == 0 ? "the first line is not a dailynet note line"
                          : "the line at byte " + std::to_string(bad) +
                                " is not a note line, or its seq does not rise");
      return s;
    }
    s.verdict = ScanResult::Verdict::torn;
    s.log_keep = bad;
  }
  if (!chk.empty()) s.verdict = ScanResult::Verdict::torn;  // a partial first record
  s.client_ids.assign(s.offsets.size(), 0);
  s.msgs.assign(s.offsets.size(), 0);
  s.seq_floor = s.seqs.empty() ? 0 : s.seqs.back();
  s.needs_mark = !s.offsets.empty();
  return s;
}

}  // namespace

ScanResult scan_store(std::string_view log, std::string_view chk) {
  const size_t nrec = chk.size() / kRecordSize;
  if (nrec == 0) return scan_without_records(log, chk);
  bool has_marks = false;
  for (size_t i = 0; i < nrec && !has_marks; ++i) has_marks = is_mark(rec_at(chk, i));

  ScanResult s;
  // The boundary: after the last complete commit (a verified mark; without marks, every
  // verified record). `kept` notes before it.
  size_t b_rec = 0, b_notes = 0;
  uint64_t b_log = 0, b_floor = 0;
  bool b_is_mark = false;
  uint64_t expect = 0, last_seq = 0, floor = 0;
  size_t f = 0;
  for (; f < nrec; ++f) {
    StoreRecord r = rec_at(chk, f);
    if (is_mark(r)) {
      if (r.offset != expect || r.client_id < last_seq) break;
      floor = std::max(floor, r.client_id);
      b_rec = f + 1, b_notes = s.offsets.size(), b_log = expect, b_floor = floor;
      b_is_mark = true;
      continue;
    }
    if (r.offset != expect || r.seq <= std::max(last_seq, floor) || !line_verifies(log, r))
      break;
    s.offsets.push_back(r.offset);
    s.seqs.push_back(r.seq);
    s.client_ids.push_back(r.client_id);
    s.msgs.push_back(r.msg);
    expect += r.length;
    last_seq = r.seq;
    if (!has_marks) {
      b_rec = f + 1, b_notes = s.offsets.size(), b_log = expect, b_floor = last_seq;
      b_is_mark = false;
    }
  }
  if (f < nrec) {
    // Something after the boundary does not verify. Torn only if it is at most one commit
    // that never completed: no well-formed mark from there on (without marks: only the last
    // record failed). Otherwise a commit that may have been acknowledged is not all there.
    // A damaged mark counts too: anything mark-like (its magic, or seq 0 with an offset at or past
    // the boundary) says a commit may have completed there. Zeros are not mark-like.
    bool later_mark = false;
    for (size_t j = b_rec; j < nrec && !later_mark; ++j) {
      StoreRecord r = rec_at(chk, j);
      later_mark = r.msg == kMarkMagic || (r.seq == 0 && r.offset >= b_log && r.offset > 0);
    }
    // Without marks: only the last record may fail, and a first record only when it points
    // past the end of the log (a torn first commit), never zeros or garbage.
    const StoreRecord fr = rec_at(chk, f);
    const bool legacy_torn =
        f + 1 == nrec && (f > 0 || (fr.offset == expect && beyond_end(log, fr)));
    if (later_mark || (!has_marks && !legacy_torn)) {
      describe_failure(s, log, f, fr, expect, std::max(last_seq, floor));
      return s;
    }
  }
  // Cut back to the boundary; what follows in either file is one commit at most.
  uint64_t torn_floor = b_floor;
  for (size_t i = b_notes; i < s.seqs.size(); ++i)
    if (s.seqs[i] == torn_floor + 1) torn_floor = s.seqs[i];
  s.offsets.resize(b_notes);
  s.seqs.resize(b_notes);
  s.client_ids.resize(b_notes);
  s.msgs.resize(b_notes);
  s.log_keep = b_log;
  s.chk_keep = b_rec * kRecordSize;
  LogTail tail = inspect_log_tail(log, b_log, torn_floor);
  if (tail.several_commits) {
    set_damage(s, "notes.log", b_log,
               "notes.log holds note lines of more than one commit after byte " +
                   std::to_string(b_log) + " (the end of the last commit in notes.chk): "
                   "notes.chk lacks their records (truncated or replaced?)");
    return s;
  }
  s.seq_floor = tail.floor;
  if (s.log_keep < log.size() || s.chk_keep < chk.size())
    s.verdict = ScanResult::Verdict::torn;
  // A mark at the end says where the kept notes end and the floor; write one when missing
  // (a store from before marks) or when a cut line raised the floor.
  s.needs_mark = s.seq_floor > b_floor || (!b_is_mark && s.seq_floor > 0);
  return s;
}

RepairResult repair_store(std::string_view log, std::string_view chk) {
  // Line by line, so that damage which shifts the rest of the file (a cut or an insertion)
  // costs only the damaged lines: a line is intact when the record of its seq verifies it
  // (the record's crc covers the line's bytes, wherever the line now sits), or, without
  // records, when it parses. Seqs must keep rising.
  RepairResult out;
  const size_t nrec = chk.size() / kRecordSize;
  std::unordered_map<uint64_t, StoreRecord> by_seq;
  std::vector<StoreRecord> notes;  // note records in file order (marks left out)
  by_seq.reserve(nrec);
  for (size_t i = 0; i < nrec; ++i) {
    StoreRecord r = rec_at(chk, i);
    if (is_mark(r)) {
      out.seq_floor = std::max(out.seq_floor, r.client_id);
      continue;
    }
    by_seq.emplace(r.seq, r);
    notes.push_back(r);
  }
  // Does record r (found by seq, or the line's own position in the file) vouch for line at
  // pos? Its crc covers the line and the record's fields; a flipped seq, offset or length
  // field is forgiven by trying the value the line itself says (the crc then proves both).
  auto vouches = [](StoreRecord r, std::string_view line, uint64_t seq, uint64_t pos) {
    const uint32_t crc = r.crc;
    const uint64_t stored_offset = r.offset;
    r.seq = seq;
    r.length = static_cast<uint32_t>(line.size());
    for (uint64_t off : {stored_offset, pos}) {
      r.offset = off;
      if (record_crc(r, line) == crc) return true;
    }
    return false;
  };
  size_t line_no = 0;
  uint64_t cursor = 0, last_seq = 0;  // cursor: first byte not yet kept or quarantined
  for (size_t pos = 0, nl; pos < log.size(); pos = nl + 1, ++line_no) {
    nl = log.find('\n', pos);
    if (nl == npos) break;
    std::string_view line = log.substr(pos, nl + 1 - pos);
    auto parsed = parse_note_line(line.substr(0, line.size() - 1));
    if (!parsed) continue;
    const uint64_t seq = parsed->seq;
    // A line that is gone to the side file still had its seq: never give it again.
    out.seq_floor = std::max(out.seq_floor, seq);
    if (seq <= last_seq) continue;
    const StoreRecord* vouching = nullptr;
    if (!notes.empty()) {
      auto it = by_seq.find(seq);
      if (it != by_seq.end() && vouches(it->second, line, seq, pos))
        vouching = &it->second;
      else if (line_no < notes.size() && vouches(notes[line_no], line, seq, pos))
        vouching = &notes[line_no];
      if (!vouching) continue;
    }
    if (pos > cursor) out.damaged.append(log.substr(cursor, pos - cursor));
    append_record(out.chk, make_record(seq, out.log.size(), line,
                                       vouching ? vouching->client_id : 0,
                                       vouching ? vouching->msg : 0));
    out.log.append(line);
    cursor = nl + 1;
    last_seq = seq;
    ++out.kept;
  }
  if (cursor < log.size()) out.damaged.append(log.substr(cursor));
  // Records whose lines are lost still gave their seqs (a store without marks has no floor
  // to say so): count the records whose seqs run on from 1, so garbage can not inflate it.
  uint64_t chain = 0;
  for (const StoreRecord& r : notes)
    if (r.seq == chain + 1) chain = r.seq;
  out.seq_floor = std::max(out.seq_floor, chain);
  out.seq_floor = std::max(out.seq_floor, last_seq);
  if (out.kept > 0 || out.seq_floor > 0)
    append_record(out.chk, make_mark(out.log.size(), static_cast<uint32_t>(out.kept),
                                     out.seq_floor));
  return out;
}
