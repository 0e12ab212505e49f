// protocol.cpp — see protocol.hpp for the formats.
#include "protocol.hpp"

#include <cassert>
#include <cstring>

#include "text.hpp"
#include "utf8.hpp"

// ---- notes -------------------------------------------------------------------------------

std::string_view strip_one_newline(std::string_view s) noexcept {
  if (!s.empty() && s.back() == '\n') {
    s.remove_suffix(1);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  }
  return s;
}

NoteCheck validate_note(std::string_view note, size_t max_bytes) noexcept {
  if (note.empty()) return {NoteError::empty, 0};
  if (note.size() > max_bytes) return {NoteError::too_long, max_bytes};
  const auto* p = reinterpret_cast<const unsigned char*>(note.data());
  const size_t n = note.size();
  size_t i = 0;
  while (i < n) {
    // Fast path: eight printable ASCII bytes at a time.
    while (i + 8 <= n) {
      uint64_t v;
      std::memcpy(&v, p + i, 8);
      // any byte >= 0x80, < 0x20 or == 0x7F leaves the fast path
      uint64_t high = v & 0x8080808080808080ull;
      uint64_t low = (v - 0x2020202020202020ull) & ~v & 0x8080808080808080ull;
      uint64_t del = ((v ^ 0x7F7F7F7F7F7F7F7Full) - 0x0101010101010101ull) &
                     ~(v ^ 0x7F7F7F7F7F7F7F7Full) & 0x8080808080808080ull;
      if (high | low | del) break;
      i += 8;
    }
    if (i >= n) break;
    uint32_t cp;
    size_t len = utf8::decode(p + i, n - i, cp);
    if (len == 0) return {NoteError::bad_utf8, i};
    if (utf8::is_control(cp)) return {NoteError::control_char, i};
    if (utf8::is_display_hazard(cp)) return {NoteError::display_hazard, i};
    i += len;
  }
  return {};
}

std::string note_error_reason(const NoteCheck& c, size_t max_bytes) {
  switch (c.error) {
    case NoteError::ok: return "ok";
    case NoteError::empty: return "empty note";
    case NoteError::too_long: return "note too long (max " + std::to_string(max_bytes) + " bytes)";
    case NoteError::bad_utf8: return "invalid UTF-8 at byte " + std::to_string(c.at);
    case NoteError::control_char: return "control character at byte " + std::to_string(c.at);
    case NoteError::display_hazard:
      return "line separator or bidi control at byte " + std::to_string(c.at);
  }
  return "refused";
}

// ---- times -------------------------------------------------------------------------------

namespace {

// Days since 1970-01-01 to civil date (Howard Hinnant's algorithm).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

inline void put2(char* o, unsigned v) noexcept {
  o[0] = static_cast<char>('0' + v / 10);
  o[1] = static_cast<char>('0' + v % 10);
}

bool digits(std::string_view s, size_t pos, size_t n, unsigned& out) noexcept {
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

}  // namespace

void format_time_ms(int64_t ms, char out[kTimeLen]) noexcept {
  if (ms < 0) ms = 0;
  int64_t secs = ms / 1000;
  unsigned milli = static_cast<unsigned>(ms % 1000);
  int64_t days = secs / 86400;
  unsigned sod = static_cast<unsigned>(secs % 86400);
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y > 9999) y = 9999;
  unsigned yy = static_cast<unsigned>(y);
  put2(out, yy / 100);
  put2(out + 2, yy % 100);
  out[4] = '-';
  put2(out + 5, m);
  out[7] = '-';
  put2(out + 8, d);
  out[10] = 'T';
  put2(out + 11, sod / 3600);
  out[13] = ':';
  put2(out + 14, sod / 60 % 60);
  out[16] = ':';
  put2(out + 17, sod % 60);
  out[19] = '.';
  out[20] = static_cast<char>('0' + milli / 100);
  put2(out + 21, milli % 100);
  out[23] = 'Z';
}

std::optional<int64_t> parse_time_ms(std::string_view s) noexcept {
  if (s.size() != kTimeLen || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != '.' || s[23] != 'Z')
    return std::nullopt;
  unsigned y, mo, d, h, mi, se, ms;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) ||
      !digits(s, 11, 2, h) || !digits(s, 14, 2, mi) || !digits(s, 17, 2, se) ||
      !digits(s, 20, 3, ms))
    return std::nullopt;
  static const unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return std::nullopt;
  if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;  // no 2023-02-29
  int64_t days = days_from_civil(y, mo, d);
  return ((days * 86400 + h * 3600 + mi * 60 + se) * 1000) + ms;
}

// ---- note lines --------------------------------------------------------------------------

void append_note_line(std::string& out, uint64_t seq, int64_t time_ms, std::string_view addr,
                      std::string_view text) {
  char head[32];
  char* e = head + sizeof head;
  char* b = e;
  do {
    *--b = static_cast<char>('0' + seq % 10);
    seq /= 10;
  } while (seq);
  size_t old = out.size();
  out.resize(old + static_cast<size_t>(e - b) + 1 + kTimeLen + 1 + addr.size() + 1 +
             text.size() + 1);
  char* o = out.data() + old;
  std::memcpy(o, b, static_cast<size_t>(e - b));
  o += e - b;
  *o++ = '\t';
  format_time_ms(time_ms, o);
  o += kTimeLen;
  *o++ = '\t';
  std::memcpy(o, addr.data(), addr.size());
  o += addr.size();
  *o++ = '\t';
  std::memcpy(o, text.data(), text.size());
  o += text.size();
  *o = '\n';
}

std::string_view addr_ip_part(std::string_view addr) noexcept {
  if (!addr.empty() && addr.front() == '[') {
    size_t close = addr.find(']');
    return close == std::string_view::npos ? addr : addr.substr(1, close - 1);
  }
  size_t colon = addr.rfind(':');
  return colon == std::string_view::npos ? addr : addr.substr(0, colon);
}

std::optional<NoteLine> parse_note_line(std::string_view line) noexcept {
  size_t t1 = line.find('\t');
  if (t1 == std::string_view::npos) return std::nullopt;
  size_t t2 = line.find('\t', t1 + 1);
  if (t2 == std::string_view::npos) return std::nullopt;
  size_t t3 = line.find('\t', t2 + 1);
  if (t3 == std::string_view::npos) return std::nullopt;
  NoteLine n;
  std::string_view seq = line.substr(0, t1);
  if (seq.empty() || seq[0] == '0') return std::nullopt;
  auto s = parse_u64(seq);
  if (!s) return std::nullopt;
  n.seq = *s;
  n.time = line.substr(t1 + 1, t2 - t1 - 1);
  if (!parse_time_ms(n.time)) return std::nullopt;
  n.addr = line.substr(t2 + 1, t3 - t2 - 1);
  if (n.addr.size() > 60 || !parse_endpoint(n.addr)) return std::nullopt;
  n.text = line.substr(t3 + 1);
  if (!validate_note(n.text, SIZE_MAX).ok()) return std::nullopt;
  return n;
}

// ---- TCP commands ------------------------------------------------------------------------

namespace {

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

}  // namespace

ParsedCommand parse_command(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto w = split_words(line);
  ParsedCommand r;
  if (w.empty()) return r;
  static constexpr struct {
    std::string_view name;
    Command::Kind kind;
  } kNames[] = {{"HISTORY", Command::Kind::history}, {"FOLLOW", Command::Kind::follow},
                {"CLIENTS", Command::Kind::clients}, {"STATS", Command::Kind::stats},
                {"PING", Command::Kind::ping},       {"QUIT", Command::Kind::quit}};
  Command c;
  std::string_view upper;
  for (const auto& n : kNames)
    if (iequals_ascii(w[0], n.name)) {
      c.kind = n.kind;
      upper = n.name;
    }
  if (upper.empty()) {
    r.error = "unknown command " + quote_word(w[0]) +
              " (try HISTORY, CLIENTS, FOLLOW, STATS, PING or QUIT)";
    return r;
  }
  if (c.kind == Command::Kind::history || c.kind == Command::Kind::follow) {
    // The filters are the rest of the line after the command word (MATCH takes it whole).
    size_t after = static_cast<size_t>(w[0].data() - line.data()) + w[0].size();
    std::string_view rest = line.substr(after);
    r.error = parse_filters(rest, upper, c.filters);
    if (r.error.empty()) r.command = c;
    return r;
  }
  for (size_t i = 1; i < w.size(); ++i) {
    if (c.kind != Command::Kind::clients) {
      r.error = std::string(upper) + " takes no arguments";
      return r;
    }
    if (!iequals_ascii(w[i], "HOSTS")) {
      r.error = "unknown option " + quote_word(w[i]) + " for CLIENTS (HOSTS)";
      return r;
    }
    if (c.hosts) {
      r.error = "HOSTS given twice";
      return r;
    }
    c.hosts = true;
  }
  r.command = c;
  return r;
}

// ---- marked datagrams --------------------------------------------------------------------

bool is_marked(std::string_view d) noexcept {
  return !d.empty() && static_cast<unsigned char>(d[0]) == kMarkByte;
}

std::optional<Marked> parse_marked(std::string_view d) {
  if (!is_marked(d)) return std::nullopt;
  size_t nl = d.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  auto w = split_words(d.substr(1, nl - 1));
  if (w.size() != 4 || w[0] != "DN1") return std::nullopt;
  auto id = parse_hex64(w[1]);
  auto floor = parse_u64(w[2]);
  auto first = parse_u64(w[3]);
  if (!id || !floor || !first || *floor == 0 || *floor > *first) return std::nullopt;
  Marked m{*id, *floor, *first, {}};
  std::string_view body = d.substr(nl + 1);
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  size_t pos = 0;
  while (true) {
    size_t e = body.find('\n', pos);
    m.notes.push_back(body.substr(pos, e == std::string_view::npos ? e : e - pos));
    if (m.notes.size() > kMaxMarkedNotes) return std::nullopt;
    if (e == std::string_view::npos) break;
    pos = e + 1;
  }
  if (*first > UINT64_MAX - m.notes.size()) return std::nullopt;
  return m;
}

void append_marked_header(std::string& out, uint64_t client_id, uint64_t floor,
                          uint64_t first) {
  assert(floor >= 1 && floor <= first);
  out += static_cast<char>(kMarkByte);
  out += "DN1 ";
  append_hex(out, client_id, 16);
  out += ' ';
  append_u64(out, floor);
  out += ' ';
  append_u64(out, first);
  out += '\n';
}

void append_marked(std::string& out, uint64_t client_id, uint64_t floor, uint64_t first,
                   const std::vector<std::string_view>& notes) {
  append_marked_header(out, client_id, floor, first);
  for (std::string_view n : notes) {  // every note ends in '\n', so an empty last one survives
    out += n;
    out += '\n';
  }
}

std::string format_marked_reply(const MarkedReply& r) {
  std::string s;
  switch (r.kind) {
    case MarkedReply::Kind::wait:
      s = "WAIT " + std::to_string(r.first);
      break;
    case MarkedReply::Kind::err:
      s = "ERR " + std::to_string(r.first) + " " + r.reason;
      break;
    case MarkedReply::Kind::ok:
      s = "OK " + std::to_string(r.first) + " " + std::to_string(r.count) + " " +
          std::to_string(r.seq);
      if (r.refused_mask) {
        s += ' ';
        append_hex(s, r.refused_mask, 1);
        s += ' ';
        s += r.reason;
      }
      break;
  }
  if (s.size() > kMaxUdpReply - 1) s.resize(kMaxUdpReply - 1);
  return s + '\n';
}

std::optional<MarkedReply> parse_marked_reply(std::string_view s) {
  s = strip_one_newline(s);
  auto w = split_words(s);
  if (w.empty()) return std::nullopt;
  MarkedReply r;
  auto num = [&](size_t i) { return i < w.size() ? parse_u64(w[i]) : std::nullopt; };
  auto rest_from = [&](size_t i) {
    if (i >= w.size()) return std::string();
    return std::string(s.substr(static_cast<size_t>(w[i].data() - s.data())));
  };
  if (w[0] == "WAIT") {
    auto n = num(1);
    if (!n || w.size() != 2) return std::nullopt;
    r.kind = MarkedReply::Kind::wait;
    r.first = *n;
    return r;
  }
  if (w[0] == "ERR") {
    r.kind = MarkedReply::Kind::err;
    auto n = num(1);
    if (n) {
      r.first = *n;
      r.reason = rest_from(2);
    } else {
      r.reason = rest_from(1);  // a plain "ERR <reason>", e.g. for a malformed datagram
    }
    return r;
  }
  if (w[0] != "OK" || w.size() < 4) return std::nullopt;
  auto f = num(1), c = num(2), q = num(3);
  if (!f || !c || !q) return std::nullopt;
  r.first = *f;
  r.count = *c;
  r.seq = *q;
  if (w.size() > 4) {
    auto mask = parse_hex64(w[4]);
    if (!mask) return std::nullopt;
    r.refused_mask = *mask;
    r.reason = rest_from(5);
  }
  return r;
}
