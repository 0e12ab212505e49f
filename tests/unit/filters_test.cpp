// filters_test.cpp — common/filters: every keyword, any order, case, repeats, bad values,
// MATCH taking the rest of the line (spaces, tabs, non-ASCII), set_filter as HTTP uses it,
// to_wire round trips, and query times (date only, seconds, milliseconds, invalid dates).
#include <doctest/doctest.h>

#include <string>

#include "../../common/filters.hpp"
#include "../../common/protocol.hpp"

namespace {

Filters ok(std::string_view rest) {
  Filters f;
  std::string err = parse_filters(rest, "HISTORY", f);
  INFO("filters: ", std::string(rest));
  CHECK(err == "");
  return f;
}

std::string bad(std::string_view rest) {
  Filters f;
  return parse_filters(rest, "HISTORY", f);
}

constexpr int64_t kDay = 86400000;
const int64_t k20261130 = *parse_time_ms("2026-11-30T00:00:00.000Z");

}  // namespace

TEST_CASE("filters: query times") {
  CHECK(parse_query_time("2026-11-30") == k20261130);
  CHECK(parse_query_time("2026-11-30T00:00:00Z") == k20261130);
  CHECK(parse_query_time("2026-11-30T08:15:30Z") == k20261130 + 29730000);
  CHECK(parse_query_time("2026-11-30T08:15:30.123Z") == k20261130 + 29730123);
  CHECK(parse_query_time("2026-11-30t08:15:30.1z") == k20261130 + 29730100);
  CHECK(parse_query_time("2026-11-30T08:15:30.12Z") == k20261130 + 29730120);
  CHECK(parse_query_time("2024-02-29") == *parse_time_ms("2024-02-29T00:00:00.000Z"));
  CHECK(parse_query_time("1970-01-01") == 0);
  for (std::string_view s :
       {"", "2026", "2026-11", "2026-11-3", "2026-13-01", "2026-02-29", "2026-11-31",
        "2026-11-30T", "2026-11-30T08:15Z", "2026-11-30T08:15:30", "2026-11-30T24:00:00Z",
        "2026-11-30T08:60:00Z", "2026-11-30T08:15:30.Z", "2026-11-30T08:15:30.1234Z",
        "2026-11-30 08:15:30Z", "2026-11-30T08:15:30+01:00", "1969-12-31", "2026-11-30x",
        "yesterday", "-2026-11-30", "2026-11-30T08:15:30.12aZ"}) {
    CAPTURE(s);
    CHECK_FALSE(parse_query_time(s).has_value());
  }
}

TEST_CASE("filters: every keyword, alone") {
  CHECK(ok("").given == 0);
  Filters f = ok(" FROM 10.0.0.1");
  REQUIRE(f.from.has_value());
  CHECK(f.from->ip == "10.0.0.1");
  CHECK(f.from->any_port());
  f = ok(" FROM [::1]:9527");
  CHECK(f.from->ip == "::1");
  CHECK(f.from->port == 9527);
  CHECK(ok(" SINCE 42").since_seq == 42);
  CHECK_FALSE(ok(" SINCE 42").since_ms.has_value());
  CHECK(ok(" SINCE 2026-11-30").since_ms == k20261130);
  CHECK(ok(" SINCE 2026-11-30").since_seq == 0);
  CHECK(ok(" SINCE 2026-11-30T00:00:01.500Z").since_ms == k20261130 + 1500);
  CHECK(ok(" UNTIL 2026-12-01").until_ms == k20261130 + kDay);
  CHECK(ok(" LAST 20").last == uint64_t{20});
  CHECK(ok(" LAST 0").last == uint64_t{0});
  CHECK(ok(" MATCH milk").match == "milk");
}

TEST_CASE("filters: any order, any case, combined") {
  for (std::string_view rest :
       {" FROM 1.2.3.4 SINCE 2026-11-30 UNTIL 2026-12-01 LAST 3 MATCH a b",
        " LAST 3 UNTIL 2026-12-01 SINCE 2026-11-30 FROM 1.2.3.4 MATCH a b",
        " until 2026-12-01\tlast 3  from 1.2.3.4 since 2026-11-30 match a b",
        "\tSiNcE 2026-11-30 LaSt 3 fRoM 1.2.3.4 UnTiL 2026-12-01 MaTcH a b"}) {
    CAPTURE(rest);
    Filters f = ok(rest);
    CHECK(f.from->ip == "1.2.3.4");
    CHECK(f.since_ms == k20261130);
    CHECK(f.until_ms == k20261130 + kDay);
    CHECK(f.last == uint64_t{3});
    CHECK(f.match == "a b");
  }
}

TEST_CASE("filters: MATCH takes the rest of the line literally") {
  CHECK(ok(" MATCH  two  spaces ").match == " two  spaces ");
  CHECK(ok(" MATCH a\tb").match == "a\tb");
  CHECK(ok(" MATCH\tx").match == "x");
  CHECK(ok(" MATCH 周五 review").match == "周五 review");
  CHECK(ok(" MATCH café").match == "café");
  CHECK(ok(" MATCH FROM 1.2.3.4 LAST 2").match == "FROM 1.2.3.4 LAST 2");
  CHECK_FALSE(ok(" MATCH FROM 1.2.3.4").from.has_value());
  CHECK(ok(" match MATCH").match == "MATCH");
  CHECK(bad(" MATCH") == "MATCH needs a text");
  CHECK(bad(" MATCH ") == "MATCH needs a text");
  CHECK(bad(" LAST 2 match") == "MATCH needs a text");
}

TEST_CASE("filters: repeats and bad values, exactly") {
  CHECK(bad(" SINCE 1 SINCE 2") == "SINCE given twice");
  CHECK(bad(" SINCE 1 since 2026-11-30") == "SINCE given twice");
  CHECK(bad(" SINCE 2026-11-30 SINCE 3") == "SINCE given twice");
  CHECK(bad(" UNTIL 2026-11-30 UNTIL 2026-11-30") == "UNTIL given twice");
  CHECK(bad(" FROM 1.2.3.4 FROM 1.2.3.4") == "FROM given twice");
  CHECK(bad(" LAST 1 LAST 1") == "LAST given twice");
  CHECK(bad(" FROM") == "FROM needs an address (IP or IP:PORT)");
  CHECK(bad(" FROM host.lan") == "bad address 'host.lan' for FROM (IP or IP:PORT)");
  CHECK(bad(" SINCE") == "SINCE needs a seq or a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z])");
  CHECK(bad(" SINCE yesterday") ==
        "SINCE needs a seq or a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z]), not 'yesterday'");
  CHECK(bad(" SINCE 2026-02-30") ==
        "SINCE needs a seq or a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z]), not '2026-02-30'");
  CHECK(bad(" SINCE 99999999999999999999") ==
        "SINCE needs a seq or a time, not '99999999999999999999'");
  CHECK(bad(" UNTIL") == "UNTIL needs a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z])");
  CHECK(bad(" UNTIL 42") == "UNTIL needs a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z]), not '42'");
  CHECK(bad(" UNTIL 2026-11-30T25:00:00Z") ==
        "UNTIL needs a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z]), not '2026-11-30T25:00:00Z'");
  CHECK(bad(" LAST") == "LAST needs a number");
  CHECK(bad(" LAST -1") == "LAST needs a number, not '-1'");
  CHECK(bad(" LAST ten") == "LAST needs a number, not 'ten'");
  CHECK(bad(" GREP x") == "unknown option 'GREP' for HISTORY (FROM, SINCE, UNTIL, LAST, MATCH)");
  Filters f;
  CHECK(parse_filters(" LIMIT 1", "FOLLOW", f) ==
        "unknown option 'LIMIT' for FOLLOW (FROM, SINCE, UNTIL, LAST, MATCH)");
  // every reason fits one ERR line
  CHECK(bad(" SINCE " + std::string(200, 'x')).size() <= 120);
}

TEST_CASE("filters: set_filter (HTTP QUERY keys) follows the same rules") {
  Filters f;
  CHECK(set_filter(f, "since", "2026-11-30") == "");
  CHECK(f.since_ms == k20261130);
  CHECK(set_filter(f, "Since", "4") == "SINCE given twice");
  CHECK(set_filter(f, "match", " a b ") == "");
  CHECK(f.match == " a b ");
  CHECK(set_filter(f, "last", "x") == "LAST needs a number, not 'x'");
  CHECK(set_filter(f, "from", "") == "FROM needs an address (IP or IP:PORT)");
  CHECK(set_filter(f, "until", "2026-12-01") == "");
  CHECK(set_filter(f, "q", "x") == "unknown option 'q' (FROM, SINCE, UNTIL, LAST, MATCH)");
  Filters g;
  CHECK(set_filter(g, "match", "") == "MATCH needs a text");
}

TEST_CASE("filters: to_wire round-trips") {
  Filters f = ok(" MATCH x");
  CHECK(to_wire(Filters{}) == "");
  CHECK(to_wire(f) == " MATCH x");
  Filters g = ok(" FROM [::1]:7 SINCE 2026-11-30 UNTIL 2026-12-01T10:00:00Z LAST 4 MATCH a\tb ");
  CHECK(to_wire(g) ==
        " FROM [::1]:7 SINCE 2026-11-30T00:00:00.000Z UNTIL 2026-12-01T10:00:00.000Z LAST 4"
        " MATCH a\tb ");
  Filters h = ok(to_wire(g));
  CHECK(h.from->ip == "::1");
  CHECK(h.since_ms == g.since_ms);
  CHECK(h.until_ms == g.until_ms);
  CHECK(h.last == g.last);
  CHECK(h.match == g.match);
  CHECK(to_wire(ok(" SINCE 7 FROM 10.1.2.3")) == " FROM 10.1.2.3 SINCE 7");
}
