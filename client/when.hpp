// when.hpp — the client's --since/--until values (SPEC.md, Client precise points): a seq,
// a local DATE or TIME, today, yesterday, or Nm/Nh/Nd before now, turned into what the
// server's FILTERS take (a seq, or a UTC time in ms). Dates and times without a zone are
// local time (TZ and DST respected, through mktime); a trailing Z means UTC. No I/O; the
// caller passes the current time, so tests can pin it. Unit tests: client_when_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace client {

struct When {
  std::optional<uint64_t> seq;  // digits only: a seq (--since)
  int64_t ms = 0;               // otherwise: UTC ms since the epoch
};

// Parses VALUE of --since (allow_seq) or --until. Accepts:
//   123                          a seq (only with allow_seq)
//   today, yesterday             local midnight of today / of the day before
//   30m, 2h, 7d                  that long before now_ms (Nd is N x 24 h)
//   2026-11-30                   local midnight of that date
//   2026-11-30T08:15[:30[.123]]  local time ('T' or one space between date and time)
//   2026-11-30T08:15:30[.123]Z   UTC
// nullopt for anything else (2026-02-30 included).
std::optional<When> parse_when(std::string_view value, int64_t now_ms, bool allow_seq);

// The usage error for a bad value: names the option, the value and examples.
std::string when_error(std::string_view option, std::string_view value);

// Local midnight `days_back` days before the day of now_ms, as UTC ms (for /today).
int64_t local_midnight_ms(int64_t now_ms, int days_back);

}  // namespace client
