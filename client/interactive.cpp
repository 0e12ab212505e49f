// interactive.cpp — `dailynet` on a terminal: every past note first (through a pager when
// longer than the screen, like git log), then one line at a time: a note, or a command.
// Notes go through one UdpSender for the session (one client id, so a retry is stored once);
// each is acknowledged quietly ("#42") or refused loudly. Ctrl-C leaves cleanly, after the
// acknowledgement of a note in flight.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <memory>

#include "../common/net.hpp"
#include "../common/protocol.hpp"
#include "color.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "interactive.hpp"
#include "terminal.hpp"
#include "udp_sender.hpp"

namespace client {

namespace {

const char kHelp[] =
    "Type a line and press Enter: it is stored as a note. Commands:\n"
    "  h, help, ?        this help\n"
    "  r, sync           show the notes added (by anyone) since the last one shown\n"
    "  q, quit           leave (so do Ctrl-D and Ctrl-C)\n"
    "  /who              who wrote how much (the clients of the server)\n"
    "  /from ADDR        the notes from ADDR: IP (any port) or IP:PORT\n"
    "  /mine             the notes from this machine's address\n"
    "  /help /sync /quit the same as h, r, q\n"
    "  \\TEXT             send TEXT as a note, even \"q\" or \"/who\" (the \\ is removed)\n";

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// Rows the text takes on a screen `cols` wide (roughly: bytes, not display width).
size_t screen_rows(std::string_view text, int cols) {
  size_t rows = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t len = (nl == std::string_view::npos ? text.size() : nl) - pos;
    rows += cols > 0 ? 1 + (len > 0 ? (len - 1) / static_cast<size_t>(cols) : 0) : 1;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return rows;
}

}  // namespace

ReplInput classify_input(std::string_view line) {
  using K = ReplInput::Kind;
  std::string cmd = trim(line);
  if (cmd.empty()) return {K::empty, {}};
  if (line[0] == '\\') {
    std::string_view note = line.substr(1);
    return note.empty() ? ReplInput{K::empty, {}} : ReplInput{K::note, std::string(note)};
  }
  if (cmd == "q" || cmd == "quit" || cmd == "/quit") return {K::quit, {}};
  if (cmd == "h" || cmd == "help" || cmd == "?" || cmd == "/help") return {K::help, {}};
  if (cmd == "r" || cmd == "sync" || cmd == "/sync") return {K::sync, {}};
  if (cmd == "/who") return {K::who, {}};
  if (cmd == "/mine") return {K::mine, {}};
  if (cmd.rfind("/from", 0) == 0 && (cmd.size() == 5 || cmd[5] == ' ' || cmd[5] == '\t')) {
    std::string addr = trim(std::string_view(cmd).substr(5));
    if (addr.empty() || !parse_addr_filter(addr)) return {K::bad_from, addr};
    return {K::from, addr};
  }
  if (cmd[0] == '/') return {K::unknown, cmd};
  return {K::note, std::string(line)};
}

std::string pager_command() {
  const char* p = std::getenv("PAGER");
  if (!p) return "less -FRX";
  std::string s = trim(p);
  if (s.empty() || s == "cat") return "";
  return s;
}

bool Pager::start(const std::string& command) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::dup2(fds[0], 0);
    if (!std::getenv("LESS")) ::setenv("LESS", "FRX", 1);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  pid_ = pid;
  fd_ = fds[1];
  broken_ = false;
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old_int_);
  sigaction(SIGPIPE, &ign, &old_pipe_);
  return true;
}

void Pager::write(std::string_view text) {
  if (fd_ < 0 || broken_) return;
  if (!write_all(fd_, text)) broken_ = true;  // EPIPE: the pager was quit early
}

bool Pager::finish() {
  if (pid_ <= 0) return true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGPIPE, &old_pipe_, nullptr);
  return !(WIFEXITED(st) && WEXITSTATUS(st) == 127);
}

class Interactive {
 public:
  explicit Interactive(const Options& o)
      : o_(o),
        printer_(o.format, is_terminal(1), 1000),
        tty_out_(is_terminal(1)),
        color_(color_for_fd(1, o.format)) {
    printer_.set_color(color_);
  }

  int run() {
    install_interrupt_handler();
    set_report_color(color_for_fd(2, o_.format));  // refusals and errors in red
    // Every past note, first (the original exercise's first requirement). It streams: once
    // it is longer than the screen it goes into the pager as it arrives.
    int rows = 0, cols = 0;
    if (tty_out_) terminal_size(1, rows, cols);
    std::string pager_cmd = o_.no_pager ? std::string() : pager_command();
    bool may_page = tty_out_ && rows > 0 && !pager_cmd.empty();
    Pager pager;
    std::string text;
    size_t screen = 0, counted = 0;  // rows of text[0, counted)
    auto page_if_long = [&] {
      if (!may_page || pager.running()) return;
      screen += screen_rows(std::string_view(text).substr(counted), cols);
      counted = text.size();
      if (screen + 1 < static_cast<size_t>(rows)) return;  // it fits, with the closing line
      if (!pager.start(pager_cmd)) {
        may_page = false;
        return;
      }
      pager.write(text);
      text.clear();
      counted = 0;
    };
    int rc = query(o_, "HISTORY", [&](std::string_view l) {
      printer_.add(l, text);
      if (pager.running()) {
        if (text.size() >= (64u << 10)) {
          pager.write(text);
          text.clear();
        }
      } else if (text.size() > counted) {
        page_if_long();
      }
    });
    printer_.flush(text);
    if (rc == kExitOk) page_if_long();
    if (pager.running()) {
      pager.write(text);
      if (!pager.finish()) report("pager '" + pager_cmd + "' could not run; try --no-pager");
    } else {
      say(text);
    }
    if (rc != kExitOk) return rc;
    last_shown_ = printer_.last_seq();
    size_t n = printer_.notes();
    std::string closing = n == 0 ? std::string("no notes yet")
                                 : group_thousands(n) + (n == 1 ? " note" : " notes");
    say(dim(closing + " \u2014 type a note, or h for help") + "\n");
    if (!open_sender()) return kExitUnreachable;
    return loop();
  }

 private:
  void say(std::string_view s) { write_all(1, s); }
  // Our own (terminal-safe) text, dim when colouring: the quiet lines of the session.
  std::string dim(std::string_view safe_text) const {
    std::string s;
    append_colored(s, color_, kSgrDim, safe_text);
    return s;
  }

  bool open_sender() {
    UdpSender::Settings s;
    s.window = 1;
    s.timeout_ms = o_.timeout_s * 1000;
    s.verbose = o_.verbose;
    sender_ = std::make_unique<UdpSender>(s);
    sender_->on_result = [this](const NoteResult& r) {
      if (r.refused) {
        worst_ = std::max(worst_, static_cast<int>(kExitRefused));
        report("note refused by " + sender_->peer() + ": " + std::string(r.reason));
      } else if (r.seq) {
        std::string ack;
        append_colored(ack, color_, kSgrGreen, "#" + std::to_string(r.seq));
        say(ack + "\n");
      } else {
        say(dim("ok (stored before; its seq is no longer known)") + "\n");
      }
    };
    std::string error;
    if (!sender_->open(o_.host, o_.udp_port, error)) {
      report(error);
      return false;
    }
    return true;
  }

  // Reads one line from the terminal. False at end of input or on Ctrl-C.
  bool read_line(std::string& line) {
    while (true) {
      size_t nl = in_.find('\n');
      if (nl != std::string::npos) {
        line = in_.substr(0, nl);
        in_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
      }
      if (g_interrupts) return false;
      char buf[4096];
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;  // the loop looks at g_interrupts
      if (n <= 0) {
        if (in_.empty()) return false;
        line.swap(in_);  // the last line, without a newline
        in_.clear();
        return true;
      }
      in_.append(buf, static_cast<size_t>(n));
    }
  }

  int loop() {
    std::string line;
    while (true) {
      say("> ");
      if (!read_line(line)) {
        say("\n");
        return worst_;
      }
      ReplInput in = classify_input(line);
      switch (in.kind) {
        case ReplInput::Kind::empty:
          break;
        case ReplInput::Kind::quit:
          return worst_;
        case ReplInput::Kind::help:
          say(kHelp);
          break;
        case ReplInput::Kind::sync:
          sync();
          break;
        case ReplInput::Kind::who:
          who();
          break;
        case ReplInput::Kind::mine: {
          SockAddr me = sender_->local();
          notes_from(me.len ? me.ip_string() : std::string("127.0.0.1"));
          break;
        }
        case ReplInput::Kind::from:
          notes_from(in.arg);
          break;
        case ReplInput::Kind::bad_from:
          report("/from wants an address: IP (any port) or IP:PORT, e.g. /from 127.0.0.1");
          break;
        case ReplInput::Kind::unknown: {
          std::string safe;
          append_terminal_safe(safe, in.arg);
          report("unknown command " + safe + " (h for help); to send it as a note: \\" + safe);
          break;
        }
        case ReplInput::Kind::note:
          if (!send(in.arg)) return worst_;
          break;
      }
      if (g_interrupts) return worst_;
    }
  }

  // Sends one note and waits for its answer. False when the session should end (Ctrl-C).
  bool send(std::string_view note) {
    // A Ctrl-C from here on is about this note (taken before it goes out, or one typed the
    // moment the datagram leaves would go unnoticed).
    int seen = g_interrupts;
    if (note.empty()) return true;
    NoteCheck c = validate_note(note, UdpSender::kMaxNote);
    if (!c.ok()) {  // checked here first; the server has the last word
      worst_ = std::max(worst_, static_cast<int>(kExitRefused));
      report("note refused: " + note_error_reason(c, UdpSender::kMaxNote) + " (not sent)");
      return true;
    }
    if (!sender_->add(note, 0) || !sender_->flush()) {
      report("cannot send right now");
      return true;
    }
    bool leaving = false;
    while (!sender_->idle() && sender_->failure() == UdpSender::Failure::none) {
      sender_->wait(200);
      if (g_interrupts != seen) {
        if (leaving) {  // a second Ctrl-C: give up waiting
          report("note not acknowledged (gave up waiting); it may or may not be stored");
          worst_ = std::max(worst_, static_cast<int>(kExitNoAck));
          return false;
        }
        leaving = true;
        seen = g_interrupts;
        say("\n(waiting for the acknowledgement; Ctrl-C again to give up)\n");
      }
    }
    if (sender_->failure() != UdpSender::Failure::none) {
      std::string msg = sender_->failure_message();
      bool unreachable = sender_->failure() == UdpSender::Failure::unreachable;
      report(msg + (unreachable ? std::string(kStartHint) : std::string()) +
             "; the note may not be stored");
      worst_ = std::max(worst_, static_cast<int>(unreachable ? kExitUnreachable : kExitNoAck));
      open_sender();  // a fresh client for what comes next
    }
    return !leaving;
  }

  void sync() {
    std::string out;
    size_t before = printer_.notes();
    int rc = query(o_, "HISTORY SINCE " + std::to_string(last_shown_),
                   [&](std::string_view l) { printer_.add(l, out); });
    if (rc != kExitOk) {
      worst_ = std::max(worst_, rc);
      return;
    }
    if (printer_.last_seq() > last_shown_) last_shown_ = printer_.last_seq();
    size_t n = printer_.notes() - before;
    out += dim(n == 0 ? std::string("(no new notes)")
                      : "(" + group_thousands(n) + (n == 1 ? " new note)" : " new notes)")) +
           "\n";
    say(out);
  }

  void who() {
    std::vector<std::string> lines;
    int rc = query(o_, "CLIENTS", [&](std::string_view l) { lines.emplace_back(l); });
    if (rc != kExitOk) {
      worst_ = std::max(worst_, rc);
      return;
    }
    std::string out;
    render_clients(lines, o_.format, tty_out_, out, color_);
    say(out);
  }

  void notes_from(const std::string& addr) {
    NotePrinter p(o_.format, tty_out_, SIZE_MAX);
    p.set_color(color_);
    std::string out;
    int rc = query(o_, "HISTORY FROM " + addr, [&](std::string_view l) { p.add(l, out); });
    if (rc != kExitOk) {
      worst_ = std::max(worst_, rc);
      return;
    }
    p.flush(out);
    size_t n = p.notes();
    std::string safe_addr;  // checked by parse_addr_filter, escaped all the same
    append_terminal_safe(safe_addr, addr);
    out += dim("(" + (n == 0 ? std::string("no notes")
                              : group_thousands(n) + (n == 1 ? " note" : " notes")) +
               " from " + safe_addr + ")") +
           "\n";
    say(out);
  }

  const Options& o_;
  NotePrinter printer_;  // the session's: columns stay aligned from the history on (they are
                         // fixed by the first 1000 rows, then only grow)
  bool tty_out_;
  bool color_;  // stdout is a terminal, text format, NO_COLOR unset (color.hpp)
  uint64_t last_shown_ = 0;
  std::unique_ptr<UdpSender> sender_;
  std::string in_;
  int worst_ = kExitOk;
};

int run_interactive(const Options& o) { return Interactive(o).run(); }

}  // namespace client
