// line_editor.hpp — the interactive session's line editor, pure: no I/O, no terminal state.
// It owns the rules; client/tty.* (raw mode, signals) and client/interactive.cpp (the loop)
// are the thin shell around it. Four parts:
//  * InputDecoder: terminal input bytes -> keys (UTF-8 characters, control keys, CSI `ESC [`
//    and SS3 `ESC O` sequences for cursor keys, Home/End/Delete) and bracketed-paste blocks
//    (`ESC [200~` ... `ESC [201~`, xterm's "bracketed paste" mode) delivered whole;
//  * LineBuffer: the line being typed, with a cursor that moves by user-perceived character
//    (a grapheme cluster, grapheme.hpp: a ZWJ emoji, a flag, a letter with its accents);
//  * Recall: Up/Down through earlier lines, the line being typed kept as a draft;
//  * display_width() / render_line(): columns per character (wcwidth; a CJK character or an
//    emoji takes two) and the escape sequence that redraws a prompt plus a line that wraps
//    over several terminal rows, from wherever the cursor was left by the previous draw.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace client {

enum class KeyKind {
  text,         // one character (text holds its UTF-8 bytes; an invalid byte alone)
  enter,        // CR or LF
  backspace,    // DEL (0x7f) or Ctrl-H
  del,          // ESC [3~
  left, right, up, down, home, end,
  word_left, word_right,  // Alt-b / Alt-f, Ctrl-Left / Ctrl-Right
  kill_end,     // Ctrl-K
  kill_start,   // Ctrl-U
  kill_word,    // Ctrl-W
  redraw,       // Ctrl-L
  interrupt,    // Ctrl-C
  eof,          // Ctrl-D
  suspend,      // Ctrl-Z
  paste,        // a whole bracketed paste; text holds what was pasted
  ignored,      // an escape sequence or control key with no meaning here
};

struct Key {
  KeyKind kind = KeyKind::ignored;
  std::string text;
};

// Turns terminal input into keys. Bytes may arrive split anywhere (an escape sequence or a
// UTF-8 character over two reads, a paste over many): feed() keeps what is incomplete.
class InputDecoder {
 public:
  // Appends the keys that `bytes` completes to out.
  void feed(std::string_view bytes, std::vector<Key>& out);
  // Input went quiet with an incomplete sequence held (a lone ESC, a cut UTF-8 character):
  // decide it now as it is. Does nothing inside a paste (that waits for its end marker).
  void flush(std::vector<Key>& out);
  bool holding() const noexcept { return !held_.empty() && !in_paste_; }
  bool in_paste() const noexcept { return in_paste_; }

 private:
  // Decodes one key at the front of s; 0 when s is only the start of one (and !final).
  size_t decode(std::string_view s, bool final, std::vector<Key>& out);
  std::string held_;
  bool in_paste_ = false;
  std::string paste_;
};

// True when a read of terminal input holds more than one line — a line end followed by more
// bytes (a CR LF pair counts as one end) — which typing cannot produce in one read: a paste
// by a terminal without bracketed paste. Input with a bracketed-paste marker is not.
bool looks_pasted(std::string_view chunk) noexcept;

// Splits pasted text at CR, LF or CR LF. A last line without an end is kept.
std::vector<std::string> split_pasted_lines(std::string_view text);

// True when s holds nothing but spaces (ASCII blanks, NBSP, U+3000 and other Unicode spaces).
bool is_blank(std::string_view s) noexcept;

// UTF-8 steps: the offset of the next (previous) character boundary after (before) i; an
// invalid byte is one character.
size_t next_char(std::string_view s, size_t i) noexcept;
size_t prev_char(std::string_view s, size_t i) noexcept;

// Terminal columns of one character as the line editor draws it: wcwidth() of its code point
// (2 for East Asian wide characters and emoji, 0 for combining marks), with a built-in table
// when the C library's locale is not UTF-8; a character that is not terminal-safe is drawn
// escaped (format.hpp's append_terminal_safe) and takes that many columns.
int char_width(std::string_view ch) noexcept;
int display_width(std::string_view s) noexcept;

// The line being typed: UTF-8 bytes and a cursor (a byte offset on a grapheme boundary).
// Left/Right, Backspace and Delete step over one grapheme cluster (grapheme.hpp).
class LineBuffer {
 public:
  const std::string& text() const noexcept { return text_; }
  size_t cursor() const noexcept { return cursor_; }
  bool empty() const noexcept { return text_.empty(); }
  void set(std::string text);  // cursor at the end
  void clear() noexcept { text_.clear(); cursor_ = 0; }
  void insert(std::string_view s);
  bool backspace();  // false when there was nothing before the cursor
  bool del();        // false when there was nothing under the cursor
  void left() noexcept;
  void right() noexcept;
  void home() noexcept { cursor_ = 0; }
  void end() noexcept { cursor_ = text_.size(); }
  void word_left() noexcept;
  void word_right() noexcept;
  void kill_end();
  void kill_start();
  void kill_word();  // the word before the cursor, and the blanks after it

 private:
  std::string text_;
  size_t cursor_ = 0;
};

// Up/Down recall. entries: oldest first. Up from the line being typed keeps it as a draft
// that Down brings back.
class Recall {
 public:
  explicit Recall(size_t max_entries = 1000) : max_(max_entries) {}
  void load(std::vector<std::string> entries);
  // Adds a line sent or run (not blank; not a repeat of the newest) and resets the position.
  void add(const std::string& line);
  const std::vector<std::string>& entries() const noexcept { return entries_; }
  // The earlier (later) entry to show instead of `current`; false at the end.
  bool up(const std::string& current, std::string& out);
  bool down(std::string& out);
  void reset() noexcept { pos_ = entries_.size(); }

 private:
  size_t max_;
  std::vector<std::string> entries_;
  size_t pos_ = 0;
  std::string draft_;
};

// Where a prompt plus a line lands on a terminal `cols` wide: rows below the prompt's first
// row and the column of the cursor and of the end. A character that does not fit in what is
// left of a row starts the next one (as terminals wrap wide characters); an end exactly at
// the right margin counts as the start of the next row.
struct LineLayout {
  int cursor_row = 0, cursor_col = 0;
  int end_row = 0, end_col = 0;
};
LineLayout layout_line(int prompt_width, std::string_view text, size_t cursor, int cols);

// The bytes that redraw prompt + text: up `from_row` rows (where the previous draw left the
// cursor, relative to the prompt's first row), column 0, erase to the end of the screen, the
// prompt, the text (not terminal-safe characters escaped), then the cursor to its place.
// prompt is ours (may hold colour); prompt_width its columns. Returns the new cursor row.
int render_line(std::string& out, std::string_view prompt, int prompt_width, std::string_view text,
                size_t cursor, int cols, int from_row);

// The bytes that take the cursor from `from_row` (as above) to column 0 of the prompt's
// first row and erase from there down: the line vanishes, so other output can be written
// there and the line drawn again below it.
void erase_line(std::string& out, int from_row);

}  // namespace client
