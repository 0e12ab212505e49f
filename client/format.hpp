// format.hpp — how the client prints what the server sends: note lines in text (local time,
// aligned, for people), tsv (the wire line) or json (one object per line), the CLIENTS and
// STATS replies, and the escaping that keeps a terminal safe from whatever bytes a server
// returns. Pure string building: callers own the output and write it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "names.hpp"

#include "options.hpp"

namespace client {

// Appends s with every byte that could act on a terminal shown visibly instead: C0 and DEL as
// \xNN (TAB too), C1, U+2028/2029 and the bidi controls as \u{XXXX}, invalid UTF-8 bytes as
// \xNN. Valid printable UTF-8 (CJK, emoji) passes unchanged.
void append_terminal_safe(std::string& out, std::string_view s);
// True when append_terminal_safe would change nothing.
bool terminal_safe(std::string_view s) noexcept;

// Appends s as a JSON string literal, quotes included: ", \ and control characters escaped,
// U+2028/2029 and bidi controls as \uXXXX (valid JSON, and inert in a terminal), invalid UTF-8
// bytes as \ufffd. Valid UTF-8 passes through.
void append_json_string(std::string& out, std::string_view s);

// "2026-11-24T08:15:30.123Z" (UTC) as local time "2026-11-24 09:15:30"; the input, made
// terminal-safe, when it is not such a time.
std::string local_time(std::string_view rfc3339);

// 1024 -> "1,024"
std::string group_thousands(uint64_t n);

// Renders note lines (the wire format "SEQ\tTIME\tADDR\tTEXT", without '\n') one at a time.
// In text format the columns are aligned: rows are held back until `hold` of them are known
// (or flush()), then printed with widths that only grow afterwards. tsv and json rows go out
// at once. `terminal` asks for terminal-safe output (tsv to a terminal is escaped too).
class NotePrinter {
 public:
  NotePrinter(Format format, bool terminal, size_t hold = 0)
      : format_(format), terminal_(terminal), hold_(hold) {}

  // Appends the rendering of one line to out (or holds it). Returns the seq of a well-formed
  // note line, 0 for a line that is not one (printed escaped in text and tsv, skipped in json).
  uint64_t add(std::string_view line, std::string& out);
  // Colours text rows (time dim, seq and sender each in a colour) around the escaped fields.
  // Off by default; see color.hpp for when to turn it on.
  void set_color(bool on) noexcept { color_ = on && format_ == Format::text; }
  // Text format only: shows each sender as its name where `names` has one (names.hpp).
  void set_names(NameOf names) { names_ = format_ == Format::text ? std::move(names) : NameOf(); }
  // Emits held rows.
  void flush(std::string& out);
  size_t notes() const noexcept { return notes_; }
  uint64_t last_seq() const noexcept { return last_seq_; }

 private:
  struct Row {
    std::string time, seq, addr, text;  // already escaped
  };
  void emit(const Row& r, std::string& out);

  Format format_;
  bool terminal_;
  bool color_ = false;
  NameOf names_;
  size_t hold_;
  std::vector<Row> held_;
  size_t seq_w_ = 1, addr_w_ = 9;
  size_t notes_ = 0;
  uint64_t last_seq_ = 0;
};

// CLIENTS reply lines ("ADDR\tNOTES\tFIRST\tLAST", END excluded) in the chosen format;
// CLIENTS HOSTS lines carry a fifth field, PORTS ("ports" in json, a PORTS column in text).
// color (text only): the heading dim, the addresses in the sender colour. names (text
// only): addresses shown as names where there is one. No lines: "no notes yet" in text,
// nothing in tsv and json.
void render_clients(const std::vector<std::string>& lines, Format format, bool terminal,
                    std::string& out, bool color = false, const NameOf& names = {});
// STATS reply lines ("name value", END excluded) in the chosen format.
void render_stats(const std::vector<std::string>& lines, Format format, bool terminal,
                  std::string& out);

}  // namespace client
