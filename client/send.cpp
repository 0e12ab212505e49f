// send.cpp — `dailynet send`: TEXT as one note, or each line of stdin as a note, through a
// UdpSender. Stdin is read in large blocks and its lines are packed into datagrams as they
// come; a partly filled datagram goes out as soon as stdin has nothing more to give right
// away, so a slow producer (tail -f | dailynet) is not delayed while a file moves at full
// speed. No per-note allocation on this path.
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../common/protocol.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "line_editor.hpp"
#include "line_reader.hpp"
#include "outbox.hpp"
#include "progress.hpp"
#include "terminal.hpp"
#include "udp_sender.hpp"

namespace client {

namespace {

// An excerpt of a note for an error line: terminal-safe, at most ~60 bytes.
std::string excerpt(std::string_view text) {
  std::string e;
  append_terminal_safe(e, text.substr(0, 60));
  if (text.size() > 60) e += "...";
  return e;
}

// "1 note", "1,024 notes"
std::string counted(uint64_t n, const char* what) {
  return group_thousands(n) + " " + what + (n == 1 ? "" : "s");
}

class SendCommand {
 public:
  explicit SendCommand(const Options& o)
      : o_(o),
        sender_({static_cast<size_t>(o.window), o.timeout_s * 1000, 150, 2000, o.verbose}),
        // Progress for notes from stdin, when stderr is a terminal (not for TEXT: one note).
        progress_(o.args.empty() && is_terminal(2), 2, stderr_cols()),
        stdout_tty_(is_terminal(1)) {
    sender_.on_result = [this](const NoteResult& r) { on_result(r); };
  }

  int run() {
    std::string error;
    if (!sender_.open(o_.host, o_.udp_port, error)) {
      report(error);
      return kExitUnreachable;
    }
    // Notes an earlier session left unacknowledged for this server go first (outbox.hpp).
    int outbox_rc = send_outbox(o_, sender_.peer(), nullptr);
    if (outbox_rc != kExitOk && outbox_rc != kExitRefused) return outbox_rc;
    if (outbox_rc == kExitRefused) any_refused_ = true;
    start_us_ = mono_us();
    progress_.start(start_us_);
    if (!o_.args.empty()) {
      send_args();
    } else {
      send_stdin();
    }
    return finish();
  }

 private:
  static int stderr_cols() {
    int rows = 0, cols = 0;
    if (is_terminal(2)) terminal_size(2, rows, cols);
    return cols;
  }

  // One-line reports: the progress line goes first, it is redrawn later.
  void say_error(std::string_view message) {
    progress_.clear();
    report(message);
  }

  // Writes what --print-seq collected; over a progress line on the same terminal, that line
  // goes first.
  void flush_stdout() {
    if (out_.empty()) return;
    if (stdout_tty_) progress_.clear();
    flush_out(out_);
  }

  bool progress_stale() const {
    const auto& c = sender_.counters();
    return added_ != drawn_added_ || c.acked != drawn_acked_;
  }

  // Redraws the progress line when it is due and something changed.
  void tick() {
    if (!progress_.enabled()) return;
    int64_t now = mono_us();
    if (!progress_.due(now) || !progress_stale()) return;
    const auto& c = sender_.counters();
    drawn_added_ = added_;
    drawn_acked_ = c.acked;
    progress_.show(send_progress_text(added_, c.acked, static_cast<double>(now - start_us_) / 1e6),
                   now);
  }

  // How long poll() may wait: the sender's next timer, or less when a progress redraw is due.
  int wait_ms() const {
    int t = sender_.next_timer_ms();
    if (progress_.enabled() && progress_stale()) {
      int p = static_cast<int>((progress_.until_due(mono_us()) + 999) / 1000);
      if (t < 0 || p < t) t = p;
    }
    return t;
  }

  void on_result(const NoteResult& r) {
    if (r.refused) {
      any_refused_ = true;
      std::string where = o_.args.empty() ? "line " + std::to_string(r.tag) : "note";
      say_error(where + " refused by " + sender_.peer() + ": " + std::string(r.reason) + ": " +
             excerpt(r.text));
      return;
    }
    if (!o_.print_seq) return;
    if (r.seq == 0) {
      out_ += '-';
    } else {
      char buf[24];
      int n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(r.seq));
      out_.append(buf, static_cast<size_t>(n));
    }
    out_ += '\t';
    out_.append(r.text);
    out_ += '\n';
  }

  // Checks a note here first (fail fast); the server has the last word.
  // lineno 0: the note from the command line.
  bool check(std::string_view note, uint64_t lineno) {
    NoteCheck c = validate_note(note, UdpSender::kMaxNote);
    if (c.ok()) return true;
    any_refused_ = true;
    std::string where = lineno ? "line " + std::to_string(lineno) : std::string("note");
    say_error(where + " refused: " + note_error_reason(c, UdpSender::kMaxNote) + " (not sent): " +
           excerpt(note));
    return false;
  }

  void send_args() {
    std::string note;
    for (size_t i = 0; i < o_.args.size(); ++i) {
      if (i) note += ' ';
      note += o_.args[i];
    }
    if (!note.empty() && is_blank(note)) {
      any_refused_ = true;
      say_error("note refused: nothing but spaces (not sent)");
      return;
    }
    if (!check(note, 0)) return;
    ++added_;
    sender_.add(note, 1);
    sender_.flush();
    while (!sender_.idle() && sender_.failure() == UdpSender::Failure::none) {
      sender_.wait(-1);
      flush_out(out_);
    }
  }

  void send_stdin() {
    LineReader in(0);
    uint64_t lineno = 0;
    std::string_view pending;  // a checked note add() could not take yet (window full)
    bool have_pending = false;
    while (sender_.failure() == UdpSender::Failure::none) {
      // Feed the sender every complete line we have, as long as it takes them.
      while (true) {
        if (!have_pending) {
          std::string_view line;
          if (!in.next(line)) break;
          ++lineno;
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          if (line.empty()) continue;
          if (is_blank(line)) {
            ++blank_;
            continue;
          }
          if (!check(line, lineno)) continue;
          pending = line;
          have_pending = true;
        }
        if (!sender_.add(pending, lineno)) break;
        have_pending = false;
        ++added_;
      }
      if (sender_.failure() != UdpSender::Failure::none) break;
      if (in.error()) {
        say_error(std::string("cannot read standard input: ") + std::strerror(in.error()));
        read_failed_ = true;
        break;
      }
      bool input_done = in.eof() && !have_pending;
      if (input_done) {
        sender_.flush();
        if (sender_.idle()) break;
      }
      bool want_input = !input_done && !have_pending;
      pollfd p[2] = {{sender_.fd(), POLLIN, 0}, {0, POLLIN, 0}};
      nfds_t n = want_input ? 2 : 1;
      int ready = ::poll(p, n, 0);
      if (ready == 0) {
        // Nothing to read right now: send what is formed, show what is settled, then wait.
        sender_.flush();
        flush_stdout();
        tick();
        ready = ::poll(p, n, wait_ms());
      }
      if (ready < 0 && errno != EINTR) break;
      if (ready > 0 && p[0].revents) sender_.on_readable();
      sender_.on_timers();
      flush_stdout();
      tick();
      if (want_input && ready > 0 && p[1].revents) in.fill();
    }
    // What was read and checked but never added counts as not sent.
    if (have_pending) ++unsent_;
  }

  int finish() {
    progress_.clear();  // erased at the end: the summary (-v) or the failure stands alone
    flush_out(out_);
    const auto& c = sender_.counters();
    uint64_t settled = c.acked + c.refused;
    uint64_t unsettled = added_ - settled;
    if (o_.verbose) {
      double secs = static_cast<double>(mono_us() - start_us_) / 1e6;
      char rate[64] = "";
      if (secs > 0 && c.acked > 0)
        std::snprintf(rate, sizeof rate, " (%s/s)",
                      group_thousands(static_cast<uint64_t>(static_cast<double>(c.acked) / secs))
                          .c_str());
      char summary[256];
      std::snprintf(summary, sizeof summary,
                    "%s acknowledged by %s, %s refused, in %.3f s%s; %s, %s retransmitted",
                    counted(c.acked, "note").c_str(), sender_.peer().c_str(),
                    group_thousands(c.refused).c_str(), secs, rate,
                    counted(c.datagrams, "datagram").c_str(),
                    group_thousands(c.retransmits).c_str());
      report(summary);
    }
    switch (sender_.failure()) {
      case UdpSender::Failure::none:
        break;
      case UdpSender::Failure::unreachable:
        report(sender_.failure_message() + std::string(kStartHint));
        return kExitUnreachable;
      case UdpSender::Failure::no_ack:
        report(sender_.failure_message() + "; " + counted(unsettled + unsent_, "note") +
               " not acknowledged" +
               (unsettled ? " (may or may not be stored)" : ""));
        return kExitNoAck;
      case UdpSender::Failure::refused_datagram:
        report(sender_.failure_message());
        return kExitRefused;
      case UdpSender::Failure::rate_limited:
        report(sender_.failure_message() + "; " + counted(unsettled + unsent_, "note") +
               " not stored");
        return kExitRefused;
    }
    if (blank_ && is_terminal(2))
      report("skipped " + counted(blank_, "blank line") + " (nothing but spaces)");
    if (read_failed_) return kExitRefused;
    return any_refused_ ? kExitRefused : kExitOk;
  }

  const Options& o_;
  UdpSender sender_;
  ProgressLine progress_;
  bool stdout_tty_;
  uint64_t drawn_added_ = 0, drawn_acked_ = 0;  // what the progress line shows
  std::string out_;
  uint64_t added_ = 0, unsent_ = 0, blank_ = 0;
  bool any_refused_ = false, read_failed_ = false;
  int64_t start_us_ = 0;
};

}  // namespace

int run_send(const Options& o) { return SendCommand(o).run(); }

}  // namespace client
