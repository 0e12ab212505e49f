// protocol.hpp — the wire formats of SPEC.md as pure functions: note validation, the note
// line, RFC 3339 times, TCP commands, and the official client's marked UDP datagrams.
// No I/O here; everything is unit-tested in tests/unit/protocol_test.cpp.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters.hpp"
#include "net.hpp"

// ---- notes -------------------------------------------------------------------------------

enum class NoteError { ok, empty, too_long, bad_utf8, control_char, display_hazard };

struct NoteCheck {
  NoteError error = NoteError::ok;
  size_t at = 0;  // byte offset of the offending byte (bad_utf8, control_char, display_hazard)
  bool ok() const noexcept { return error == NoteError::ok; }
};

// Drops one trailing "\n" or "\r\n" (and nothing else): what a datagram carries becomes a note.
std::string_view strip_one_newline(std::string_view s) noexcept;

// A note must be non-empty, at most max_bytes, valid UTF-8 (no overlongs, surrogates or
// truncated sequences), and free of C0 (TAB included), DEL, C1, U+2028/2029 and the
// bidirectional controls U+202A–202E, U+2066–2069.
NoteCheck validate_note(std::string_view note, size_t max_bytes) noexcept;

// The reply text after "ERR " for a refused note, at most 50 bytes: e.g. "note too long (max
// 4096 bytes)", "invalid UTF-8 at byte 3".
std::string note_error_reason(const NoteCheck& c, size_t max_bytes);

// Fixed refusal reasons (after "ERR ").
inline constexpr std::string_view kReasonRateLimited = "rate limited";
inline constexpr std::string_view kReasonStoreUnavailable = "store unavailable";
inline constexpr size_t kMaxUdpReply = 64;

// ---- times -------------------------------------------------------------------------------

// Milliseconds since the Unix epoch, UTC, as "2026-11-24T08:15:30.123Z" (kTimeLen bytes).
inline constexpr size_t kTimeLen = 24;
void format_time_ms(int64_t ms, char out[kTimeLen]) noexcept;
std::optional<int64_t> parse_time_ms(std::string_view s) noexcept;

// ---- note lines --------------------------------------------------------------------------
// The wire and store line: "SEQ\tTIME\tADDR\tTEXT\n", e.g.
//   "7\t2026-11-24T08:15:30.123Z\t127.0.0.1:40522\tbought milk\n"

struct NoteLine {
  uint64_t seq = 0;
  std::string_view time;  // as written
  std::string_view addr;  // as written, "IP:PORT" or "[V6]:PORT"
  std::string_view text;
};

// Appends one note line (with its '\n') to out.
void append_note_line(std::string& out, uint64_t seq, int64_t time_ms, std::string_view addr,
                      std::string_view text);

// Parses one line without its '\n'. Strict: every field must be well formed and the text
// a valid note (of any length). nullopt when anything is off.
std::optional<NoteLine> parse_note_line(std::string_view line) noexcept;

// Splits "IP:PORT" / "[V6]:PORT" text (as in note lines) into the IP text, without brackets.
std::string_view addr_ip_part(std::string_view addr) noexcept;

// ---- TCP commands ------------------------------------------------------------------------

inline constexpr size_t kMaxCommandLine = 1024;  // bytes, without the terminator

struct Command {
  enum class Kind { history, clients, follow, stats, ping, quit } kind = Kind::ping;
  Filters filters;     // HISTORY and FOLLOW (filters.hpp)
  bool hosts = false;  // CLIENTS HOSTS: one line per IP
};

struct ParsedCommand {
  std::optional<Command> command;  // set when the line is a valid command
  std::string error;               // otherwise the reason, for "ERR <reason>"
};

// Parses one line without its terminator (a trailing '\r' is dropped here). Case-insensitive
// words, separated by spaces or tabs. An all-blank line yields neither command nor error.
ParsedCommand parse_command(std::string_view line);

// ---- marked datagrams (the official client) ----------------------------------------------
// A marked datagram starts with the byte 0x01, which no valid plain note can start with
// (it is a C0 control character). Its first line is a header, then the notes, one per line:
//   "\x01" "DN1 <client-id: 16 hex> <floor> <first>\n" "note one\n" "note two"
// client-id is random per client run; notes carry message numbers first, first+1, ...;
// floor (>= 1, <= first) means "every message below this number is settled for me" (see
// udp_intake.cpp); a server that does not know the client id starts it at floor.
// One '\n' after the last note is dropped (append_marked writes it, so an empty last note
// survives). At most kMaxMarkedNotes notes per datagram.

inline constexpr unsigned char kMarkByte = 0x01;
inline constexpr size_t kMaxMarkedNotes = 64;

struct Marked {
  uint64_t client_id = 0;
  uint64_t floor = 0;
  uint64_t first = 0;
  std::vector<std::string_view> notes;
};

bool is_marked(std::string_view datagram) noexcept;
// nullopt when the header or note count is malformed.
std::optional<Marked> parse_marked(std::string_view datagram);
// The header line alone (with its '\n'), floor in 1..first; the notes follow, each ending
// in '\n'. The client builds its datagrams with it, one note at a time.
void append_marked_header(std::string& out, uint64_t client_id, uint64_t floor, uint64_t first);
// Header plus notes; the caller keeps the result under the datagram size it wants.
void append_marked(std::string& out, uint64_t client_id, uint64_t floor, uint64_t first,
                   const std::vector<std::string_view>& notes);

// Replies to a marked datagram (each ends in '\n', at most kMaxUdpReply bytes):
//   "OK <first> <count> <seq>"                  notes first..first+count-1 stored as seq, seq+1…
//   "OK <first> <count> <seq> <mask> <reason>"  same, but notes whose bit is set in the hex
//                                               mask (bit i = note first+i) were refused;
//                                               the others were stored in order from seq
//   "WAIT <next>"                               out of order: send from message <next> on
//   "ERR <first> <reason>"                      nothing from this datagram was taken;
//                                               retrying later may succeed (rate, store)
struct MarkedReply {
  enum class Kind { ok, wait, err } kind = Kind::ok;
  uint64_t first = 0;  // ok, err: the first message number; wait: the expected one
  uint64_t count = 0;
  uint64_t seq = 0;
  uint64_t refused_mask = 0;
  std::string reason;
};
std::string format_marked_reply(const MarkedReply& r);

// The seq arithmetic of a run (an "OK" reply, the exactly-once table): of messages
// first..first+63, those with their bit set in refused_mask were refused and the others stored
// in order from first_seq. stored_below(mask, i) counts the stored ones among the first i
// (i 0..64); message first+i, if stored, got seq_in_run(first_seq, mask, i).
constexpr uint64_t stored_below(uint64_t refused_mask, unsigned i) noexcept {
  uint64_t below = i >= 64 ? ~uint64_t{0} : (uint64_t{1} << i) - 1;
  return static_cast<uint64_t>(std::popcount(~refused_mask & below));
}
constexpr uint64_t seq_in_run(uint64_t first_seq, uint64_t refused_mask, unsigned i) noexcept {
  return first_seq + stored_below(refused_mask, i);
}
std::optional<MarkedReply> parse_marked_reply(std::string_view s);
