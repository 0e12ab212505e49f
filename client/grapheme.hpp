// grapheme.hpp — user-perceived characters (extended grapheme clusters, Unicode UAX #29) for
// the line editor's cursor: Left/Right, Backspace and Delete step over a whole cluster, so a
// ZWJ emoji sequence (👨‍👩‍👧), a flag (🇯🇵: two regional indicators), a letter with combining
// marks (é̂), a keycap (1️⃣) or an emoji with a variation selector or skin tone is one step.
// Pure and table-driven, libc only; no I/O. Unit tests: tests/unit/client_grapheme_test.cpp.
//
// Rules kept (UAX #29 §3.1.1): GB3–GB5 (controls stand alone), GB6–GB8 (Hangul syllables),
// GB9/GB9a (no break before Extend, ZWJ or SpacingMark), GB9b (none after Prepend), GB11
// (ExtPict Extend* ZWJ × ExtPict), GB12/GB13 (regional indicators in pairs), GB999 (break).
// Left out: GB9c (Indic conjuncts, Unicode 15.1), so क्ष is two steps. The Extend and
// SpacingMark table comes from the Unicode 14 character database (see grapheme.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace client {

// The Grapheme_Cluster_Break property of a code point, as far as the rules above need it.
enum class GraphemeClass : uint8_t {
  other, cr, lf, control, extend, zwj, regional_indicator, prepend, spacing_mark,
  hangul_l, hangul_v, hangul_t, hangul_lv, hangul_lvt, ext_pict
};
GraphemeClass grapheme_class(uint32_t cp) noexcept;

// The offset of the grapheme boundary after the one at i (i < s.size() must be a boundary;
// i >= s.size() gives s.size()). Invalid UTF-8 bytes stand alone, one byte each.
size_t next_grapheme(std::string_view s, size_t i) noexcept;
// The offset of the grapheme boundary before i (0 for i == 0). Scans from the start of s (a
// regional indicator's pair depends on how many came before it): O(i), fine for one line.
size_t prev_grapheme(std::string_view s, size_t i) noexcept;

}  // namespace client
