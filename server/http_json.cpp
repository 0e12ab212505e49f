// http_json.cpp — see http_json.hpp. The reader follows RFC 8259 for the subset it accepts.
#include "http_json.hpp"

#include "../common/utf8.hpp"

namespace http {
namespace {

const char kHex[] = "0123456789abcdef";

class Reader {
 public:
  Reader(std::string_view s, std::string& error, size_t at = 0)
      : s_(s), i_(at), error_(error) {}
  size_t at() const noexcept { return i_; }

  bool at_end() {
    ws();
    return i_ == s_.size();
  }
  bool take(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char peek() {
    ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool string(std::string& out);
  bool scalar();  // a number, true, false or null
  bool fail(const char* why) {
    if (error_.empty()) error_ = why;
    return false;
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool hex4(uint32_t& v);
  std::string_view s_;
  size_t i_ = 0;
  std::string& error_;
};

bool Reader::hex4(uint32_t& v) {
  if (s_.size() - i_ < 4) return fail("truncated \\u escape");
  v = 0;
  for (int k = 0; k < 4; ++k) {
    char c = s_[i_++];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return fail("malformed \\u escape");
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return true;
}

bool Reader::string(std::string& out) {
  if (!take('"')) return fail("expected a string");
  for (;;) {
    if (i_ >= s_.size()) return fail("unterminated string");
    char c = s_[i_++];
    if (c == '"') return true;
    if (static_cast<unsigned char>(c) < 0x20) return fail("raw control byte in a string");
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i_ >= s_.size()) return fail("unterminated string");
    switch (char e = s_[i_++]) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone surrogate in a \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (s_.substr(i_, 2) != "\\u") return fail("lone surrogate in a \\u escape");
          i_ += 2;
          if (!hex4(lo)) return false;
          if (lo < 0xDC00 || lo > 0xDFFF) return fail("lone surrogate in a \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        utf8::append(out, cp);
        break;
      }
      default:
        return fail("unknown escape in a string");
    }
  }
}

bool Reader::scalar() {
  ws();
  for (std::string_view word : {"true", "false", "null"}) {
    if (s_.substr(i_, word.size()) == word) {
      i_ += word.size();
      return true;
    }
  }
  size_t start = i_;
  while (i_ < s_.size() && (std::string_view("0123456789+-.eE").find(s_[i_]) != std::string_view::npos))
    ++i_;
  return i_ > start ? true : fail("expected a string, number, true, false or null");
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

bool append_note_json(std::string& out, std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  size_t t1 = line.find('\t');
  size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
  size_t t3 = t2 == std::string_view::npos ? t2 : line.find('\t', t2 + 1);
  if (t3 == std::string_view::npos || t1 == 0) return false;
  for (size_t k = 0; k < t1; ++k)
    if (line[k] < '0' || line[k] > '9') return false;
  out += "{\"seq\":";
  out.append(line.data(), t1);
  out += ",\"time\":";
  append_json_string(out, line.substr(t1 + 1, t2 - t1 - 1));
  out += ",\"from\":";
  append_json_string(out, line.substr(t2 + 1, t3 - t2 - 1));
  out += ",\"text\":";
  append_json_string(out, line.substr(t3 + 1));
  out += "}\n";
  return true;
}

bool read_json_string(std::string_view s, size_t& at, std::string& out, std::string& error) {
  error.clear();
  Reader r(s, error, at);
  if (!r.string(out)) return false;
  at = r.at();
  return true;
}

std::optional<std::string> read_text_member(std::string_view body, std::string& error) {
  error.clear();
  Reader r(body, error);
  std::optional<std::string> text;
  if (!r.take('{')) {
    r.fail("the body must be a JSON object like {\"text\": \"...\"}");
    return std::nullopt;
  }
  if (!r.take('}')) {
    do {
      std::string name;
      if (!r.string(name)) return std::nullopt;
      if (!r.take(':')) {
        r.fail("expected ':' after a member name");
        return std::nullopt;
      }
      if (name == "text") {
        if (text) {
          r.fail("\"text\" given twice");
          return std::nullopt;
        }
        if (r.peek() != '"') {
          r.fail("\"text\" must be a string");
          return std::nullopt;
        }
        text.emplace();
        if (!r.string(*text)) return std::nullopt;
      } else if (r.peek() == '"') {
        std::string ignored;
        if (!r.string(ignored)) return std::nullopt;
      } else if (!r.scalar()) {
        return std::nullopt;
      }
    } while (r.take(','));
    if (!r.take('}')) {
      r.fail("expected ',' or '}' in the object");
      return std::nullopt;
    }
  }
  if (!r.at_end()) {
    r.fail("bytes after the JSON object");
    return std::nullopt;
  }
  if (!text) r.fail("the body has no \"text\" member");
  return text;
}

}  // namespace http
