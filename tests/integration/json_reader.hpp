// json_reader.hpp — a tiny reader for one flat JSON object of strings and numbers, as the
// client prints with --format json ({"seq":7,"time":"...","from":"...","text":"..."}).
// Strings go through the server's own reader (http::read_json_string, server/http_json.*):
// escapes and surrogate pairs are decoded in one place. Test-only.
#pragma once

#include <map>
#include <string>

#include "../../server/http_json.hpp"

namespace harness {

// {"k":"v","n":12} -> {k: v, n: 12} (numbers as their digits); an empty map when s is not
// such an object exactly (no whitespace, nothing after the '}').
inline std::map<std::string, std::string> json_object(const std::string& s) {
  std::map<std::string, std::string> m;
  std::string error;
  size_t i = 0;
  if (s.empty() || s[i++] != '{') return {};
  while (i < s.size()) {
    std::string k, v;
    if (s[i] != '"' || !http::read_json_string(s, i, k, error) || i >= s.size() ||
        s[i++] != ':')
      return {};
    if (i < s.size() && s[i] == '"') {
      if (!http::read_json_string(s, i, v, error)) return {};
    } else {
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') v += s[i++];
      if (v.empty()) return {};
    }
    m[k] = v;
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}' && i + 1 == s.size()) return m;
    return {};
  }
  return {};
}

}  // namespace harness
