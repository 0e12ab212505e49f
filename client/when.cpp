// when.cpp — see when.hpp.
#include "when.hpp"

#include <time.h>

#include "../common/filters.hpp"
#include "../common/net.hpp"
#include "../common/protocol.hpp"

namespace client {

namespace {

// Local broken-down time → UTC ms; tm_isdst = -1 lets mktime find DST for that date.
int64_t local_to_ms(struct tm tm, int millis) {
  tm.tm_isdst = -1;
  return static_cast<int64_t>(::mktime(&tm)) * 1000 + millis;
}

std::optional<When> relative(std::string_view v, int64_t now_ms) {
  if (v.size() < 2) return std::nullopt;
  const char u = v.back();
  int64_t unit = u == 'm' ? 60000 : u == 'h' ? 3600000 : u == 'd' ? 86400000 : 0;
  auto n = parse_u64(v.substr(0, v.size() - 1));
  if (!unit || !n || *n > 1000000) return std::nullopt;
  return When{std::nullopt, now_ms - static_cast<int64_t>(*n) * unit};
}

}  // namespace

int64_t local_midnight_ms(int64_t now_ms, int days_back) {
  time_t now = static_cast<time_t>(now_ms / 1000);
  struct tm tm {};
  ::localtime_r(&now, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_mday -= days_back;  // mktime normalises across months and DST changes
  return local_to_ms(tm, 0);
}

// "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM", "...:SS" or "...:SS.mmm" (no zone), its fields read as
// if UTC: milliseconds since the epoch; nullopt when malformed.
static std::optional<int64_t> fields_as_utc(std::string_view v) {
  std::string full = "0000-00-00T00:00:00.000Z";
  if (v.size() != 10 && v.size() != 16 && v.size() != 19 && !(v.size() > 20 && v.size() <= 23))
    return std::nullopt;
  if (v.size() > 10 && v[10] != 'T' && v[10] != 't' && v[10] != ' ') return std::nullopt;
  if (v.size() > 19 && v[19] != '.') return std::nullopt;
  for (size_t i = 0; i < v.size(); ++i)
    if (i != 10) full[i] = v[i];
  return parse_time_ms(full);
}

std::optional<When> parse_when(std::string_view v, int64_t now_ms, bool allow_seq) {
  if (v.empty()) return std::nullopt;
  if (v.find_first_not_of("0123456789") == std::string_view::npos) {
    auto n = parse_u64(v);
    if (!allow_seq || !n) return std::nullopt;
    return When{*n, 0};
  }
  if (v == "today") return When{std::nullopt, local_midnight_ms(now_ms, 0)};
  if (v == "yesterday") return When{std::nullopt, local_midnight_ms(now_ms, 1)};
  if (v.back() == 'm' || v.back() == 'h' || v.back() == 'd') return relative(v, now_ms);
  if (v.back() == 'Z' || v.back() == 'z') {
    // UTC, in any of the local forms plus Z (README: "2026-11-30T08:15, or with Z for UTC").
    auto ms = fields_as_utc(v.substr(0, v.size() - 1));
    if (!ms) return std::nullopt;
    return When{std::nullopt, *ms};
  }
  // Local: validate the digits as if UTC, then ask mktime.
  auto utc = fields_as_utc(v);
  if (!utc) return std::nullopt;
  struct tm tm {};
  int64_t days = *utc / 86400000, rest = *utc % 86400000;
  time_t as_utc = static_cast<time_t>(days * 86400);
  ::gmtime_r(&as_utc, &tm);  // the date's fields
  tm.tm_hour = static_cast<int>(rest / 3600000);
  tm.tm_min = static_cast<int>(rest / 60000 % 60);
  tm.tm_sec = static_cast<int>(rest / 1000 % 60);
  return When{std::nullopt, local_to_ms(tm, static_cast<int>(rest % 1000))};
}

std::string when_error(std::string_view option, std::string_view value) {
  std::string s = std::string(option);
  if (option == "--since")
    s += " wants a seq, a date or time (local; Z for UTC), today, yesterday or Nm/Nh/Nd";
  else
    s += " wants a date or time (local; Z for UTC), today, yesterday or Nm/Nh/Nd";
  s += ", not '" + std::string(value) + "' (e.g. " + std::string(option) + " 2026-11-30, " +
       std::string(option) + " 2026-11-30T08:00, " + std::string(option) + " 2h)";
  return s;
}

}  // namespace client
