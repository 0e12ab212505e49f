// line_editor.cpp — see line_editor.hpp. Pure: no I/O.
#include "line_editor.hpp"

#include <wchar.h>

#include <algorithm>

#include "../common/utf8.hpp"
#include "format.hpp"
#include "grapheme.hpp"

namespace client {

namespace {

constexpr std::string_view kPasteStart = "\x1b[200~";
constexpr std::string_view kPasteEnd = "\x1b[201~";

// Length of the UTF-8 sequence a lead byte starts; 0 for a byte that cannot lead one.
size_t utf8_len(unsigned char b) noexcept {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

// The code point of the valid UTF-8 character ch; -1 when it is not one.
long code_point(std::string_view ch) noexcept {
  if (ch.empty()) return -1;
  utf8::Char c = utf8::decode_at(ch, 0);
  return c.len == ch.size() ? static_cast<long>(c.cp) : -1;
}

// Columns when the C library cannot tell (its locale is not UTF-8): the wide blocks of East
// Asian scripts and the emoji blocks take two, combining marks none.
int fallback_width(long cp) noexcept {
  if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) || cp == 0xfe0f) return 0;
  static const long wide[][2] = {{0x1100, 0x115f},   {0x2e80, 0x303e},   {0x3041, 0x33ff},
                                 {0x3400, 0x4dbf},   {0x4e00, 0x9fff},   {0xa000, 0xa4cf},
                                 {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe30, 0xfe4f},
                                 {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x1f300, 0x1f64f},
                                 {0x1f900, 0x1f9ff}, {0x20000, 0x3fffd}};
  for (const auto& r : wide)
    if (cp >= r[0] && cp <= r[1]) return 2;
  return 1;
}

bool is_space_byte(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

// ---- input ---------------------------------------------------------------------------------

size_t InputDecoder::decode(std::string_view s, bool final, std::vector<Key>& out) {
  auto emit = [&](KeyKind k, size_t n) {
    out.push_back({k, {}});
    return n;
  };
  unsigned char c = static_cast<unsigned char>(s[0]);
  if (c == 0x1b) {
    if (s.size() == 1) return final ? emit(KeyKind::ignored, 1) : 0;
    if (s[1] == '[') {
      size_t i = 2;  // parameter and intermediate bytes, then one final byte
      while (i < s.size() && static_cast<unsigned char>(s[i]) >= 0x20 &&
             static_cast<unsigned char>(s[i]) <= 0x3f)
        ++i;
      if (i == s.size()) return final ? emit(KeyKind::ignored, i) : 0;
      std::string_view params = s.substr(2, i - 2);
      char f = s[i];
      size_t n = i + 1;
      bool ctrl_or_alt = params == "1;5" || params == "1;3";
      switch (f) {
        case 'A': return emit(KeyKind::up, n);
        case 'B': return emit(KeyKind::down, n);
        case 'C': return emit(ctrl_or_alt ? KeyKind::word_right : KeyKind::right, n);
        case 'D': return emit(ctrl_or_alt ? KeyKind::word_left : KeyKind::left, n);
        case 'H': return emit(KeyKind::home, n);
        case 'F': return emit(KeyKind::end, n);
        case '~':
          if (params == "1" || params == "7") return emit(KeyKind::home, n);
          if (params == "4" || params == "8") return emit(KeyKind::end, n);
          if (params == "3") return emit(KeyKind::del, n);
          if (params == "200") {
            in_paste_ = true;
            paste_.clear();
            return n;
          }
          return emit(KeyKind::ignored, n);  // 201~ outside a paste too
        default: return emit(KeyKind::ignored, n);
      }
    }
    if (s[1] == 'O') {
      if (s.size() == 2) return final ? emit(KeyKind::ignored, 2) : 0;
      switch (s[2]) {
        case 'A': return emit(KeyKind::up, 3);
        case 'B': return emit(KeyKind::down, 3);
        case 'C': return emit(KeyKind::right, 3);
        case 'D': return emit(KeyKind::left, 3);
        case 'H': return emit(KeyKind::home, 3);
        case 'F': return emit(KeyKind::end, 3);
        default: return emit(KeyKind::ignored, 3);
      }
    }
    if (s[1] == 'b') return emit(KeyKind::word_left, 2);
    if (s[1] == 'f') return emit(KeyKind::word_right, 2);
    if (s[1] == 0x7f) return emit(KeyKind::kill_word, 2);
    if (s[1] == 0x1b) return emit(KeyKind::ignored, 1);
    return emit(KeyKind::ignored, static_cast<unsigned char>(s[1]) < 0x80 ? 2 : 1);
  }
  if (c == '\r') return emit(KeyKind::enter, s.size() > 1 && s[1] == '\n' ? 2 : 1);
  if (c == '\n') return emit(KeyKind::enter, 1);
  if (c == 0x7f || c == 0x08) return emit(KeyKind::backspace, 1);
  if (c < 0x20) {
    switch (c) {
      case 0x01: return emit(KeyKind::home, 1);
      case 0x02: return emit(KeyKind::left, 1);
      case 0x03: return emit(KeyKind::interrupt, 1);
      case 0x04: return emit(KeyKind::eof, 1);
      case 0x05: return emit(KeyKind::end, 1);
      case 0x06: return emit(KeyKind::right, 1);
      case 0x0b: return emit(KeyKind::kill_end, 1);
      case 0x0c: return emit(KeyKind::redraw, 1);
      case 0x0e: return emit(KeyKind::down, 1);
      case 0x10: return emit(KeyKind::up, 1);
      case 0x15: return emit(KeyKind::kill_start, 1);
      case 0x17: return emit(KeyKind::kill_word, 1);
      case 0x1a: return emit(KeyKind::suspend, 1);
      default: return emit(KeyKind::ignored, 1);
    }
  }
  size_t n = utf8_len(c);
  if (n > 1 && s.size() < n) {
    bool so_far_ok = true;
    for (size_t i = 1; i < s.size(); ++i)
      so_far_ok = so_far_ok && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80;
    if (so_far_ok && !final) return 0;
    n = 0;
  }
  if (n == 0 || code_point(s.substr(0, n)) < 0) n = 1;  // an invalid byte: one character
  out.push_back({KeyKind::text, std::string(s.substr(0, n))});
  return n;
}

void InputDecoder::feed(std::string_view bytes, std::vector<Key>& out) {
  held_.append(bytes);
  size_t pos = 0;
  while (pos < held_.size()) {
    std::string_view rest = std::string_view(held_).substr(pos);
    if (in_paste_) {
      size_t end = rest.find(kPasteEnd);
      if (end == std::string_view::npos) {
        // Keep a tail that may be the start of the end marker.
        size_t keep = std::min(rest.size(), kPasteEnd.size() - 1);
        paste_.append(rest.substr(0, rest.size() - keep));
        pos = held_.size() - keep;
        break;
      }
      paste_.append(rest.substr(0, end));
      out.push_back({KeyKind::paste, std::move(paste_)});
      paste_.clear();
      in_paste_ = false;
      pos += end + kPasteEnd.size();
      continue;
    }
    size_t n = decode(rest, false, out);
    if (n == 0) break;
    pos += n;
  }
  held_.erase(0, pos);
}

void InputDecoder::flush(std::vector<Key>& out) {
  if (in_paste_) return;
  size_t pos = 0;
  while (pos < held_.size()) pos += decode(std::string_view(held_).substr(pos), true, out);
  held_.clear();
}

bool looks_pasted(std::string_view chunk) noexcept {
  if (chunk.find(kPasteStart) != std::string_view::npos) return false;
  for (size_t i = 0; i < chunk.size(); ++i) {
    if (chunk[i] != '\r' && chunk[i] != '\n') continue;
    size_t after = i + 1;
    if (chunk[i] == '\r' && after < chunk.size() && chunk[after] == '\n') ++after;
    return after < chunk.size();
  }
  return false;
}

std::vector<std::string> split_pasted_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r' && text[i] != '\n') continue;
    lines.emplace_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.emplace_back(text.substr(start));
  return lines;
}

bool is_blank(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size(); i = next_char(s, i)) {
    std::string_view ch = s.substr(i, next_char(s, i) - i);
    long cp = code_point(ch);
    bool space = cp == ' ' || cp == '\t' || cp == 0xa0 || cp == 0x1680 ||
                 (cp >= 0x2000 && cp <= 0x200b) || cp == 0x202f || cp == 0x205f ||
                 cp == 0x3000 || cp == 0xfeff;
    if (!space) return false;
  }
  return true;
}

// ---- characters ----------------------------------------------------------------------------

size_t next_char(std::string_view s, size_t i) noexcept {
  return i >= s.size() ? s.size() : utf8::next(s, i);
}

size_t prev_char(std::string_view s, size_t i) noexcept {
  return i == 0 ? 0 : utf8::prev(s, std::min(i, s.size()));
}

int char_width(std::string_view ch) noexcept {
  if (!terminal_safe(ch)) {
    std::string shown;
    append_terminal_safe(shown, ch);
    return static_cast<int>(shown.size());
  }
  long cp = code_point(ch);
  if (cp < 0x80) return 1;
  int w = ::wcwidth(static_cast<wchar_t>(cp));
  return w >= 0 ? w : fallback_width(cp);
}

int display_width(std::string_view s) noexcept {
  int w = 0;
  for (size_t i = 0; i < s.size(); i = next_char(s, i)) w += char_width(s.substr(i, next_char(s, i) - i));
  return w;
}

// ---- the line ------------------------------------------------------------------------------

void LineBuffer::set(std::string text) {
  text_ = std::move(text);
  cursor_ = text_.size();
}

void LineBuffer::insert(std::string_view s) {
  text_.insert(cursor_, s);
  cursor_ += s.size();
}

void LineBuffer::left() noexcept { cursor_ = prev_grapheme(text_, cursor_); }

void LineBuffer::right() noexcept { cursor_ = next_grapheme(text_, cursor_); }

bool LineBuffer::backspace() {
  if (cursor_ == 0) return false;
  size_t p = prev_grapheme(text_, cursor_);
  text_.erase(p, cursor_ - p);
  cursor_ = p;
  return true;
}

bool LineBuffer::del() {
  if (cursor_ >= text_.size()) return false;
  text_.erase(cursor_, next_grapheme(text_, cursor_) - cursor_);
  return true;
}

void LineBuffer::word_left() noexcept {
  while (cursor_ > 0 && is_space_byte(text_[cursor_ - 1])) --cursor_;
  while (cursor_ > 0 && !is_space_byte(text_[cursor_ - 1])) cursor_ = prev_char(text_, cursor_);
}

void LineBuffer::word_right() noexcept {
  while (cursor_ < text_.size() && is_space_byte(text_[cursor_])) ++cursor_;
  while (cursor_ < text_.size() && !is_space_byte(text_[cursor_]))
    cursor_ = next_char(text_, cursor_);
}

void LineBuffer::kill_end() { text_.erase(cursor_); }

void LineBuffer::kill_start() {
  text_.erase(0, cursor_);
  cursor_ = 0;
}

void LineBuffer::kill_word() {
  size_t end = cursor_;
  word_left();
  text_.erase(cursor_, end - cursor_);
}

// ---- recall --------------------------------------------------------------------------------

void Recall::load(std::vector<std::string> entries) {
  entries_ = std::move(entries);
  if (entries_.size() > max_) entries_.erase(entries_.begin(), entries_.end() - static_cast<long>(max_));
  reset();
}

void Recall::add(const std::string& line) {
  if (!is_blank(line) && (entries_.empty() || entries_.back() != line)) {
    entries_.push_back(line);
    if (entries_.size() > max_) entries_.erase(entries_.begin());
  }
  reset();
}

bool Recall::up(const std::string& current, std::string& out) {
  if (pos_ == 0) return false;
  if (pos_ == entries_.size()) draft_ = current;
  out = entries_[--pos_];
  return true;
}

bool Recall::down(std::string& out) {
  if (pos_ >= entries_.size()) return false;
  ++pos_;
  out = pos_ == entries_.size() ? draft_ : entries_[pos_];
  return true;
}

// ---- drawing -------------------------------------------------------------------------------

LineLayout layout_line(int prompt_width, std::string_view text, size_t cursor, int cols) {
  if (cols <= 0) cols = 1 << 30;  // unknown width: never wraps
  LineLayout l;
  int row = prompt_width / cols, col = prompt_width % cols;
  bool cursor_set = false;
  for (size_t i = 0; i < text.size(); i = next_char(text, i)) {
    std::string_view ch = text.substr(i, next_char(text, i) - i);
    int w = char_width(ch);
    bool splits = !terminal_safe(ch);  // drawn escaped: plain ASCII that wraps anywhere
    if (col >= cols || (!splits && col + w > cols)) {
      ++row;
      col = 0;
    }
    if (i == cursor) {
      l.cursor_row = row;
      l.cursor_col = col;
      cursor_set = true;
    }
    col += w;
    while (splits && col > cols) {
      ++row;
      col -= cols;
    }
  }
  if (col >= cols) {
    ++row;
    col = 0;
  }
  l.end_row = row;
  l.end_col = col;
  if (!cursor_set) {
    l.cursor_row = row;
    l.cursor_col = col;
  }
  return l;
}

namespace {

void move(std::string& out, int n, char dir) {
  if (n <= 0) return;
  out += "\x1b[";
  out += std::to_string(n);
  out += dir;
}

}  // namespace

void erase_line(std::string& out, int from_row) {
  out += '\r';
  move(out, from_row, 'A');
  out += "\x1b[J";
}

int render_line(std::string& out, std::string_view prompt, int prompt_width, std::string_view text,
                size_t cursor, int cols, int from_row) {
  erase_line(out, from_row);
  out.append(prompt);
  for (size_t i = 0; i < text.size(); i = next_char(text, i)) {
    std::string_view ch = text.substr(i, next_char(text, i) - i);
    if (terminal_safe(ch)) out.append(ch);
    else append_terminal_safe(out, ch);
  }
  LineLayout l = layout_line(prompt_width, text, cursor, cols);
  // An end exactly at the right margin: the terminal waits there to wrap; go to the next row
  // so that its cursor is where the layout says.
  if (cols > 0 && l.end_col == 0 && l.end_row > 0) out += "\r\n";
  move(out, l.end_row - l.cursor_row, 'A');
  out += '\r';
  move(out, l.cursor_col, 'C');
  return l.cursor_row;
}

}  // namespace client
