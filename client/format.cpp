// format.cpp — see format.hpp.
#include "format.hpp"

#include <time.h>

#include <cassert>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "../common/net.hpp"
#include "../common/protocol.hpp"
#include "../common/text.hpp"
#include "../common/utf8.hpp"
#include "color.hpp"

namespace client {

namespace {

// Escaped wherever text reaches a terminal or JSON: C1 and the display hazards the server
// refuses (cp >= 0x80 here: C0 and DEL are handled as bytes before decoding).
inline bool escaped(uint32_t cp) noexcept {
  return utf8::is_control(cp) || utf8::is_display_hazard(cp);
}

void append_byte_escape(std::string& out, unsigned char c) {
  out += "\\x";
  append_hex(out, c, 2);
}

// Four hex digits, as in \uXXXX (every code point escaped here is below U+10000).
void append_u4(std::string& out, uint32_t cp) {
  assert(cp <= 0xFFFF);
  append_hex(out, cp, 4);
}

void pad_to(std::string& out, size_t have, size_t width) {
  if (have < width) out.append(width - have, ' ');
}

std::vector<std::string_view> split_tabs(std::string_view s) {
  std::vector<std::string_view> f;
  size_t pos = 0;
  while (true) {
    size_t t = s.find('\t', pos);
    f.push_back(s.substr(pos, t == std::string_view::npos ? t : t - pos));
    if (t == std::string_view::npos) break;
    pos = t + 1;
  }
  return f;
}

std::string safe(std::string_view s) {
  std::string o;
  append_terminal_safe(o, s);
  return o;
}

// A tsv line to a terminal: every field made safe, the tabs between them kept.
void append_safe_tsv(std::string& out, std::string_view line) {
  bool first = true;
  for (std::string_view f : split_tabs(line)) {
    if (!first) out += '\t';
    first = false;
    append_terminal_safe(out, f);
  }
}

bool all_digits(std::string_view s) noexcept {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool terminal_safe(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7F) {
      ++i;
      continue;
    }
    uint32_t cp;
    size_t len = c < 0x80 ? 0 : utf8::decode(p + i, n - i, cp);
    if (len == 0 || escaped(cp)) return false;
    i += len;
  }
  return true;
}

void append_terminal_safe(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7F) {
      size_t j = i + 1;
      while (j < n && p[j] >= 0x20 && p[j] < 0x7F) ++j;
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {  // C0 or DEL
      append_byte_escape(out, c);
      ++i;
      continue;
    }
    uint32_t cp;
    size_t len = utf8::decode(p + i, n - i, cp);
    if (len == 0) {
      append_byte_escape(out, c);
      ++i;
    } else if (escaped(cp)) {
      out += "\\u{";
      append_u4(out, cp);
      out += '}';
      i += len;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      size_t j = i + 1;
      while (j < n && p[j] >= 0x20 && p[j] < 0x7F && p[j] != '"' && p[j] != '\\') ++j;
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u";
          append_u4(out, c);
      }
      continue;
    }
    uint32_t cp;
    size_t len = utf8::decode(p + i, n - i, cp);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
    } else if (escaped(cp)) {
      out += "\\u";
      append_u4(out, cp);
      i += len;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  out += '"';
}

std::string local_time(std::string_view rfc3339) {
  auto ms = parse_time_ms(rfc3339);
  if (!ms) return safe(rfc3339);
  time_t secs = static_cast<time_t>(*ms / 1000);
  tm t{};
  if (!localtime_r(&secs, &t)) return safe(rfc3339);
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &t);
  return std::string(buf, n);
}

std::string group_thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i >= lead && i > 0 && (i - lead) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// ---- NotePrinter ---------------------------------------------------------------------------

uint64_t NotePrinter::add(std::string_view line, std::string& out) {
  if (format_ == Format::tsv && !terminal_) {
    // Into a file or a pipe: the wire line as it came, unparsed, which is what scripts want
    // (and fast); only the seq is read, for follow's resume and the count.
    out.append(line);
    out += '\n';
    size_t tab = line.find('\t');
    auto seq = tab == std::string_view::npos || tab == 0 ? std::nullopt
                                                           : parse_u64(line.substr(0, tab));
    if (!seq || *seq == 0) return 0;
    ++notes_;
    last_seq_ = *seq;
    return *seq;
  }
  auto n = parse_note_line(line);
  if (!n) {
    // Not a note line: shown visibly (never raw to a terminal), left out of json.
    if (format_ == Format::json) return 0;
    if (format_ == Format::tsv && !terminal_) {
      out.append(line);
      out += '\n';
      return 0;
    }
    if (!held_.empty()) flush(out);
    if (format_ == Format::tsv)
      append_safe_tsv(out, line);
    else
      append_terminal_safe(out, line);
    out += '\n';
    return 0;
  }
  ++notes_;
  last_seq_ = n->seq;
  switch (format_) {
    case Format::tsv:
      // A parsed line is terminal-safe: the server-side checks hold for every field.
      out.append(line);
      out += '\n';
      break;
    case Format::json:
      out += "{\"seq\":";
      append_u64(out, n->seq);
      out += ",\"time\":";
      append_json_string(out, n->time);
      out += ",\"from\":";
      append_json_string(out, n->addr);
      out += ",\"text\":";
      append_json_string(out, n->text);
      out += "}\n";
      break;
    case Format::text: {
      Row r{local_time(n->time), std::to_string(n->seq), display_addr(n->addr, names_),
            std::string(n->text)};
      if (held_.size() < hold_) {
        held_.push_back(std::move(r));
        if (held_.size() == hold_) flush(out);
      } else {
        emit(r, out);
      }
      break;
    }
  }
  return n->seq;
}

void NotePrinter::flush(std::string& out) {
  for (const Row& r : held_) {
    if (r.seq.size() > seq_w_) seq_w_ = r.seq.size();
    if (r.addr.size() > addr_w_) addr_w_ = r.addr.size();
  }
  for (const Row& r : held_) emit(r, out);
  held_.clear();
  hold_ = 0;  // from now on rows stream
}

void NotePrinter::emit(const Row& r, std::string& out) {
  if (r.seq.size() > seq_w_) seq_w_ = r.seq.size();
  if (r.addr.size() > addr_w_) addr_w_ = r.addr.size();
  // The fields are escaped already; colour goes around them, padding outside it.
  append_colored(out, color_, kSgrDim, r.time);
  out += "  ";
  pad_to(out, r.seq.size(), seq_w_);
  append_colored(out, color_, kSgrYellow, r.seq);
  out += "  ";
  append_colored(out, color_, kSgrCyan, r.addr);
  pad_to(out, r.addr.size(), addr_w_);
  out += "  ";
  out += r.text;
  out += '\n';
}

// ---- CLIENTS and STATS ---------------------------------------------------------------------

void render_clients(const std::vector<std::string>& lines, Format format, bool terminal,
                    std::string& out, bool color, const NameOf& names) {
  color = color && format == Format::text;
  if (format == Format::tsv) {
    for (const std::string& l : lines) {
      if (terminal) append_safe_tsv(out, l);
      else out += l;
      out += '\n';
    }
    return;
  }
  struct Row {
    std::string addr, notes, first, last, ports;
  };
  std::vector<Row> rows;
  bool hosts = false;
  for (const std::string& l : lines) {
    auto f = split_tabs(l);
    if (f.size() != 4 && f.size() != 5) {
      if (format == Format::text) rows.push_back({safe(l), "", "", "", ""});
      continue;
    }
    hosts = f.size() == 5;
    if (format == Format::json) {
      out += hosts ? "{\"ip\":" : "{\"addr\":";
      append_json_string(out, f[0]);
      auto number = [&out](const char* key, std::string_view v) {
        out += key;
        if (all_digits(v)) out.append(v);
        else append_json_string(out, v);
      };
      number(",\"notes\":", f[1]);
      out += ",\"first\":";
      append_json_string(out, f[2]);
      out += ",\"last\":";
      append_json_string(out, f[3]);
      if (hosts) number(",\"ports\":", f[4]);
      out += "}\n";
      continue;
    }
    std::string who = hosts ? display_ip(f[0], names) : display_addr(f[0], names);
    rows.push_back({safe(who), safe(f[1]), local_time(f[2]), local_time(f[3]),
                    hosts ? safe(f[4]) : std::string()});
  }
  if (format == Format::json) return;
  if (rows.empty()) {  // a heading alone would not say whether it is CLIENT or HOST
    out += "no notes yet\n";
    return;
  }
  size_t aw = 6, nw = 5, fw = 19, lw = 19;
  for (const Row& r : rows) {
    aw = std::max(aw, r.addr.size());
    nw = std::max(nw, r.notes.size());
    fw = std::max(fw, r.first.size());
    lw = std::max(lw, r.last.size());
  }
  auto row = [&](const Row& r, bool heading) {
    if (heading && color) out.append(kSgrDim);
    append_colored(out, color && !heading, kSgrCyan, r.addr);
    pad_to(out, r.addr.size(), aw);
    out += "  ";
    pad_to(out, r.notes.size(), nw);
    out += r.notes;
    out += "  ";
    out += r.first;
    pad_to(out, r.first.size(), fw);
    out += "  ";
    out += r.last;
    if (hosts) {
      pad_to(out, r.last.size(), lw);
      out += "  ";
      pad_to(out, r.ports.size(), 5);
      out += r.ports;
    }
    if (heading && color) out.append(kSgrReset);
    out += '\n';
  };
  row({hosts ? "HOST" : "CLIENT", "NOTES", "FIRST", "LAST", "PORTS"}, true);
  for (const Row& r : rows) row(r, false);
}

void render_stats(const std::vector<std::string>& lines, Format format, bool terminal,
                  std::string& out) {
  std::vector<std::pair<std::string_view, std::string_view>> kv;
  for (const std::string& l : lines) {
    std::string_view s = l;
    size_t sp = s.find(' ');
    kv.emplace_back(s.substr(0, sp),
                    sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1));
  }
  if (format == Format::json) {
    out += '{';
    bool first = true;
    for (auto& [k, v] : kv) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
      if (all_digits(v)) out.append(v);
      else append_json_string(out, v);
    }
    out += "}\n";
    return;
  }
  size_t w = 0;
  for (auto& [k, v] : kv) w = std::max(w, k.size());
  for (auto& [k, v] : kv) {
    if (format == Format::tsv && !terminal) {
      out.append(k);
      out += '\t';
      out.append(v);
    } else {
      std::string sk = safe(k);
      out += sk;
      out += format == Format::tsv ? std::string("\t") : std::string(w + 2 - k.size(), ' ');
      append_terminal_safe(out, v);
    }
    out += '\n';
  }
}

}  // namespace client
