// note_filter_test.cpp — server/note_filter: the MATCH needle (ASCII case-insensitive, every
// other byte exact, rare-byte search at chunk edges) and line filtering (TEXT only, each
// note's own TIME), checked against a brute force.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "../../common/protocol.hpp"
#include "../../server/note_filter.hpp"

namespace {

bool brute_contains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() && fold_ascii(hay[i + k]) == fold_ascii(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

bool found(std::string_view hay, std::string_view needle) {
  Needle n{needle};
  return n.find(hay.data(), hay.data() + hay.size()) != nullptr;
}

std::string line(uint64_t seq, int64_t ms, std::string_view text,
                 std::string_view addr = "127.0.0.1:5000") {
  std::string s;
  append_note_line(s, seq, ms, addr, text);
  return s;
}

std::vector<std::string> passing(const Filters& f, std::string_view chunk) {
  std::vector<std::string> out;
  NoteFilter(f).each_passing(chunk, [&](std::string_view l) { out.emplace_back(l); });
  return out;
}

}  // namespace

TEST_CASE("note filter: needle, ASCII case-insensitive, other bytes exact") {
  CHECK(found("Call the PLUMBER", "plumber"));
  CHECK(found("call the plumber", "PlUmBeR"));
  CHECK(found("plumber", "plumber"));
  CHECK_FALSE(found("plumbe", "plumber"));
  CHECK(found("xx a b", "a b"));
  CHECK(found("CAFé au lait", "café"));           // é is two bytes, compared exactly
  CHECK_FALSE(found("CAFÉ", "café"));             // É vs é: not ASCII, no folding
  CHECK(found("周五 review 准备", "周五 REVIEW"));
  CHECK_FALSE(found("abc", ""));
  CHECK_FALSE(found("", "a"));
  CHECK(found("zzzzQ", "q"));
  CHECK(found("Qzzzz", "q"));
  CHECK(found("1234", "23"));
  CHECK_FALSE(found("[", "{"));  // '[' + 32 is '{': only letters fold
  CHECK_FALSE(found("@", "`"));
}

TEST_CASE("note filter: needle against brute force") {
  std::mt19937 rng(7);
  const std::string alphabet = "aAbBzZ qQ1\xC3\xA9";
  for (int i = 0; i < 3000; ++i) {
    std::string hay, needle;
    size_t hn = rng() % 40, nn = 1 + rng() % 4;
    for (size_t k = 0; k < hn; ++k) hay += alphabet[rng() % alphabet.size()];
    for (size_t k = 0; k < nn; ++k) needle += alphabet[rng() % alphabet.size()];
    CAPTURE(hay);
    CAPTURE(needle);
    CHECK(found(hay, needle) == brute_contains(hay, needle));
  }
}

TEST_CASE("note filter: MATCH looks at TEXT only") {
  const int64_t t = 1795508130123;
  std::string chunk = line(1, t, "bought milk") + line(12, t, "nothing here", "10.0.0.12:127") +
                      line(3, t, "MILK again") + line(4, t, "x");
  Filters f;
  f.match = "milk";
  auto got = passing(f, chunk);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == line(1, t, "bought milk"));
  CHECK(got[1] == line(3, t, "MILK again"));
  f.match = "127";  // in ADDR of every line, in TEXT of none
  CHECK(passing(f, chunk).empty());
  f.match = "2026";  // in TIME only
  CHECK(passing(f, chunk).empty());
  f.match = "5000\tbought";  // across fields: never
  CHECK(passing(f, chunk).empty());
  f.match = "x";
  CHECK(passing(f, chunk).size() == 1);
  // a hit in the header, then one in the same line's text
  f.match = "10.0";
  std::string l = line(5, t, "v10.0 released", "10.0.0.1:9");
  CHECK(passing(f, l).size() == 1);
  CHECK(NoteFilter(f).passes(l));
  CHECK_FALSE(NoteFilter(f).passes(line(6, t, "v10", "10.0.0.1:9")));
}

TEST_CASE("note filter: SINCE/UNTIL TIME by each note's own TIME") {
  const int64_t t = 1795508130000;
  // the clock steps back an hour after the second note
  std::string chunk = line(1, t, "a") + line(2, t + 1000, "b") + line(3, t - 3600000, "c") +
                      line(4, t + 2000, "d");
  Filters f;
  f.since_ms = t + 1000;
  auto got = passing(f, chunk);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == line(2, t + 1000, "b"));
  CHECK(got[1] == line(4, t + 2000, "d"));
  Filters g;
  g.until_ms = t;
  got = passing(g, chunk);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == line(3, t - 3600000, "c"));
  Filters h;
  h.since_ms = t;
  h.until_ms = t + 2000;
  h.match = "B";
  got = passing(h, chunk);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == line(2, t + 1000, "b"));
  CHECK(NoteFilter(Filters{}).all());
  CHECK_FALSE(NoteFilter(h).all());
}
