// stats.hpp — Stats: the server's counters and gauges, reported by STATS as "name value"
// lines (then END) in the order of the tables below. Plain data; every component bumps its
// own counters; Server fills the gauges into a copy just before formatting.
//
// TO ADD A COUNTER: add one line X(field, "stats_name", "what it counts") to DAILYNET_STATS,
// bump stats.field where it happens, and add a row for "stats_name" to README.md's STATS
// table (tests/unit/stats_test.cpp fails until you do). A new refusal reason of a note: one
// line in DAILYNET_REFUSALS instead (it is counted in udp_refused too); bump it with
// stats.refuse(Refusal::id).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "../common/protocol.hpp"

// Why a note (or a whole datagram) was refused. X(id, "stats_name", "help").
#define DAILYNET_REFUSALS(X)                                                               \
  X(empty, "udp_refused_empty", "note empty")                                              \
  X(too_long, "udp_refused_too_long", "note longer than --max-note")                       \
  X(bad_utf8, "udp_refused_bad_utf8", "note not valid UTF-8")                              \
  X(control_char, "udp_refused_control_char", "note holds a control character")           \
  X(display_hazard, "udp_refused_display_hazard", "note holds U+2028/9 or a bidi control") \
  X(truncated, "udp_refused_truncated", "datagram larger than the receive buffer")        \
  X(malformed, "udp_refused_malformed", "marked datagram that does not parse")            \
  X(rate_limited, "udp_refused_rate_limited", "over --rate for its source IP")             \
  X(store_unavailable, "udp_refused_store_unavailable", "the store refused the write")

enum class Refusal : uint8_t {
#define DAILYNET_X(id, name, help) id,
  DAILYNET_REFUSALS(DAILYNET_X)
#undef DAILYNET_X
};
#define DAILYNET_X(id, name, help) +1
constexpr size_t kRefusalCount = 0 DAILYNET_REFUSALS(DAILYNET_X);
#undef DAILYNET_X

// The refusal for a note that failed validate_note (e must not be NoteError::ok).
Refusal refusal_of(NoteError e) noexcept;

// Every STATS line in order: X(field, "stats_name", "help"). Gauges (marked so) are filled by
// Server::write_stats; udp_refused is the sum of the refusals, which follow it.
#define DAILYNET_STATS(X)                                                                       \
  X(notes_stored, "notes_stored", "notes in the store (gauge)")                                 \
  X(last_seq, "last_seq", "seq of the newest note, 0 if none (gauge)")                          \
  X(store_bytes, "store_bytes", "size of notes.log in bytes (gauge)")                           \
  X(store_commits, "store_commits", "group commits: one write of a turn's notes")               \
  X(store_syncs, "store_syncs", "fdatasync calls")                                              \
  X(store_append_failures, "store_append_failures", "commits the disk refused")                 \
  X(udp_datagrams, "udp_datagrams_received", "datagrams from allowed sources")                  \
  X(udp_marked_datagrams, "udp_datagrams_marked", "of which marked by the official client")     \
  X(udp_notes_accepted, "udp_notes_accepted", "notes stored from UDP")                          \
  X(udp_refused_total, "udp_refused", "refusals of all reasons (the udp_refused_* below)")      \
  X(udp_duplicates, "udp_duplicates_answered", "retried notes answered with their first seq")   \
  X(udp_out_of_order, "udp_out_of_order", "marked datagrams answered WAIT")                     \
  X(udp_dropped_allow, "udp_dropped_not_allowed", "datagrams from outside --allow, unanswered") \
  X(udp_dropped_port_zero, "udp_dropped_port_zero", "datagrams from source port 0: unanswerable, not stored") \
  X(udp_replies_dropped, "udp_replies_dropped", "replies lost to a full send queue")            \
  X(udp_replies_gso, "udp_replies_gso", "replies sent inside GSO (UDP_SEGMENT) messages")       \
  X(udp_gso_fallback, "udp_gso_fallback", "1 once the kernel refused UDP_SEGMENT")              \
  X(udp_receive_buffer, "udp_receive_buffer_bytes", "the UDP socket's receive buffer (gauge)")  \
  X(tcp_connections_open, "tcp_connections_open", "TCP connections now (gauge)")                \
  X(tcp_accepted, "tcp_connections_accepted", "TCP connections accepted")                      \
  X(tcp_refused_allow, "tcp_refused_not_allowed", "connections from outside --allow")           \
  X(tcp_refused_busy, "tcp_refused_busy", "connections beyond --max-clients or FD_SETSIZE")     \
  X(tcp_accept_errors, "tcp_accept_errors", "accept failures (EMFILE, ENFILE, ...)")            \
  X(tcp_closed_idle, "tcp_closed_idle", "connections closed after --idle-timeout")              \
  X(tcp_closed_stalled, "tcp_closed_stalled", "output made no progress / follower backlog")     \
  X(tcp_closed_line_too_long, "tcp_closed_line_too_long", "a command line over 1024 bytes")     \
  X(tcp_closed_error, "tcp_closed_error", "closed on a socket or store read error (logged)")    \
  X(tcp_commands, "tcp_commands", "commands executed")                                          \
  X(tcp_history_bytes, "tcp_history_bytes_sent", "note bytes sent by HISTORY and FOLLOW")       \
  X(http_requests, "http_requests", "HTTP requests parsed")                                     \
  X(http_responses_2xx, "http_responses_2xx", "HTTP responses 200-299")                         \
  X(http_responses_4xx, "http_responses_4xx", "HTTP responses 400-499 (refusals, limits)")      \
  X(http_responses_5xx, "http_responses_5xx", "HTTP responses 500-599")                         \
  X(http_events_open, "http_events_open", "open /events streams (gauge)")                       \
  X(http_events_started, "http_events_started", "/events streams opened")                       \
  X(http_notes_sent, "http_notes_sent", "notes sent by /notes and /events")                     \
  X(http_notes_stored, "http_notes_stored", "notes stored by POST /notes")                      \
  X(clients, "clients", "client addresses in the attribution index (gauge)")                    \
  X(exactly_once_clients, "exactly_once_clients", "client ids the exactly-once table holds (gauge)")    \
  X(uptime_seconds, "uptime_seconds", "seconds since start (gauge)")

struct Stats {
#define DAILYNET_X(field, name, help) uint64_t field = 0;
  DAILYNET_STATS(DAILYNET_X)
#undef DAILYNET_X
  std::array<uint64_t, kRefusalCount> udp_refused{};  // by Refusal

  void refuse(Refusal r, uint64_t n = 1) noexcept { udp_refused[static_cast<size_t>(r)] += n; }
  uint64_t refused(Refusal r) const noexcept { return udp_refused[static_cast<size_t>(r)]; }
};

// One row of the STATS report: name <-> field <-> help.
struct StatRow {
  const char* name;
  uint64_t Stats::*field;  // nullptr in kRefusalRows (those index Stats::udp_refused)
  const char* help;
};
extern const StatRow kStatRows[];     // DAILYNET_STATS, in order
extern const size_t kStatRowCount;
extern const StatRow kRefusalRows[];  // DAILYNET_REFUSALS, in Refusal order

// Appends the STATS lines ("name value\n", without END) for s in table order; udp_refused is
// computed as the sum of s.udp_refused and followed by one line per reason.
void format_stats(const Stats& s, std::string& out);
