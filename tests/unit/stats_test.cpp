// stats_test.cpp — the STATS table (server/stats.*): every field of Stats is a row, names are
// unique, format_stats prints every row with its field's value, udp_refused is the sum of the
// per-reason counts that follow it, refusal_of maps each note error, README names every row.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../../server/stats.hpp"

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

std::vector<const StatRow*> every_row() {
  std::vector<const StatRow*> v;
  for (size_t i = 0; i < kStatRowCount; ++i) v.push_back(&kStatRows[i]);
  for (size_t i = 0; i < kRefusalCount; ++i) v.push_back(&kRefusalRows[i]);
  return v;
}

}  // namespace

TEST_CASE("stats: every Stats field is a row of the table, every name once") {
  // A counter added to Stats outside DAILYNET_STATS / DAILYNET_REFUSALS would never be shown.
  CHECK(sizeof(Stats) == (kStatRowCount + kRefusalCount) * sizeof(uint64_t));
  std::set<std::string> names;
  for (const StatRow* r : every_row()) {
    INFO(std::string(r->name));
    CHECK(names.insert(r->name).second);
    CHECK(std::string(r->help).size() > 3);
    for (const char* p = r->name; *p; ++p) 
      CHECK(((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'));
  }
}

TEST_CASE("stats: format_stats prints each row with its field, refusals after their sum") {
  Stats s;
  uint64_t v = 100;
  for (size_t i = 0; i < kStatRowCount; ++i) s.*kStatRows[i].field = v++;
  for (size_t i = 0; i < kRefusalCount; ++i) s.refuse(static_cast<Refusal>(i), i + 1);
  std::string out;
  format_stats(s, out);
  auto got = lines_of(out);
  REQUIRE(got.size() == kStatRowCount + kRefusalCount);
  size_t at = 0;
  v = 100;
  for (size_t i = 0; i < kStatRowCount; ++i, ++v) {
    std::string name = kStatRows[i].name;
    if (name != "udp_refused") {
      CHECK(got[at++] == name + " " + std::to_string(v));
      continue;
    }
    uint64_t sum = kRefusalCount * (kRefusalCount + 1) / 2;  // 1 + 2 + ... + n
    CHECK(got[at++] == "udp_refused " + std::to_string(sum));
    for (size_t r = 0; r < kRefusalCount; ++r)
      CHECK(got[at++] == std::string(kRefusalRows[r].name) + " " + std::to_string(r + 1));
  }
}

TEST_CASE("stats: the names clients and tests rely on") {
  Stats s;
  s.refuse(Refusal::rate_limited);
  s.refuse(Refusal::rate_limited);
  s.refuse(Refusal::store_unavailable);
  s.tcp_closed_idle = 4;
  std::string out;
  format_stats(s, out);
  CHECK(out.find("\nudp_refused 3\n") != std::string::npos);
  CHECK(out.find("\nudp_refused_rate_limited 2\n") != std::string::npos);
  CHECK(out.find("\nudp_refused_store_unavailable 1\n") != std::string::npos);
  CHECK(out.find("\ntcp_closed_idle 4\n") != std::string::npos);
  CHECK(out.rfind("notes_stored 0\n", 0) == 0);
  CHECK(s.refused(Refusal::rate_limited) == 2);
}

TEST_CASE("stats: refusal_of maps each note error to its own reason") {
  CHECK(refusal_of(NoteError::empty) == Refusal::empty);
  CHECK(refusal_of(NoteError::too_long) == Refusal::too_long);
  CHECK(refusal_of(NoteError::bad_utf8) == Refusal::bad_utf8);
  CHECK(refusal_of(NoteError::control_char) == Refusal::control_char);
  CHECK(refusal_of(NoteError::display_hazard) == Refusal::display_hazard);
}

TEST_CASE("stats: README.md's STATS table names every row") {
  std::string here = __FILE__;  // tests/unit/stats_test.cpp, as the Makefile compiles it
  std::string readme = here.substr(0, here.rfind("tests/unit/")) + "README.md";
  std::ifstream in(readme);
  REQUIRE_MESSAGE(in.good(), "cannot read " << readme << " (run from the repository root)");
  std::stringstream text;
  text << in.rdbuf();
  for (const StatRow* r : every_row()) {
    INFO("README.md has no row for the STATS counter ", std::string(r->name), " (add one to its table)");
    CHECK(text.str().find(std::string("| `") + r->name + "` |") != std::string::npos);
  }
}
