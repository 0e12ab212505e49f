// store_scan.cpp — recovery rules (see store.hpp for the files):
//  * records are verified in order: the line must sit at the running offset, end in '\n',
//    match the crc, and carry a seq above the previous one;
//  * after the last verified record, the rest of notes.log is a torn tail when it holds only
//    note lines that parse (written, never committed) and at most one partial line; a partial
//    record at the end of notes.chk is torn too;
//  * records that point past the end of notes.log, with nothing verified after them, are a
//    torn tail (the log lost its end, e.g. power loss under --fsync never);
//  * anything else — a record that fails while a later one verifies, a line that does not
//    parse — is damage: the start is refused with the byte offset, --repair quarantines.
#include "store_scan.hpp"

#include <cstring>
#include <optional>
#include <unordered_map>

#include "../common/crc32c.hpp"
#include "../common/protocol.hpp"

namespace {

void put_u64(unsigned char* p, uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u32(unsigned char* p, uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint64_t get_u64(const unsigned char* p) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
uint32_t get_u32(const unsigned char* p) noexcept {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

const unsigned char* rec_ptr(std::string_view chk, size_t i) noexcept {
  return reinterpret_cast<const unsigned char*>(chk.data()) + i * kRecordSize;
}

// Does record r describe a line of log that verifies? (Not checking order.)
bool line_verifies(std::string_view log, const StoreRecord& r) noexcept {
  if (r.length < 2 || r.offset > log.size() || r.length > log.size() - r.offset) return false;
  std::string_view line = log.substr(r.offset, r.length);
  return line.back() == '\n' && record_crc(r, line) == r.crc;
}

bool beyond_end(std::string_view log, const StoreRecord& r) noexcept {
  return r.offset > log.size() || r.length > log.size() - r.offset;
}

// Parses the note lines of log[from..): every complete line must be a note with seq above
// `seq`; a last line without '\n' is allowed when allow_partial. Returns the offset of the
// first bad line, or npos.
size_t check_lines(std::string_view log, size_t from, uint64_t seq, bool allow_partial,
                   std::vector<uint64_t>* offsets, std::vector<uint64_t>* seqs) {
  size_t pos = from;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    if (nl == std::string_view::npos) return allow_partial ? std::string_view::npos : pos;
    auto n = parse_note_line(log.substr(pos, nl - pos));
    if (!n || n->seq <= seq) return pos;
    seq = n->seq;
    if (offsets) offsets->push_back(pos);
    if (seqs) seqs->push_back(seq);
    pos = nl + 1;
  }
  return std::string_view::npos;
}

bool looks_like_note_start(std::string_view s) noexcept {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i > 0 && s[0] != '0' && (i == s.size() || s[i] == '\t');
}

}  // namespace

void encode_record(const StoreRecord& r, unsigned char out[kRecordSize]) noexcept {
  put_u64(out, r.seq);
  put_u64(out + 8, r.offset);
  put_u32(out + 16, r.length);
  put_u32(out + 20, r.crc);
  put_u64(out + 24, r.client_id);
  put_u64(out + 32, r.msg);
}

StoreRecord decode_record(const unsigned char in[kRecordSize]) noexcept {
  StoreRecord r;
  r.seq = get_u64(in);
  r.offset = get_u64(in + 8);
  r.length = get_u32(in + 16);
  r.crc = get_u32(in + 20);
  r.client_id = get_u64(in + 24);
  r.msg = get_u64(in + 32);
  return r;
}

uint32_t record_crc(const StoreRecord& r, std::string_view line) noexcept {
  StoreRecord z = r;
  z.crc = 0;
  unsigned char buf[kRecordSize];
  encode_record(z, buf);
  return crc32c(crc32c(0, line.data(), line.size()), buf, kRecordSize);
}

StoreRecord make_record(uint64_t seq, uint64_t offset, std::string_view line,
                        uint64_t client_id, uint64_t msg) noexcept {
  StoreRecord r{seq, offset, static_cast<uint32_t>(line.size()), 0, client_id, msg};
  r.crc = record_crc(r, line);
  return r;
}

ScanResult scan_store(std::string_view log, std::string_view chk) {
  ScanResult s;
  const size_t nrec = chk.size() / kRecordSize;
  if (nrec == 0) {
    // No records (a new store, or notes.chk lost): the lines themselves are checked.
    s.rebuilt = !log.empty();
    size_t bad = check_lines(log, 0, 0, false, &s.offsets, &s.seqs);
    if (bad != std::string_view::npos) {
      // A last line without '\n' is a torn tail — after good lines, or alone when it starts
      // like a note line (digits, then a tab or nothing more: the first write of a new store,
      // cut short). Anything else is damage, so a file that is not ours is never cut.
      bool last_partial = log.find('\n', bad) == std::string_view::npos &&
                          (bad > 0 || looks_like_note_start(log));
      if (!last_partial) {
        s.verdict = ScanResult::Verdict::damaged;
        s.damage_offset = bad;
        s.damage_what = bad == 0 ? "the first line is not a dailynet note line"
                                 : "a line that is not a note line, or a seq out of order";
        return s;
      }
      s.verdict = ScanResult::Verdict::torn;
      s.log_keep = bad;
    } else {
      s.log_keep = log.size();
    }
    s.client_ids.assign(s.offsets.size(), 0);
    s.msgs.assign(s.offsets.size(), 0);
    if (chk.size() % kRecordSize) s.verdict = ScanResult::Verdict::torn;
    s.chk_keep = 0;
    return s;
  }

  uint64_t expect = 0, last_seq = 0;
  size_t i = 0;
  for (; i < nrec; ++i) {
    StoreRecord r = decode_record(rec_ptr(chk, i));
    if (r.offset != expect || r.seq <= last_seq || !line_verifies(log, r)) break;
    s.offsets.push_back(r.offset);
    s.seqs.push_back(r.seq);
    s.client_ids.push_back(r.client_id);
    s.msgs.push_back(r.msg);
    expect += r.length;
    last_seq = r.seq;
  }
  s.log_keep = expect;
  s.chk_keep = i * kRecordSize;

  if (i < nrec) {
    // A failing record is a torn tail only if the log lost its end: the record sits where
    // the chain says, its line runs past the end of notes.log, at most a partial line is
    // left there, and every later record chains on past the end too. Anything else (a
    // flipped offset or length, say) is damage: an intact last note is never cut.
    bool torn = log.find('\n', expect) == std::string_view::npos;
    uint64_t chain = expect;
    for (size_t j = i; j < nrec && torn; ++j) {
      StoreRecord r = decode_record(rec_ptr(chk, j));
      torn = r.offset == chain && beyond_end(log, r);
      chain = r.offset + r.length;
    }
    if (!torn) {
      s.verdict = ScanResult::Verdict::damaged;
      s.damage_offset = expect;
      s.damage_what = "the note after seq " + std::to_string(last_seq) +
                      " does not match its check record (record " + std::to_string(i + 1) +
                      " of notes.chk): one of the two files was changed";
      return s;
    }
  }
  size_t bad = check_lines(log, expect, last_seq, true, nullptr, nullptr);
  if (bad != std::string_view::npos) {
    s.verdict = ScanResult::Verdict::damaged;
    s.damage_offset = bad;
    s.damage_what = "bytes after the last committed note are not note lines";
    return s;
  }
  if (i < nrec || expect < log.size() || chk.size() % kRecordSize)
    s.verdict = ScanResult::Verdict::torn;
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
  by_seq.reserve(nrec);
  for (size_t i = 0; i < nrec; ++i) {
    StoreRecord r = decode_record(rec_ptr(chk, i));
    by_seq.emplace(r.seq, r);
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
  size_t pos = 0;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    if (nl == std::string_view::npos) break;
    std::string_view line = log.substr(pos, nl + 1 - pos);
    size_t tab = line.find('\t');
    auto seq = tab == std::string_view::npos ? std::nullopt : parse_u64(line.substr(0, tab));
    bool keep = false;
    uint64_t cid = 0, msg = 0;
    if (seq && *seq > last_seq) {
      if (nrec > 0) {
        auto it = by_seq.find(*seq);
        if (it != by_seq.end() && vouches(it->second, line, *seq, pos)) {
          keep = true;
          cid = it->second.client_id;
          msg = it->second.msg;
        } else if (line_no < nrec) {
          StoreRecord r = decode_record(rec_ptr(chk, line_no));
          if (vouches(r, line, *seq, pos)) {
            keep = true;
            cid = r.client_id;
            msg = r.msg;
          }
        }
      } else {
        keep = parse_note_line(line.substr(0, line.size() - 1)).has_value();
      }
    }
    if (keep) {
      if (pos > cursor) out.damaged.append(log.substr(cursor, pos - cursor));
      StoreRecord r = make_record(*seq, out.log.size(), line, cid, msg);
      unsigned char buf[kRecordSize];
      encode_record(r, buf);
      out.chk.append(reinterpret_cast<const char*>(buf), kRecordSize);
      out.log.append(line);
      cursor = nl + 1;
      last_seq = *seq;
      ++out.kept;
    }
    pos = nl + 1;
    ++line_no;
  }
  if (cursor < log.size()) out.damaged.append(log.substr(cursor));
  return out;
}
