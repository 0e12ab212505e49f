// session_io.cpp — the interactive session's drawing, sending, live notes and commands
// (session.hpp). Every write to the terminal that is not the line itself goes "above": the
// line is erased, the text written, the line drawn again.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "../common/clock.hpp"
#include "../common/net.hpp"
#include "../common/protocol.hpp"
#include "color.hpp"
#include "commands.hpp"
#include "outbox.hpp"
#include "session.hpp"
#include "state_files.hpp"
#include "terminal.hpp"
#include "when.hpp"

namespace client {

namespace {

constexpr int64_t kPendingShowMs = 700;  // unacknowledged this long: shown as pending
constexpr size_t kLongLine = 1000;       // from this many bytes the prompt shows the count

// Rows the text takes on a screen `cols` wide.
size_t screen_rows(std::string_view text, int cols) {
  size_t rows = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    size_t w = line.size() > 4096 ? line.size() : static_cast<size_t>(display_width(line));
    rows += cols > 0 ? 1 + (w > 0 ? (w - 1) / static_cast<size_t>(cols) : 0) : 1;
    pos = end + 1;
  }
  return rows;
}

}  // namespace

const char kSessionHelp[] =
    "Type a line and press Enter: it is stored as a note. Pasted text is always notes, one per\n"
    "line (more than 10 lines: asked once). Notes by others appear above the prompt. Commands:\n"
    "  h, help, ?        this help\n"
    "  r, sync           show the notes added (by anyone) since the last one shown\n"
    "  q, quit, exit, :q leave (so do Ctrl-D, and Ctrl-C on an empty line)\n"
    "  clear             clear the screen (so does Ctrl-L)\n"
    "  /who              who wrote how much (the clients of the server)\n"
    "  /from ADDR        the notes from ADDR: IP (any port) or IP:PORT\n"
    "  /mine             the notes from this machine's address\n"
    "  /find TEXT        the notes that contain TEXT (letters in any case)\n"
    "  /today            today's notes\n"
    "  /help /sync /quit the same as h, r, q\n"
    "  \\TEXT             send TEXT as a note, even \"q\" or \"/who\" (the \\ is removed)\n"
    "Editing: Left/Right, Home/End, Ctrl-A/E/B/F, Backspace/Delete, Ctrl-K/U/W, Up/Down\n"
    "(earlier lines), Ctrl-L, Ctrl-Z. A note not yet acknowledged shows as pending and is\n"
    "retried; if it still is when you leave, the next dailynet sends it first.\n";

std::string counted_notes(size_t n) { return group_thousands(n) + (n == 1 ? " note" : " notes"); }

std::string Session::dim_text(std::string_view safe) const {
  std::string s;
  append_colored(s, color_, kSgrDim, safe);
  return s;
}

// ---- drawing -------------------------------------------------------------------------------

std::string Session::prompt(int& width) const {
  std::string plain, shown;
  auto add = [&](const std::string& part, std::string_view sgr) {
    plain += part;
    append_colored(shown, color_, sgr, part);
  };
  if (!ask_lines_.empty()) {
    add("send " + counted_notes(ask_lines_.size()) + "? [y/N] ", kSgrYellow);
  } else {
    if (size_t p = pending_visible()) add("(" + group_thousands(p) + " pending) ", kSgrYellow);
    size_t len = line_.text().size();
    if (len > max_note_)
      add("[" + group_thousands(len) + " bytes, max " + group_thousands(max_note_) + "] ",
          kSgrRed);
    else if (len >= kLongLine)
      add("[" + group_thousands(len) + " bytes] ", kSgrDim);
    add(utf8_ ? "note\u203a " : "note> ", kSgrBold);
  }
  width = display_width(plain);
  return shown;
}

void Session::draw() {
  dirty_ = false;
  if (leaving_) return;
  int width = 0;
  std::string p = prompt(width);
  if (!editor_) {
    // Plain lines: a note just sent gets its "#seq" (or shows as pending) before the next
    // prompt, so that the answer never lands after a prompt that has no line to redraw.
    if (!sent_at_ms_.empty() && pending_visible() == 0) return;
    write_all(1, p);
    plain_prompt_shown_ = true;
    return;
  }
  // While "send N notes? [y/N]" waits, the half-typed line is not drawn after it (the answer
  // would land in it); it comes back once answered.
  const bool asking = !ask_lines_.empty();
  std::string out;
  cursor_row_ = render_line(out, p, width, asking ? std::string_view() : line_.text(),
                            asking ? 0 : line_.cursor(), cols_, cursor_row_);
  write_all(1, out);
}

void Session::commit_line() {
  if (!editor_) return;  // the terminal echoed the line and its newline
  int width = 0;
  std::string p = prompt(width), out;
  render_line(out, p, width, line_.text(), line_.text().size(), cols_, cursor_row_);
  out += "\r\n";
  cursor_row_ = 0;
  write_all(1, out);
}

// The line goes, so that other output can take its place (then draw() brings it back).
void Session::clear_line(std::string& out) {
  if (editor_) {
    erase_line(out, cursor_row_);
    cursor_row_ = 0;
    return;
  }
  // A plain terminal: the prompt is blanked out with spaces (no erase sequence there).
  if (!plain_prompt_shown_) return;
  plain_prompt_shown_ = false;
  int width = 0;
  prompt(width);
  out += "\r" + std::string(static_cast<size_t>(width), ' ') + "\r";
}

void Session::above(const std::string& text) {
  std::string out;
  clear_line(out);
  out += text;
  write_all(1, out);
  draw();
}

void Session::report_above(const std::string& message) {
  std::string out;
  clear_line(out);
  write_all(1, out);
  report(message);
  draw();
}

void Session::show_output(const std::string& text) {
  std::string cmd = o_.no_pager ? std::string() : pager_command();
  if (!editor_ || rows_ <= 0 || cmd.empty() ||
      screen_rows(text, cols_) + 2 < static_cast<size_t>(rows_)) {
    above(text);
    return;
  }
  std::string out;
  erase_line(out, cursor_row_);
  write_all(1, out);
  tty_.leave_raw();
  Pager pager;
  if (pager.start(pager_at_newest(cmd))) {
    pager.write(text);
    if (!pager.finish()) {
      report("pager '" + cmd + "' could not run (exit 127: not found?); shown here instead "
             "(--no-pager turns the pager off)");
      write_all(1, text);
    }
  } else {
    write_all(1, text);
  }
  tty_.enter_raw();
  cursor_row_ = 0;
  draw();
}

// ---- sending -------------------------------------------------------------------------------

bool Session::open_sender() {
  UdpSender::Settings s;
  s.window = 32;
  s.timeout_ms = o_.timeout_s * 1000;
  s.verbose = o_.verbose;
  s.keep_trying = true;  // a note is retried until acknowledged, shown pending meanwhile
  sender_ = std::make_unique<UdpSender>(s);
  sender_->on_result = [this](const NoteResult& r) { on_result(r); };
  std::string error;
  if (!sender_->open(o_.host, o_.udp_port, error)) {
    report(error);
    return false;
  }
  own_addr_ = sender_->local().to_string();
  return true;
}

void Session::send_note(const std::string& text) {
  queue_.push_back(text);
  pump_queue();
}

void Session::pump_queue() {
  while (!queue_.empty() && sender_->add(queue_.front(), 0)) {
    sent_at_ms_.push_back(mono_ms());
    queue_.pop_front();
  }
  sender_->flush();
  flush_acks();
}

size_t Session::pending_visible() const {
  if (sent_at_ms_.empty() || mono_ms() - sent_at_ms_.front() < kPendingShowMs) return 0;
  return sent_at_ms_.size() + queue_.size();
}

// Write-ahead outbox: once a note shows as pending, it (and every note not settled, the
// queued ones with the message numbers they will get) is in the outbox, so that a kill -9 or
// a crash loses none; one settled since it was written is removed. One outbox write each way
// per turn at most. The next run sends what is left exactly once (same client id and number).
void Session::journal_pending(bool add_pending) {
  std::string error;
  std::string path = outbox_path();
  if (path.empty()) return;
  if (!journal_settled_.empty()) {
    std::vector<OutboxEntry> done;
    for (uint64_t m : journal_settled_) done.push_back({sender_->peer(), sender_->client_id(), m, {}});
    journal_settled_.clear();
    if (!outbox_remove(path, done, error)) report_above(error);
  }
  if (!add_pending || leaving_ || !pending_visible()) return;  // leaving: finish() writes them
  // Message numbers only grow: every unsettled note below journaled_below_ is written
  // already, so only the ones added since are (no search per note: a long paste pending
  // costs one pass per write, not one per note and turn).
  const uint64_t end = sender_->next_msg() + queue_.size();
  if (end <= journaled_below_) return;
  std::vector<std::pair<uint64_t, std::string>> add;
  for (auto& n : sender_->unsettled())
    if (n.first >= journaled_below_) add.push_back(std::move(n));
  uint64_t next = sender_->next_msg();
  for (const auto& q : queue_) {
    if (next >= journaled_below_) add.emplace_back(next, q);
    ++next;
  }
  if (!add.empty() &&
      save_to_outbox(sender_->peer(), sender_->client_id(), add, error).empty()) {
    if (!journal_failed_said_) report_above("pending notes not kept in the outbox: " + error);
    journal_failed_said_ = true;  // tried again next turn, said once
    return;
  }
  journaled_below_ = end;
}

void Session::on_result(const NoteResult& r) {
  if (!sent_at_ms_.empty()) sent_at_ms_.pop_front();
  if (r.msg < journaled_below_) journal_settled_.push_back(r.msg);  // it is in the outbox
  if (!r.refused) {
    acks_.push_back(r.seq);
    return;
  }
  flush_acks();
  worst_ = std::max(worst_, static_cast<int>(kExitRefused));
  std::string reason(r.reason);
  size_t at = reason.find("(max ");
  if (at != std::string::npos) {  // "note too long (max 4096 bytes)": the server's limit
    auto n = parse_u64(std::string_view(reason).substr(at + 5, reason.find(' ', at + 5) - at - 5));
    if (n && *n > 0) max_note_ = std::min<size_t>(*n, UdpSender::kMaxNote);
  }
  std::string text(r.text);
  if (!editor_) {  // plain lines: there is no line to put it back on
    report_above("note refused by " + sender_->peer() + ": " + reason + " (not stored)");
    return;
  }
  bool back = line_.empty() && ask_lines_.empty();
  if (back) line_.set(text);
  else recall_.add(text);
  report_above("note refused by " + sender_->peer() + ": " + reason +
               (back ? "; it is back on the line: fix it and press Enter"
                     : "; Up brings it back to fix"));
}

// The acknowledgements of a turn, in one line: "#42", "#42 #43", or "#42 … #141 (100 notes)".
void Session::flush_acks() {
  if (acks_.empty()) return;
  auto seq_text = [](uint64_t s) { return s ? "#" + std::to_string(s) : std::string("ok"); };
  std::string line;
  if (acks_.size() <= 10) {
    for (uint64_t s : acks_) line += (line.empty() ? "" : " ") + seq_text(s);
  } else {
    line = seq_text(acks_.front()) + " \u2026 " + seq_text(acks_.back()) + " (" +
           counted_notes(acks_.size()) + " stored)";
  }
  acks_.clear();
  std::string s;
  append_colored(s, color_, kSgrGreen, line);
  above(s + "\n");
}

// ---- commands ------------------------------------------------------------------------------

void Session::sync() {
  std::string out;
  size_t before = printer_.notes();
  uint64_t own_last = 0;  // our own notes were announced by their "#seq", as on the live display
  int rc = query(o_, history_request(after_shown()), [&](std::string_view l) {
    if (note_addr(l) != own_addr_) {
      printer_.add(l, out);
      return;
    }
    if (auto seq = parse_u64(l.substr(0, l.find('\t')))) own_last = std::max(own_last, *seq);
  });
  printer_.flush(out);
  if (rc != kExitOk) {
    worst_ = std::max(worst_, rc);
    draw();
    return;
  }
  last_shown_ = std::max({last_shown_, printer_.last_seq(), own_last});
  size_t n = printer_.notes() - before;
  out += dim_text(n == 0 ? std::string("(no new notes)")
                         : "(" + group_thousands(n) + (n == 1 ? " new note)" : " new notes)")) +
         "\n";
  show_output(out);
}

void Session::who() {
  std::vector<std::string> lines;
  int rc = query(o_, "CLIENTS", [&](std::string_view l) { lines.emplace_back(l); });
  if (rc != kExitOk) {
    worst_ = std::max(worst_, rc);
    draw();
    return;
  }
  std::string out;
  render_clients(lines, o_.format, tty_out_, out, color_);
  show_output(out);
}

void Session::find(const std::string& text, bool today) {
  Filters f;
  if (today) f.since_ms = local_midnight_ms(wall_ms(), 0);
  else f.match = text;
  NotePrinter p(o_.format, tty_out_, SIZE_MAX);
  p.set_color(color_);
  std::string out;
  int rc = query(o_, history_request(f), [&](std::string_view l) { p.add(l, out); });
  if (rc != kExitOk) {
    worst_ = std::max(worst_, rc);
    draw();
    return;
  }
  p.flush(out);
  std::string what;
  if (today) {
    what = " today";
  } else {
    append_terminal_safe(what, text);
    what = " with \"" + what + "\"";
  }
  size_t n = p.notes();
  out += dim_text("(" + (n == 0 ? std::string("no notes") : counted_notes(n)) + what + ")") + "\n";
  show_output(out);
}

void Session::notes_from(const std::string& addr) {
  NotePrinter p(o_.format, tty_out_, SIZE_MAX);
  p.set_color(color_);
  std::string out;
  int rc = query(o_, "HISTORY FROM " + addr, [&](std::string_view l) { p.add(l, out); });
  if (rc != kExitOk) {
    worst_ = std::max(worst_, rc);
    draw();
    return;
  }
  p.flush(out);
  size_t n = p.notes();
  std::string safe_addr;  // checked by parse_addr_filter, escaped all the same
  append_terminal_safe(safe_addr, addr);
  out += dim_text("(" + (n == 0 ? std::string("no notes") : counted_notes(n)) + " from " +
                  safe_addr + ")") +
         "\n";
  show_output(out);
}

void Session::save_recall() {
  if (recall_path_.empty()) return;
  std::string error;
  std::string dir = recall_path_.substr(0, recall_path_.rfind('/'));
  if (!make_state_dir(dir, error) || !save_history(recall_path_, recall_.entries(), error))
    report("line history not saved: " + error);
}

}  // namespace client
