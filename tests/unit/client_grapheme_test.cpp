// client_grapheme_test.cpp — the line editor's user-perceived characters (grapheme.hpp,
// UAX #29): ZWJ emoji sequences, flags, combining marks, variation selectors, skin tones,
// keycaps, tag sequences, Hangul, Indic spacing marks, Prepend; and the LineBuffer's
// Left/Right, Backspace and Delete over them (the tryout's sequence).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../../client/grapheme.hpp"
#include "../../client/line_editor.hpp"

using namespace client;

namespace {

// The byte strings of the exact sequences (UTF-8 spelled out: what a terminal sends).
const std::string kFamily = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7";
const std::string kFlagJp = "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5";        // U+1F1EF U+1F1F5
const std::string kFlagFr = "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7";        // U+1F1EB U+1F1F7
const std::string kEAcuteCirc = "e\xCC\x81\xCC\x82";                    // e U+0301 U+0302
const std::string kHeartVs16 = "\xE2\x9D\xA4\xEF\xB8\x8F";              // U+2764 U+FE0F
const std::string kThumbTone = "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD";      // U+1F44D U+1F3FD
const std::string kKeycap1 = "1\xEF\xB8\x8F\xE2\x83\xA3";               // 1 U+FE0F U+20E3
const std::string kCouple =                                             // 👩‍❤️‍👨
    "\xF0\x9F\x91\xA9\xE2\x80\x8D\xE2\x9D\xA4\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x91\xA8";
const std::string kEngland =  // U+1F3F4 and tags g b e n g, cancel tag
    "\xF0\x9F\x8F\xB4\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xA5\xF3\xA0\x81\xAE"
    "\xF3\xA0\x81\xA7\xF3\xA0\x81\xBF";
const std::string kJamoHan = "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB";  // U+1112 U+1161 U+11AB
const std::string kHan = "\xED\x95\x9C", kGuk = "\xEA\xB5\xAD";         // 한 국 (precomposed)
const std::string kKi = "\xE0\xA4\x95\xE0\xA4\xBF";                     // क U+093F (SpacingMark)
const std::string kKam = "\xE0\xB8\x81\xE0\xB8\xB3";                    // ก U+0E33
const std::string kArabicSign = "\xD8\x80\xD9\xA1";                     // U+0600 (Prepend) ١

std::vector<std::string> clusters(const std::string& s) {
  std::vector<std::string> v;
  for (size_t i = 0; i < s.size();) {
    size_t n = next_grapheme(s, i);
    REQUIRE(n > i);
    v.push_back(s.substr(i, n - i));
    i = n;
  }
  // prev_grapheme walks the same boundaries backwards.
  std::vector<std::string> back;
  for (size_t i = s.size(); i > 0;) {
    size_t p = prev_grapheme(s, i);
    REQUIRE(p < i);
    back.insert(back.begin(), s.substr(p, i - p));
    i = p;
  }
  CHECK(back == v);
  return v;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("grapheme: classes of the code points the rules turn on") {
  using G = GraphemeClass;
  CHECK(grapheme_class('a') == G::other);
  CHECK(grapheme_class(0x0301) == G::extend);
  CHECK(grapheme_class(0xFE0F) == G::extend);    // variation selector 16
  CHECK(grapheme_class(0xE0100) == G::extend);   // variation selector 17
  CHECK(grapheme_class(0x1F3FD) == G::extend);   // skin tone
  CHECK(grapheme_class(0x20E3) == G::extend);    // combining enclosing keycap
  CHECK(grapheme_class(0xE0067) == G::extend);   // tag
  CHECK(grapheme_class(0x200C) == G::extend);    // ZWNJ
  CHECK(grapheme_class(0x200D) == G::zwj);
  CHECK(grapheme_class(0x1F1EF) == G::regional_indicator);
  CHECK(grapheme_class(0x1F468) == G::ext_pict);
  CHECK(grapheme_class(0x2764) == G::ext_pict);
  CHECK(grapheme_class(0x00A9) == G::ext_pict);
  CHECK(grapheme_class(0x0600) == G::prepend);
  CHECK(grapheme_class(0x00AD) == G::control);   // soft hyphen
  CHECK(grapheme_class(0x200B) == G::control);   // zero width space
  CHECK(grapheme_class(0x1112) == G::hangul_l);
  CHECK(grapheme_class(0x1161) == G::hangul_v);
  CHECK(grapheme_class(0x11AB) == G::hangul_t);
  CHECK(grapheme_class(0xAC00) == G::hangul_lv);
  CHECK(grapheme_class(0xD55C) == G::hangul_lvt);
  CHECK(grapheme_class(0x4F60) == G::other);     // 你
  CHECK(grapheme_class(0x1F600) == G::ext_pict); // 😀
}

TEST_CASE("grapheme: one step for each user-perceived character") {
  CHECK(clusters("ab") == V{"a", "b"});
  CHECK(clusters(kFamily) == V{kFamily});  // man ZWJ woman ZWJ girl
  CHECK(clusters(kCouple) == V{kCouple});  // with a heart and VS16 inside
  CHECK(clusters(kFlagJp) == V{kFlagJp});
  CHECK(clusters(kFlagJp + kFlagFr) == V{kFlagJp, kFlagFr});  // pairs, not one run
  CHECK(clusters(kFlagJp + kFlagFr.substr(0, 4)) == V{kFlagJp, kFlagFr.substr(0, 4)});
  CHECK(clusters(kEAcuteCirc + "z") == V{kEAcuteCirc, "z"});
  CHECK(clusters(kHeartVs16) == V{kHeartVs16});
  CHECK(clusters(kThumbTone) == V{kThumbTone});
  CHECK(clusters(kKeycap1) == V{kKeycap1});
  CHECK(clusters(kEngland) == V{kEngland});
  CHECK(clusters(kJamoHan) == V{kJamoHan});
  CHECK(clusters(kHan + kGuk) == V{kHan, kGuk});
  CHECK(clusters(kHan + "\xE1\x86\xAB") == V{kHan + "\xE1\x86\xAB"});  // LVT + T (GB8)
  CHECK(clusters(kKi + kKam) == V{kKi, kKam});
  CHECK(clusters(kArabicSign) == V{kArabicSign});
  // A ZWJ between letters joins only the letter before it (GB9); emoji after a ZWJ that
  // follows no emoji stand alone (GB11 needs ExtPict before the ZWJ).
  CHECK(clusters("a\xE2\x80\x8D" "b") == V{"a\xE2\x80\x8D", "b"});
  CHECK(clusters("a\xE2\x80\x8D\xF0\x9F\x91\xA9") == V{"a\xE2\x80\x8D", "\xF0\x9F\x91\xA9"});
  // Controls stand alone (GB4, GB5); CR LF is one (GB3); an invalid byte is one character.
  CHECK(clusters("\r\n") == V{"\r\n"});
  CHECK(clusters("\x01\xCC\x81") == V{"\x01", "\xCC\x81"});
  CHECK(clusters("a\xFF\xCC\x81") == V{"a", "\xFF", "\xCC\x81"});
  CHECK(clusters("\xE4\xBD\xA0\xE5\xA5\xBD") == V{"\xE4\xBD\xA0", "\xE5\xA5\xBD"});  // 你好
  CHECK(next_grapheme("ab", 2) == 2);
  CHECK(prev_grapheme("ab", 0) == 0);
}

TEST_CASE("grapheme: the line editor steps over clusters (Left/Right, Backspace, Delete)") {
  // The tryout's line: ab 👨‍👩‍👧 x 🇯🇵 y é̂ z
  const std::string line = "ab " + kFamily + " x " + kFlagJp + " y " + kEAcuteCirc + " z";
  LineBuffer b;
  b.set(line);
  b.home();
  for (int i = 0; i < 3; ++i) b.right();
  CHECK(b.cursor() == 3);
  b.right();
  CHECK(b.cursor() == 3 + kFamily.size());  // the whole family in one step
  b.left();
  CHECK(b.cursor() == 3);
  REQUIRE(b.del());  // Delete on the family removes all of it, ZWJs included
  CHECK(b.text() == "ab  x " + kFlagJp + " y " + kEAcuteCirc + " z");
  b.set("x " + kFlagJp);
  REQUIRE(b.backspace());  // the flag in one Backspace
  CHECK(b.text() == "x ");
  b.set(kEAcuteCirc + "z");
  b.left();
  b.left();  // over z, then over e and both accents
  CHECK(b.cursor() == 0);
  b.right();
  CHECK(b.cursor() == kEAcuteCirc.size());
  REQUIRE(b.backspace());
  CHECK(b.text() == "z");
  b.set("1" + kKeycap1 + kThumbTone + kHeartVs16);
  REQUIRE(b.backspace());
  CHECK(b.text() == "1" + kKeycap1 + kThumbTone);
  REQUIRE(b.backspace());
  CHECK(b.text() == "1" + kKeycap1);
  REQUIRE(b.backspace());
  CHECK(b.text() == "1");
}
