// session.cpp — the interactive session's start, loop and keys (session.hpp).
#include "session.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cstdlib>

#include "../common/clock.hpp"
#include "../common/protocol.hpp"
#include "../common/text.hpp"
#include "color.hpp"
#include "commands.hpp"
#include "outbox.hpp"
#include "state_files.hpp"
#include "terminal.hpp"

namespace client {

namespace {

constexpr size_t kAskAbove = 10;     // a paste of more lines asks once
constexpr int kEscapeWaitMs = 50;    // a lone ESC: the rest of a sequence has this long

bool dumb_terminal() {
  const char* t = std::getenv("TERM");
  return !t || !*t || std::string(t) == "dumb";
}

}  // namespace

Session::Session(const Options& o)
    : o_(o),
      editor_(is_terminal(0) && is_terminal(1) && !dumb_terminal()),
      tty_out_(is_terminal(1)),
      color_(color_for_fd(1, o.format)),
      printer_(o.format, is_terminal(1), 1000) {
  printer_.set_color(color_);
  const char* l = std::setlocale(LC_CTYPE, nullptr);
  std::string loc = l ? l : "";
  utf8_ = loc.find("UTF-8") != std::string::npos || loc.find("utf8") != std::string::npos ||
          loc.find("UTF8") != std::string::npos || loc.find("utf-8") != std::string::npos;
}

int Session::run() {
  set_report_color(color_for_fd(2, o_.format));  // refusals and errors in red
  if (!tty_.install(0, editor_)) editor_ = false;
  if (editor_) tty_.enter_raw();  // early: keys typed while the history loads are kept raw
  if (tty_out_) terminal_size(1, rows_, cols_);
  int rc = show_history();
  if (rc == kExitOk && !open_sender()) rc = kExitUnreachable;
  if (rc != kExitOk) {
    // What was typed or pasted while waiting for the server is not left for the shell
    // (SPEC Client: nothing of it reaches the shell after the session ends).
    tty_.leave_raw(true);
    return rc;
  }
  // Notes an earlier session left pending for this server go first.
  int out_rc = send_outbox(o_, sender_->peer(), [this](const std::string& line) {
    std::string s;
    append_colored(s, color_, kSgrDim, line);
    write_all(1, s + "\n");
  });
  if (out_rc != kExitOk) worst_ = std::max(worst_, out_rc);
  std::string dir = state_dir([](const char* n) { return std::getenv(n); });
  if (!dir.empty()) {
    recall_path_ = dir + "/history";
    recall_.load(load_history(recall_path_));
  }
  open_follow();
  return loop();
}

int Session::show_history() {
  // Every past note, first (the original exercise's first requirement). It streams: once it
  // is longer than the screen it goes into the pager, which opens at the newest note.
  std::string pager_cmd = o_.no_pager ? std::string() : pager_command();
  bool may_page = tty_out_ && rows_ > 0 && !pager_cmd.empty();
  const std::string paged_cmd = pager_at_newest(pager_cmd);
  const bool at_newest = paged_cmd != pager_cmd;  // less +G; other pagers open at the top
  Pager pager;
  std::string text;
  size_t screen = 0, counted = 0;  // rows of text[0, counted)
  auto page_if_long = [&] {
    if (!may_page || pager.running()) return;
    for (size_t pos = counted; pos < text.size();) {  // rows, roughly: bytes per column
      size_t nl = text.find('\n', pos);
      size_t len = (nl == std::string::npos ? text.size() : nl) - pos;
      screen += 1 + (len > 0 ? (len - 1) / static_cast<size_t>(cols_ > 0 ? cols_ : 80) : 0);
      pos = nl == std::string::npos ? text.size() : nl + 1;
    }
    counted = text.size();
    if (screen + 2 < static_cast<size_t>(rows_)) return;  // it fits, with the closing lines
    tty_.leave_raw();  // the pager has the terminal
    if (!pager.start(paged_cmd)) {
      tty_.enter_raw();
      may_page = false;
      return;
    }
    pager.write(text);
    text.clear();
    counted = 0;
  };
  // A server slow to answer: after a second of silence, say what the wait is for (the keys
  // typed meanwhile are held in raw mode and dropped if it never answers).
  const int64_t asked_ms = mono_ms();
  bool said_waiting = false;
  auto idle = [&] {
    if (said_waiting || !tty_out_ || printer_.notes() > 0 || mono_ms() - asked_ms < 1000) return;
    said_waiting = true;
    std::string s;
    append_colored(s, color_, kSgrDim,
                   "(waiting for the server at " + o_.host + ":" + std::to_string(o_.tcp_port) +
                       " (TCP) to send the notes; giving up after " +
                       std::to_string(o_.timeout_s) + " s of silence)");
    write_all(1, s + (tty_.raw() ? "\r\n" : "\n"));
  };
  // With filters, live notes start after the newest note stored now, not after the newest
  // shown: `--last 0`, or a --grep that selects nothing, must not replay the store live.
  uint64_t newest = 0;
  if (!to_wire(o_.filters).empty()) {
    Filters newest_only;
    newest_only.last = 1;
    int rc0 = query(o_, history_request(newest_only), [&](std::string_view l) {
      if (auto s = parse_u64(l.substr(0, l.find('\t')))) newest = *s;
    }, idle);
    if (rc0 != kExitOk) return rc0;
  }
  int rc = query(o_, history_request(o_.filters), [&](std::string_view l) {
    printer_.add(l, text);
    if (pager.running()) {
      if (text.size() >= (64u << 10)) {
        pager.write(text);
        text.clear();
      }
    } else if (text.size() > counted) {
      page_if_long();
    }
  }, idle);
  printer_.flush(text);
  if (rc == kExitOk) page_if_long();
  // less -F quits at once when it all fits: then there is nothing to say about the pager.
  bool paged = pager.running() && screen + 1 >= static_cast<size_t>(rows_);
  // The newest notes that fit above the closing lines and the prompt.
  const size_t newest_rows = static_cast<size_t>(std::max(1, rows_ - 4));
  std::string hint;
  if (pager.running()) {
    pager.write(text);
    bool ran = pager.finish();
    tty_.enter_raw();
    if (!ran) {
      // The shell found no such command: the newest notes here instead, said in one line.
      report("pager '" + pager_cmd + "' could not run (exit 127: not found?); the newest notes "
             "are shown here (--no-pager shows all; PAGER=less opens at the newest)");
      write_all(1, pager.tail(newest_rows));
      paged = false;
    } else if (paged && !at_newest) {
      // A pager that can not be told to open at the end showed the oldest first: the newest
      // notes go below it, so that they are on the screen when it is gone.
      write_all(1, pager.tail(newest_rows));
      hint = "(above: the newest notes; $PAGER opened at the oldest: PAGER=less opens at "
             "the newest)";
    } else if (paged) {
      hint = "(the pager opened at the newest note: b or PgUp there goes back; all notes: "
             "dailynet history | less)";
    }
  } else {
    write_all(1, text);
  }
  if (rc != kExitOk) return rc;
  last_shown_ = std::max(printer_.last_seq(), newest);
  size_t n = printer_.notes();
  std::string closing = n == 0 ? std::string("no notes yet")
                               : group_thousands(n) + (n == 1 ? " note" : " notes");
  if (!to_wire(o_.filters).empty()) closing += " selected by the filters";
  std::string s;
  if (!hint.empty()) append_colored(s, color_, kSgrDim, hint + "\n");
  append_colored(s, color_, kSgrDim, closing + " \u2014 type a note, or h for help");
  write_all(1, s + "\n");
  return kExitOk;
}

int Session::loop() {
  draw();
  while (!leaving_) {
    if (!wait_and_dispatch()) break;
  }
  return finish();
}

// One turn: poll everything, handle what is ready. False when the keyboard is gone.
bool Session::wait_and_dispatch() {
  int64_t now = mono_ms();
  int timeout = 1000;
  int t = sender_->next_timer_ms();
  if (t >= 0) timeout = std::min(timeout, t);
  if (decoder_.holding()) timeout = std::min(timeout, kEscapeWaitMs);
  auto until = [now](int64_t t) { return static_cast<int>(std::clamp<int64_t>(t - now, 0, 1000)); };
  if (follow_state_ == FollowState::off) timeout = std::min(timeout, until(follow_retry_ms_));
  if (follow_state_ == FollowState::connecting)
    timeout = std::min(timeout, until(follow_deadline_ms_));
  if (!sent_at_ms_.empty()) timeout = std::min(timeout, 200);  // the pending count appears
  const bool follow_fd = follow_state_ != FollowState::off && follow_state_ != FollowState::dead;
  const short follow_events = follow_state_ == FollowState::connecting ? POLLOUT : POLLIN;
  pollfd p[4] = {{0, POLLIN, 0}, {tty_.wake_fd(), POLLIN, 0}, {sender_->fd(), POLLIN, 0},
                 {follow_fd ? follow_.fd() : -1, follow_events, 0}};
  size_t shown_pending = pending_visible();
  int n = ::poll(p, 4, timeout);
  if (n < 0 && errno != EINTR) return false;
  if (n > 0 && p[1].revents) on_signals(tty_.take_events());
  if (leaving_) return true;
  if (n > 0 && p[2].revents) sender_->on_readable();
  sender_->on_timers();
  pump_queue();
  if (follow_fd) on_follow_event(n > 0 ? p[3].revents : 0);
  if (follow_state_ == FollowState::off && mono_ms() >= follow_retry_ms_) open_follow();
  if (n > 0 && p[0].revents) {
    if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL) && !(p[0].revents & POLLIN)) return false;
    on_terminal_input();
  } else if (n == 0 && decoder_.holding()) {
    std::vector<Key> keys;
    decoder_.flush(keys);
    for (const Key& k : keys) on_key(k);
    if (dirty_) draw();
  }
  journal_pending(true);
  if (pending_visible() != shown_pending && !leaving_) draw();
  return true;
}

void Session::on_signals(unsigned ev) {
  if (ev & Tty::kTerminate) {
    // SIGTERM, SIGHUP: the line stays as it was typed, and whatever comes next (the
    // shell's prompt) starts on a line of its own.
    if (editor_) commit_line();
    else write_all(1, "\n");
    leaving_ = true;
    return;
  }
  if (ev & Tty::kSuspend) {
    write_all(1, "\r\n");
    tty_.suspend();
    ev |= Tty::kContinue;
  }
  if (ev & (Tty::kResize | Tty::kContinue)) {
    if (ev & Tty::kContinue) {
      tty_.enter_raw();  // the shell may have put its own modes back
      cursor_row_ = 0;
    }
    terminal_size(1, rows_, cols_);
    draw();
  }
}

void Session::on_terminal_input() {
  char buf[65536];
  ssize_t n = ::read(0, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    leaving_ = true;  // end of input (Ctrl-D in plain mode), or the terminal went away
    return;
  }
  std::string_view chunk(buf, static_cast<size_t>(n));
  if (!editor_) {
    // The kernel echoed what was typed; after an Enter the cursor is on a new line.
    if (chunk.find('\n') != std::string_view::npos) plain_prompt_shown_ = false;
    // Plain lines (the kernel's line discipline edits). More than one line at once: a paste.
    plain_in_.append(chunk);
    // The kernel hands out one line per read: lines already waiting behind it are a paste.
    pollfd more{0, POLLIN, 0};
    bool pasted = false;
    while (plain_in_.size() < (1u << 20) && ::poll(&more, 1, 0) > 0 && (more.revents & POLLIN)) {
      ssize_t m = ::read(0, buf, sizeof buf);
      if (m <= 0) break;
      plain_in_.append(buf, static_cast<size_t>(m));
      pasted = true;
    }
    pasted = pasted || plain_in_.find('\n') != plain_in_.rfind('\n');
    size_t last = plain_in_.rfind('\n');
    if (last == std::string::npos) return;
    std::vector<std::string> lines = split_pasted_lines(std::string_view(plain_in_).substr(0, last));
    plain_in_.erase(0, last + 1);
    if (!ask_lines_.empty()) {
      // Plain lines: the answer to "send N notes? [y/N]" is the next line (one read of
      // several lines is a paste, and a paste is never an answer: N).
      std::string a = lines.empty() ? std::string() : trim_blanks(lines[0]);
      answer_paste_question(!pasted && (a == "y" || a == "Y" || a == "yes"));
      if (pasted) send_lines(std::move(lines));
    } else if (pasted) {
      send_lines(std::move(lines));
    } else {
      line_.set(lines.empty() ? std::string() : lines[0]);
      cursor_row_ = 0;
      on_enter();
    }
    if (!ask_lines_.empty()) {  // a long paste: the question replaces the prompt
      std::string out;
      clear_line(out);
      write_all(1, out);
      draw();
    }
    return;
  }
  std::vector<Key> keys;
  if (!decoder_.in_paste() && looks_pasted(chunk)) {
    keys.push_back({KeyKind::paste, std::string(chunk)});  // no bracketed paste: same rules
  } else {
    decoder_.feed(chunk, keys);
  }
  for (const Key& k : keys) {
    if (leaving_) break;
    on_key(k);
  }
  if (dirty_) draw();
}

void Session::on_key(const Key& k) {
  if (!ask_lines_.empty()) {  // "send N notes? [y/N]" waits for one key
    bool yes = k.kind == KeyKind::text && (k.text == "y" || k.text == "Y");
    write_all(1, std::string(yes ? "y" : "n") + "\r\n");
    cursor_row_ = 0;
    answer_paste_question(yes);
    if (k.kind == KeyKind::paste) on_paste(k.text);  // a paste is no answer, and not lost
    return;
  }
  std::string s;
  switch (k.kind) {
    case KeyKind::text: line_.insert(k.text); break;
    case KeyKind::enter: on_enter(); return;
    case KeyKind::backspace: line_.backspace(); break;
    case KeyKind::del: line_.del(); break;
    case KeyKind::left: line_.left(); break;
    case KeyKind::right: line_.right(); break;
    case KeyKind::home: line_.home(); break;
    case KeyKind::end: line_.end(); break;
    case KeyKind::word_left: line_.word_left(); break;
    case KeyKind::word_right: line_.word_right(); break;
    case KeyKind::kill_end: line_.kill_end(); break;
    case KeyKind::kill_start: line_.kill_start(); break;
    case KeyKind::kill_word: line_.kill_word(); break;
    case KeyKind::up:
      if (recall_.up(line_.text(), s)) line_.set(s);
      break;
    case KeyKind::down:
      if (recall_.down(s)) line_.set(s);
      break;
    case KeyKind::redraw:
      write_all(1, "\x1b[H\x1b[2J");
      cursor_row_ = 0;
      break;
    case KeyKind::interrupt:
      if (line_.empty()) {
        leaving_ = true;
        write_all(1, "\r\n");
        return;
      }
      line_.clear();  // Ctrl-C on a line clears it
      recall_.reset();
      break;
    case KeyKind::eof:
      if (line_.empty()) {
        leaving_ = true;
        write_all(1, "\r\n");
        return;
      }
      line_.del();
      break;
    case KeyKind::suspend:
      on_signals(Tty::kSuspend);
      return;
    case KeyKind::paste: on_paste(k.text); return;
    case KeyKind::ignored: return;
  }
  dirty_ = true;  // drawn once for all the keys of a read
}

void Session::answer_paste_question(bool yes) {
  std::vector<std::string> lines;
  lines.swap(ask_lines_);
  if (yes) {
    above(dim_text("(pasted: " + counted_notes(lines.size()) + ", one per line)") + "\n");
    for (auto& l : lines) send_note(l);
  } else {
    above(dim_text("(" + counted_notes(lines.size()) + " not sent)") + "\n");
  }
  draw();
}

void Session::on_enter() {
  std::string line = line_.text();
  ReplInput in = classify_input(line);
  if (in.kind == ReplInput::Kind::note) {
    if (is_blank(in.arg)) {
      commit_line();
      line_.clear();
      above(dim_text("(nothing but spaces: not sent)") + "\n");
      draw();
      return;
    }
    NoteCheck c = validate_note(in.arg, max_note_);
    if (!c.ok()) {  // checked here first: the line stays to be fixed
      report_above("note not sent: " + note_error_reason(c, max_note_) +
                   (editor_ ? "; fix it on the line and press Enter again" : ""));
      return;
    }
  }
  commit_line();
  recall_.add(line);
  line_.clear();
  run_command(in, line);
  if (!leaving_) draw();
}

void Session::on_paste(const std::string& text) {
  if (text.find_first_of("\r\n") == std::string::npos) {
    line_.insert(text);  // one line: onto the line being typed, to be sent with Enter
    draw();
    return;
  }
  // Lines: each one a note, never a command; the line being typed stays as it is.
  send_lines(split_pasted_lines(text));
  draw();
}

void Session::send_lines(std::vector<std::string> lines) {
  std::vector<std::string> notes;
  size_t blank = 0;
  for (auto& l : lines) {
    if (l.empty()) continue;
    if (is_blank(l)) ++blank;
    else notes.push_back(std::move(l));
  }
  if (blank)
    above(dim_text("(" + counted_notes(blank) + " of nothing but spaces skipped)") + "\n");
  if (notes.size() > kAskAbove) {
    ask_lines_ = std::move(notes);
    return;  // the prompt asks
  }
  if (!notes.empty())
    above(dim_text("(pasted: " + counted_notes(notes.size()) + ", one per line)") + "\n");
  for (auto& n : notes) send_note(n);
}

void Session::run_command(const ReplInput& in, const std::string& line) {
  using K = ReplInput::Kind;
  switch (in.kind) {
    case K::empty:
      if (!line.empty()) above(dim_text("(nothing but spaces: not sent)") + "\n");
      break;
    case K::quit: leaving_ = true; break;
    case K::help: show_output(kSessionHelp); break;
    case K::sync: sync(); break;
    case K::who: who(); break;
    case K::clear:
      write_all(1, "\x1b[H\x1b[2J");
      cursor_row_ = 0;
      break;
    case K::mine: {
      SockAddr me = sender_->local();
      notes_from(me.len ? me.ip_string() : std::string("127.0.0.1"));
      break;
    }
    case K::from: notes_from(in.arg); break;
    case K::find:
      if (in.arg.empty()) {
        report_above("/find wants a text: /find milk (letters in any case)");
        break;
      }
      find(in.arg, false);
      break;
    case K::today: find({}, true); break;
    case K::bad_from:
      report_above("/from wants an address: IP (any port) or IP:PORT, e.g. /from 127.0.0.1");
      break;
    case K::unknown: {
      std::string safe;
      append_terminal_safe(safe, in.arg);
      report_above("unknown command " + safe + " (h for help); to send it as a note: \\" + safe);
      break;
    }
    case K::note: send_note(in.arg); break;
  }
}

int Session::finish() {
  // Acknowledgements still on their way get a moment; what is left goes to the outbox.
  size_t left = queue_.size() + sent_at_ms_.size();
  if (left) {
    if (editor_) write_all(1, "\r\x1b[J");  // a plain terminal gets no escape sequences
    int64_t deadline = mono_ms() + 2000;
    while (!sent_at_ms_.empty() && mono_ms() < deadline) {
      sender_->wait(100);
      pump_queue();
    }
  }
  std::vector<std::pair<uint64_t, std::string>> notes = sender_->unsettled();
  uint64_t next = sender_->next_msg();
  for (const auto& q : queue_) notes.emplace_back(next++, q);
  journal_pending(false);  // settled ones leave the outbox; the others are in notes
  tty_.leave_raw(true);  // what was typed and not read is not left for the shell
  if (!notes.empty()) {
    std::string error;
    std::string path = save_to_outbox(sender_->peer(), sender_->client_id(), notes, error);
    std::string n = counted_notes(notes.size());
    if (path.empty())
      report(n + " not acknowledged by " + sender_->peer() + " and not kept: " + error);
    else
      report(n + " not acknowledged by " + sender_->peer() + " (UDP) yet: kept in " + path +
             "; the next dailynet or dailynet send to " + sender_->peer() + " sends them first");
    worst_ = std::max(worst_, static_cast<int>(kExitNoAck));
  }
  save_recall();
  return worst_;
}

}  // namespace client
