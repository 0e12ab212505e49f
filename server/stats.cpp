// stats.cpp — see stats.hpp: the STATS report, formatted from the two tables there.
#include "stats.hpp"

#include <cassert>

const StatRow kStatRows[] = {
#define DAILYNET_X(field, name, help) {name, &Stats::field, help},
    DAILYNET_STATS(DAILYNET_X)
#undef DAILYNET_X
};
const size_t kStatRowCount = sizeof kStatRows / sizeof kStatRows[0];

const StatRow kRefusalRows[] = {
#define DAILYNET_X(id, name, help) {name, nullptr, help},
    DAILYNET_REFUSALS(DAILYNET_X)
#undef DAILYNET_X
};

Refusal refusal_of(NoteError e) noexcept {
  switch (e) {
    case NoteError::empty: return Refusal::empty;
    case NoteError::too_long: return Refusal::too_long;
    case NoteError::bad_utf8: return Refusal::bad_utf8;
    case NoteError::control_char: return Refusal::control_char;
    case NoteError::display_hazard: return Refusal::display_hazard;
    case NoteError::ok: break;
  }
  assert(!"refusal_of(NoteError::ok)");
  return Refusal::malformed;
}

namespace {
void line(std::string& out, const char* name, uint64_t v) {
  out += name;
  out += ' ';
  out += std::to_string(v);
  out += '\n';
}
}  // namespace

void format_stats(const Stats& s, std::string& out) {
  uint64_t refused = 0;
  for (uint64_t n : s.udp_refused) refused += n;
  for (size_t i = 0; i < kStatRowCount; ++i) {
    const StatRow& row = kStatRows[i];
    if (row.field != &Stats::udp_refused_total) {
      line(out, row.name, s.*row.field);
      continue;
    }
    line(out, row.name, refused);
    for (size_t r = 0; r < kRefusalCount; ++r) line(out, kRefusalRows[r].name, s.udp_refused[r]);
  }
}
