// filters.cpp — see filters.hpp.
#include "filters.hpp"

#include "protocol.hpp"

std::string quote_word(std::string_view w) {
  std::string out = "'";
  for (size_t i = 0; i < w.size() && i < 24; ++i) {
    unsigned char c = static_cast<unsigned char>(w[i]);
    out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  if (w.size() > 24) out += "...";
  return out + "'";
}

std::optional<int64_t> parse_query_time(std::string_view s) noexcept {
  // Rewritten to the one full form parse_time_ms knows ("2026-11-24T08:15:30.123Z").
  char full[kTimeLen + 1] = "0000-00-00T00:00:00.000Z";
  if (s.size() == 10) {
    s.copy(full, 10);
  } else {
    if (s.size() < 20 || (s[10] != 'T' && s[10] != 't')) return std::nullopt;
    char z = s.back();
    if (z != 'Z' && z != 'z') return std::nullopt;
    s.remove_suffix(1);
    s.substr(0, 10).copy(full, 10);
    s.substr(11, 8).copy(full + 11, 8);
    std::string_view frac = s.substr(19);
    if (!frac.empty()) {
      if (frac.size() < 2 || frac.size() > 4 || frac[0] != '.') return std::nullopt;
      frac.substr(1).copy(full + 20, frac.size() - 1);
    }
  }
  return parse_time_ms(std::string_view(full, kTimeLen));
}

namespace {

enum Bit : unsigned { kFrom = 1, kSince = 2, kUntil = 4, kLast = 8, kMatch = 16 };

constexpr std::string_view kTimeForms = "YYYY-MM-DD[THH:MM:SS[.mmm]Z]";

// Sets keyword `k` (upper case) from `value`; "" or the reason.
std::string set_one(Filters& f, std::string_view k, unsigned bit, std::string_view value) {
  if (f.given & bit) return std::string(k) + " given twice";
  f.given |= bit;
  if (bit == kMatch) {
    if (value.empty()) return "MATCH needs a text";
    f.match = std::string(value);
    return "";
  }
  if (value.empty()) {
    switch (bit) {
      case kFrom: return "FROM needs an address (IP or IP:PORT)";
      case kSince: return "SINCE needs a seq or a time (" + std::string(kTimeForms) + ")";
      case kUntil: return "UNTIL needs a time (" + std::string(kTimeForms) + ")";
      default: return "LAST needs a number";
    }
  }
  switch (bit) {
    case kFrom:
      f.from = parse_addr_filter(value);
      if (!f.from) return "bad address " + quote_word(value) + " for FROM (IP or IP:PORT)";
      return "";
    case kSince: {
      if (value.find_first_not_of("0123456789") == std::string_view::npos) {
        auto v = parse_u64(value);
        if (!v) return "SINCE needs a seq or a time, not " + quote_word(value);
        f.since_seq = *v;
        return "";
      }
      f.since_ms = parse_query_time(value);
      if (!f.since_ms)
        return "SINCE needs a seq or a time (" + std::string(kTimeForms) + "), not " +
               quote_word(value);
      return "";
    }
    case kUntil:
      f.until_ms = parse_query_time(value);
      if (!f.until_ms)
        return "UNTIL needs a time (" + std::string(kTimeForms) + "), not " + quote_word(value);
      return "";
    default: {
      auto v = parse_u64(value);
      if (!v) return "LAST needs a number, not " + quote_word(value);
      f.last = *v;
      return "";
    }
  }
}

struct Keyword {
  std::string_view name;
  unsigned bit;
};
constexpr Keyword kKeywords[] = {
    {"FROM", kFrom}, {"SINCE", kSince}, {"UNTIL", kUntil}, {"LAST", kLast}, {"MATCH", kMatch}};

const Keyword* keyword(std::string_view w) noexcept {
  for (const Keyword& k : kKeywords)
    if (iequals_ascii(w, k.name)) return &k;
  return nullptr;
}

bool blank(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

std::string parse_filters(std::string_view rest, std::string_view command, Filters& out) {
  size_t i = 0;
  auto next_word = [&]() {
    while (i < rest.size() && blank(rest[i])) ++i;
    size_t b = i;
    while (i < rest.size() && !blank(rest[i])) ++i;
    return rest.substr(b, i - b);
  };
  while (true) {
    std::string_view w = next_word();
    if (w.empty()) return "";
    const Keyword* k = keyword(w);
    if (!k)
      return "unknown option " + quote_word(w) + " for " + std::string(command) +
             " (FROM, SINCE, UNTIL, LAST, MATCH)";
    std::string_view value;
    if (k->bit == kMatch) {
      // The rest of the line after one space (or tab), literally.
      if (i < rest.size()) value = rest.substr(i + 1);
      i = rest.size();
    } else {
      value = next_word();
    }
    std::string err = set_one(out, k->name, k->bit, value);
    if (!err.empty()) return err;
  }
}

std::string set_filter(Filters& f, std::string_view key, std::string_view value) {
  const Keyword* k = keyword(key);
  if (!k) return "unknown option " + quote_word(key) + " (FROM, SINCE, UNTIL, LAST, MATCH)";
  return set_one(f, k->name, k->bit, value);
}

std::string to_wire(const Filters& f) {
  std::string s;
  if (f.from) {
    bool v6 = f.from->ip.find(':') != std::string::npos;
    s += " FROM ";
    if (f.from->any_port())
      s += f.from->ip;
    else
      s += (v6 ? "[" + f.from->ip + "]" : f.from->ip) + ":" + std::to_string(f.from->port);
  }
  char t[kTimeLen];
  if (f.since_ms) {
    format_time_ms(*f.since_ms, t);
    s += " SINCE ";
    s.append(t, kTimeLen);
  } else if (f.since_seq) {
    s += " SINCE " + std::to_string(f.since_seq);
  }
  if (f.until_ms) {
    format_time_ms(*f.until_ms, t);
    s += " UNTIL ";
    s.append(t, kTimeLen);
  }
  if (f.last) s += " LAST " + std::to_string(*f.last);
  if (!f.match.empty()) s += " MATCH " + f.match;
  return s;
}
