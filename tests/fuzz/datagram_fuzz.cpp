// datagram_fuzz.cpp — libFuzzer target for what a UDP datagram meets first: the plain-note
// validator (checked against a slow reference decoder written here, for every max size), the
// marked-datagram parser (parse → append → parse gives the same fields), and the marked
// replies (format → parse round trip on values derived from the input, and the 64-byte cap).
// Build: make build/fuzz/datagram   Run: build/fuzz/datagram tests/fuzz/corpus/datagram
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../../common/protocol.hpp"
#include "fuzz_assert.hpp"

namespace {

// A plain, slow reading of the note rules of protocol.hpp: decode each code point, then
// classify it. Independent of the fast path and of the lead-byte tables of the real one.
NoteCheck reference_validate(std::string_view s, size_t max_bytes) {
  if (s.empty()) return {NoteError::empty, 0};
  if (s.size() > max_bytes) return {NoteError::too_long, max_bytes};
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if (c >= 0xC0 && c < 0xE0) {
      cp = c & 0x1Fu;
      len = 2;
    } else if (c >= 0xE0 && c < 0xF0) {
      cp = c & 0x0Fu;
      len = 3;
    } else if (c >= 0xF0 && c < 0xF8) {
      cp = c & 0x07u;
      len = 4;
    } else {
      return {NoteError::bad_utf8, i};
    }
    if (s.size() - i < len) return {NoteError::bad_utf8, i};
    for (size_t k = 1; k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return {NoteError::bad_utf8, i};
      cp = cp << 6 | (d & 0x3Fu);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return {NoteError::bad_utf8, i};
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return {NoteError::control_char, i};
    if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069))
      return {NoteError::display_hazard, i};
    i += len;
  }
  return {};
}

void check_plain(std::string_view in) {
  std::string_view note = strip_one_newline(in);
  FUZZ_ASSERT(note.data() == in.data());
  size_t cut = in.size() - note.size();
  if (in.size() >= 2 && in.substr(in.size() - 2) == "\r\n")
    FUZZ_ASSERT(cut == 2);
  else if (!in.empty() && in.back() == '\n')
    FUZZ_ASSERT(cut == 1);
  else
    FUZZ_ASSERT(cut == 0);

  for (size_t max : {size_t{0}, size_t{1}, size_t{7}, size_t{64}, size_t{4096}, SIZE_MAX}) {
    NoteCheck got = validate_note(note, max);
    NoteCheck want = reference_validate(note, max);
    if (got.error != want.error || got.at != want.at) {
      std::fprintf(stderr, "validate_note(max %zu): got %d at %zu, reference %d at %zu\n", max,
                   static_cast<int>(got.error), got.at, static_cast<int>(want.error),
                   want.at);
      std::abort();
    }
    if (!got.ok()) {
      FUZZ_ASSERT(got.at <= note.size() || got.error == NoteError::too_long);
      std::string reason = note_error_reason(got, max);
      FUZZ_ASSERT(!reason.empty() && reason.size() <= 50);
      FUZZ_ASSERT(4 + reason.size() + 1 <= kMaxUdpReply);  // "ERR <reason>\n"
    }
  }
}

void check_marked(std::string_view in) {
  auto m = parse_marked(in);
  if (!is_marked(in)) FUZZ_ASSERT(!m);
  if (!m) return;
  FUZZ_ASSERT(!m->notes.empty() && m->notes.size() <= kMaxMarkedNotes);
  FUZZ_ASSERT(m->first >= 1 && m->floor >= 1 && m->floor <= m->first);
  FUZZ_ASSERT(m->first <= UINT64_MAX - m->notes.size());
  const char* lo = in.data();
  const char* hi = in.data() + in.size();
  for (std::string_view n : m->notes) {
    FUZZ_ASSERT(n.data() >= lo && n.data() + n.size() <= hi);  // views into the datagram
    FUZZ_ASSERT(n.find('\n') == std::string_view::npos);
    (void)validate_note(n, 4096);
  }

  std::string out;
  append_marked(out, m->client_id, m->floor, m->first, m->notes);
  auto again = parse_marked(out);
  FUZZ_ASSERT(again.has_value());
  FUZZ_ASSERT(again->client_id == m->client_id);
  FUZZ_ASSERT(again->floor == m->floor);
  FUZZ_ASSERT(again->first == m->first);
  FUZZ_ASSERT(again->notes == m->notes);  // an empty last note too
  // and the datagram append_marked writes is its canonical form: parse → append is stable
  std::string out2;
  append_marked(out2, again->client_id, again->floor, again->first, again->notes);
  FUZZ_ASSERT(out2 == out);
}

// Reads little-endian bytes from the input, zero past its end.
struct Reader {
  std::string_view s;
  size_t pos = 0;
  uint64_t u64(size_t nbytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < nbytes; ++i, ++pos)
      v |= static_cast<uint64_t>(pos < s.size() ? static_cast<unsigned char>(s[pos]) : 0)
           << (8 * i);
    return v;
  }
};

// A number of the size a reply may carry: small, middle or up to UINT64_MAX.
uint64_t shaped(Reader& r) {
  uint64_t sel = r.u64(1) % 4;
  if (sel == 0) return r.u64(1);
  if (sel == 1) return r.u64(3);
  if (sel == 2) return r.u64(8);
  return UINT64_MAX - r.u64(1);
}

std::string unlimited_reply(const MarkedReply& r) {
  auto hex = [](uint64_t v) {
    char b[17];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return std::string(b);
  };
  switch (r.kind) {
    case MarkedReply::Kind::wait: return "WAIT " + std::to_string(r.first);
    case MarkedReply::Kind::err: return "ERR " + std::to_string(r.first) + " " + r.reason;
    case MarkedReply::Kind::ok: {
      std::string s = "OK " + std::to_string(r.first) + " " + std::to_string(r.count) + " " +
                      std::to_string(r.seq);
      if (r.refused_mask) s += " " + hex(r.refused_mask) + " " + r.reason;
      return s;
    }
  }
  return {};
}

void check_replies(std::string_view in) {
  Reader rd{in};
  MarkedReply r;
  r.kind = static_cast<MarkedReply::Kind>(rd.u64(1) % 3);
  r.first = shaped(rd);
  if (r.kind == MarkedReply::Kind::ok) {
    r.count = shaped(rd);
    r.seq = shaped(rd);
    r.refused_mask = rd.u64(1) & 1 ? shaped(rd) : 0;
  }
  if (r.kind != MarkedReply::Kind::wait) {
    // a reason of printable ASCII that starts with a non-space, as the server writes them
    size_t len = rd.u64(1) % 70;
    for (size_t i = 0; i < len; ++i) {
      char c = static_cast<char>(0x20 + rd.u64(1) % 95);
      if (r.reason.empty() && c == ' ') c = 'x';
      r.reason += c;
    }
    if (r.kind == MarkedReply::Kind::ok && !r.refused_mask) r.reason.clear();
  }
  std::string s = format_marked_reply(r);
  FUZZ_ASSERT(!s.empty() && s.size() <= kMaxUdpReply && s.back() == '\n');
  FUZZ_ASSERT(s.find('\n') == s.size() - 1);
  std::string full = unlimited_reply(r);
  if (full.size() + 1 <= kMaxUdpReply) {
    FUZZ_ASSERT(s == full + "\n");
    auto p = parse_marked_reply(s);
    FUZZ_ASSERT(p.has_value());
    FUZZ_ASSERT(p->kind == r.kind);
    FUZZ_ASSERT(p->first == r.first);
    FUZZ_ASSERT(p->count == r.count);
    FUZZ_ASSERT(p->seq == r.seq);
    FUZZ_ASSERT(p->refused_mask == r.refused_mask);
    FUZZ_ASSERT(p->reason == r.reason);
  } else {
    FUZZ_ASSERT(s.size() == kMaxUdpReply);
    FUZZ_ASSERT(s == full.substr(0, kMaxUdpReply - 1) + "\n");
    (void)parse_marked_reply(s);
  }

  // Arbitrary bytes as a reply: no crash, and what parses keeps its numbers through a
  // format/parse cycle when nothing is cut.
  auto p = parse_marked_reply(in);
  if (p) {
    std::string f = format_marked_reply(*p);
    FUZZ_ASSERT(f.size() <= kMaxUdpReply);
    if (unlimited_reply(*p).size() + 1 <= kMaxUdpReply) {
      auto q = parse_marked_reply(f);
      FUZZ_ASSERT(q.has_value());
      FUZZ_ASSERT(q->kind == p->kind);
      FUZZ_ASSERT(q->first == p->first);
      FUZZ_ASSERT(q->count == p->count);
      FUZZ_ASSERT(q->seq == p->seq);
      FUZZ_ASSERT(q->refused_mask == p->refused_mask);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_plain(in);
  check_marked(in);
  check_replies(in);
  return 0;
}
