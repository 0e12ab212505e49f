// filters.hpp — the FILTERS of HISTORY and FOLLOW (SPEC.md "TCP: history and queries" and its
// precise points) as one value, parsed from a command line or set key by key (HTTP QUERY).
// Pure: no I/O. The server applies a Filters with HistoryCursor; the client builds one from
// its options and sends to_wire(). Unit tests: tests/unit/filters_test.cpp.
//
//   FROM ADDR        IP (every port of that host) or IP:PORT (one client)
//   SINCE SEQ        digits only: notes with seq > SEQ
//   SINCE TIME       YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SS[.mmm]Z: TIME >= it
//   UNTIL TIME       the same forms: TIME < it
//   LAST N           the last N of the notes that pass the other filters
//   MATCH TEXT       the rest of the line after one space, literally (spaces and tabs kept);
//                    a note matches when its TEXT contains it, ASCII letters compared
//                    case-insensitively, every other byte exactly
// Keywords are case-insensitive, in any order, each at most once (SINCE once, seq or time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net.hpp"

struct Filters {
  std::optional<AddrFilter> from;
  uint64_t since_seq = 0;            // notes with seq > since_seq (0: from the first)
  std::optional<int64_t> since_ms;   // notes with TIME >= since_ms (ms since the epoch, UTC)
  std::optional<int64_t> until_ms;   // notes with TIME < until_ms
  std::optional<uint64_t> last;      // keep the last N that pass the others
  std::string match;                 // empty: no MATCH
  uint64_t before_seq = 0;           // HTTP only (?before=SEQ, the page's "older" button):
                                     // a snapshot of notes with seq < before_seq; 0: no bound
  unsigned given = 0;                // bit per keyword already set (repeats are errors)
};

// Parses the filter words after HISTORY/FOLLOW: `rest` is the line after the command word
// (leading blanks allowed, no terminator). Returns "" and fills `out`, or the reason for
// "ERR <reason>" (printable ASCII, at most 120 bytes), e.g. "SINCE given twice",
// "LAST needs a number, not 'x'", "MATCH needs a text". `command` ("HISTORY") names the
// command in the unknown-keyword reason.
std::string parse_filters(std::string_view rest, std::string_view command, Filters& out);

// Sets one filter from a key and its text value, as an HTTP QUERY gives them (`from`,
// `since`, `until`, `last`, `match`; case-insensitive). Same rules and the same reasons as
// parse_filters; a key given twice is "SINCE given twice". An unknown key returns
// "unknown option 'KEY' (FROM, SINCE, UNTIL, LAST, MATCH)". The match value is taken whole.
std::string set_filter(Filters& f, std::string_view key, std::string_view value);

// The filter words for the wire, canonical, MATCH last: " FROM 10.0.0.1 SINCE 2026-11-30T00:
// 00:00.000Z LAST 20 MATCH milk" (each word preceded by a space; "" when no filter is set).
std::string to_wire(const Filters& f);

// A query time: "YYYY-MM-DD" (midnight UTC), "YYYY-MM-DDTHH:MM:SSZ" or
// "YYYY-MM-DDTHH:MM:SS.mmmZ" (1 to 3 fraction digits; 'T' and 'Z' in either case). Returns
// milliseconds since the epoch; nullopt for anything else (no 2026-02-30, no 24:00:00).
std::optional<int64_t> parse_query_time(std::string_view s) noexcept;

// fold_ascii and iequals_ascii (command words, keywords): common/text.hpp.
// Echoes a client's word back safely in a reason: quoted, at most 24 bytes, printable ASCII
// ('?' for any other byte), "..." when cut.
std::string quote_word(std::string_view w);
