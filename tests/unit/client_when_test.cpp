// client_when_test.cpp — client/when and the query options: --since/--until values (seq,
// today, yesterday, Nm/Nh/Nd, local dates and times under two TZ values across a DST change,
// UTC with Z), bad values naming the option, value and an example; --grep, --hosts, -n.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <time.h>

#include <map>
#include <string>
#include <vector>

#include "../../client/options.hpp"
#include "../../client/when.hpp"
#include "../../common/protocol.hpp"
#include "../support/argv.hpp"

using client::parse_when;

namespace {

// Sets TZ for the scope of a test, then puts the old value back.
struct WithTz {
  std::string old;
  bool had;
  explicit WithTz(const char* tz) {
    const char* o = ::getenv("TZ");
    had = o != nullptr;
    if (had) old = o;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~WithTz() {
    if (had) ::setenv("TZ", old.c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }
};

int64_t utc(const char* s) { return *parse_time_ms(s); }

int64_t ms_of(std::string_view v, int64_t now) {
  auto w = parse_when(v, now, true);
  REQUIRE(w.has_value());
  CHECK_FALSE(w->seq.has_value());
  return w->ms;
}

client::ParseResult parse_at(std::vector<std::string> args, int64_t now) {
  support::Argv a("dailynet", std::move(args));
  return client::parse_command_line(a.argc(), a.argv(),
                                    [](const char*) -> const char* { return nullptr; }, now);
}

}  // namespace

TEST_CASE("client when: seqs, relative times and UTC") {
  const int64_t now = utc("2026-11-30T14:05:00.000Z");
  auto w = parse_when("42", now, true);
  REQUIRE(w.has_value());
  CHECK(w->seq == uint64_t{42});
  CHECK_FALSE(parse_when("42", now, false).has_value());  // --until takes no seq
  CHECK(ms_of("30m", now) == now - 30 * 60000);
  CHECK(ms_of("2h", now) == now - 2 * 3600000);
  CHECK(ms_of("7d", now) == now - 7 * 86400000LL);
  CHECK(ms_of("0h", now) == now);
  CHECK(ms_of("2026-11-30T08:00:00Z", now) == utc("2026-11-30T08:00:00.000Z"));
  CHECK(ms_of("2026-11-30T08:00:00.250Z", now) == utc("2026-11-30T08:00:00.250Z"));
  // Every local form takes a Z for UTC (README, man page, the option's own error message).
  CHECK(ms_of("2026-11-30T14:44Z", now) == utc("2026-11-30T14:44:00.000Z"));
  CHECK(ms_of("2026-11-30 14:47:00Z", now) == utc("2026-11-30T14:47:00.000Z"));
  CHECK(ms_of("2026-11-30Z", now) == utc("2026-11-30T00:00:00.000Z"));
  for (std::string_view bad : {"", "x", "2", "h", "-2h", "2w", "2.5h", "2026-02-30",
                               "2026-11-30T25:00", "2026-11-30T08", "2026-11-30T08:00:00+01",
                               "Today", "tomorrow", "2026-11-30T08Z", "2026-11-30x08:00", "Z",
                               "2026-11-30T08:00ZZ", "2026-11-30T08:00+01Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_when(bad, now, false).has_value());
  }
}

TEST_CASE("client when: today, yesterday and local dates under two TZ values") {
  {
    WithTz tz("UTC0");
    const int64_t now = utc("2026-11-30T14:05:00.000Z");
    CHECK(ms_of("today", now) == utc("2026-11-30T00:00:00.000Z"));
    CHECK(ms_of("yesterday", now) == utc("2026-11-29T00:00:00.000Z"));
    CHECK(ms_of("2026-11-30", now) == utc("2026-11-30T00:00:00.000Z"));
    CHECK(ms_of("2026-11-30T08:15", now) == utc("2026-11-30T08:15:00.000Z"));
    CHECK(ms_of("2026-11-30 08:15:30.5", now) == utc("2026-11-30T08:15:30.500Z"));
  }
  {
    // New York: UTC-5 in winter, UTC-4 in summer; DST ended 2026-11-01 at 02:00 local.
    WithTz tz("EST5EDT,M3.2.0,M11.1.0");  // no tzdata needed
    const int64_t now = utc("2026-11-30T03:00:00.000Z");  // still the 29th in New York
    CHECK(ms_of("today", now) == utc("2026-11-29T05:00:00.000Z"));
    CHECK(ms_of("yesterday", now) == utc("2026-11-28T05:00:00.000Z"));
    CHECK(ms_of("2026-11-30", now) == utc("2026-11-30T05:00:00.000Z"));
    CHECK(ms_of("2026-07-01T12:00", now) == utc("2026-07-01T16:00:00.000Z"));  // EDT
    CHECK(ms_of("2026-11-30T08:15:30Z", now) == utc("2026-11-30T08:15:30.000Z"));
    // yesterday across the DST change: 2026-11-02 09:00 local → 2026-11-01 00:00 EDT
    const int64_t after = utc("2026-11-02T14:00:00.000Z");
    CHECK(ms_of("yesterday", after) == utc("2026-11-01T04:00:00.000Z"));
    CHECK(ms_of("today", after) == utc("2026-11-02T05:00:00.000Z"));
    CHECK(ms_of("2h", now) == now - 7200000);  // relative times ignore the zone
  }
}

TEST_CASE("client options: --since/--until/--grep/--last/--hosts/-n") {
  WithTz tz("UTC0");
  const int64_t now = utc("2026-11-30T14:05:00.000Z");
  auto r = parse_at({"history", "--since", "today", "--until", "2026-11-30T12:00", "--grep",
                     "call the plumber", "--last", "3", "-n"},
                    now);
  REQUIRE(r.ok());
  const Filters& f = r.options.filters;
  CHECK(f.since_ms == utc("2026-11-30T00:00:00.000Z"));
  CHECK(f.until_ms == utc("2026-11-30T12:00:00.000Z"));
  CHECK(f.match == "call the plumber");
  CHECK(f.last == uint64_t{3});
  CHECK(r.options.numeric);
  CHECK(to_wire(f) ==
        " SINCE 2026-11-30T00:00:00.000Z UNTIL 2026-11-30T12:00:00.000Z LAST 3 MATCH call the "
        "plumber");
  CHECK(parse_at({"follow", "--since", "2h", "--grep", "x"}, now).options.filters.since_ms ==
        now - 7200000);
  CHECK(parse_at({"clients", "--hosts"}, now).options.hosts);
  CHECK(parse_at({"clients", "--numeric"}, now).options.numeric);
  CHECK(parse_at({"history", "--since", "soon"}, now).error ==
        "--since wants a seq, a date or time (local; Z for UTC), today, yesterday or Nm/Nh/Nd, "
        "not 'soon' (e.g. --since 2026-11-30, --since 2026-11-30T08:00, --since 2h)");
  CHECK(parse_at({"history", "--until", "5"}, now).error ==
        "--until wants a date or time (local; Z for UTC), today, yesterday or Nm/Nh/Nd, not "
        "'5' (e.g. --until 2026-11-30, --until 2026-11-30T08:00, --until 2h)");
  CHECK(parse_at({"history", "--grep", ""}, now).error ==
        "--grep wants a text to look for, not '' (e.g. --grep plumber)");
  CHECK(parse_at({"history", "--last", "x"}, now).error ==
        "--last wants a number of notes, not 'x' (e.g. --last 20)");
  CHECK(parse_at({"history", "--hosts"}, now).error == "option --hosts does not apply to history");
  CHECK(parse_at({"send", "-n"}, now).error == "option -n does not apply to send");
  CHECK(parse_at({"stats", "--grep", "x"}, now).error == "option --grep does not apply to stats");
}
