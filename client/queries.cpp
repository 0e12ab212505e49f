// queries.cpp — the TCP subcommands: history, clients, stats (one request, lines up to END)
// and follow (a stream that is resumed after a dropped connection).
#include <algorithm>
#include <cstring>
#include <optional>

#include "../common/net.hpp"
#include "color.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "names.hpp"
#include "progress.hpp"
#include "tcp_client.hpp"
#include "terminal.hpp"

namespace client {

namespace {

constexpr size_t kOutChunk = 256 << 10;  // stdout is written in pieces about this big

// The "start one" hint fits a refused or unanswered connection, not a name that does not
// resolve.
std::string_view start_hint(const std::string& error) {
  return error.rfind("cannot connect", 0) == 0 ? kStartHint : std::string_view();
}

bool is_end(std::string_view l) { return l == "END" || l.rfind("END ", 0) == 0; }

// The server's newest seq, asked on a fresh connection with HISTORY LAST 1 (before FOLLOW).
// False with error set when the connection fails; a refusal leaves newest unknown (nullopt).
bool newest_seq(TcpClient& tcp, int timeout_ms, std::optional<uint64_t>& newest,
                std::string& error) {
  newest.reset();
  if (!tcp.send_line("HISTORY LAST 1", error)) return false;
  uint64_t seq = 0;
  while (true) {
    std::string_view l;
    if (tcp.read_line(l, timeout_ms) != TcpClient::Read::line) {
      error = "connection to " + tcp.peer() + " (TCP) lost";
      return false;
    }
    if (l.rfind("ERR ", 0) == 0) return true;  // not known: followed as before
    if (is_end(l)) {
      newest = seq;
      return true;
    }
    if (auto s = parse_u64(l.substr(0, l.find('\t')))) seq = *s;
  }
}

// Text for people shows names for addresses, unless -n.
NameOf names_for(const Options& o) {
  return o.format == Format::text && !o.numeric ? reverse_lookup() : NameOf();
}

}  // namespace

std::string history_request(const Filters& f) { return "HISTORY" + to_wire(f); }

int query(const Options& o, const std::string& command,
          const std::function<void(std::string_view)>& on_line,
          const std::function<void()>& idle) {
  TcpClient tcp;
  std::string error;
  const int timeout_ms = o.timeout_s * 1000;
  if (!tcp.connect(o.host, o.tcp_port, timeout_ms, o.verbose, error)) {
    report(error + std::string(start_hint(error)));
    return kExitUnreachable;
  }
  if (!tcp.send_line(command, error)) {
    report(error);
    return kExitUnreachable;
  }
  uint64_t lines = 0;
  int64_t last_line_us = mono_us();
  while (true) {
    std::string_view l;
    // With an idle callback, wait in slices of 100 ms; the timeout still counts from the
    // last line received.
    int wait = timeout_ms;
    if (idle) {
      int64_t left = timeout_ms - (mono_us() - last_line_us) / 1000;
      wait = static_cast<int>(std::clamp<int64_t>(left, 0, 100));
    }
    TcpClient::Read got = tcp.read_line(l, wait);
    if (got == TcpClient::Read::timeout && idle &&
        mono_us() - last_line_us < static_cast<int64_t>(timeout_ms) * 1000) {
      idle();
      continue;
    }
    if (got == TcpClient::Read::line) last_line_us = mono_us();
    switch (got) {
      case TcpClient::Read::line:
        break;
      case TcpClient::Read::timeout:
        report("no answer from " + tcp.peer() + " (TCP) for " + std::to_string(o.timeout_s) +
               " s");
        return kExitNoAck;  // it stopped answering (README exit status 3), as for send
      case TcpClient::Read::interrupted:
        return kExitUnreachable;
      case TcpClient::Read::closed:
      case TcpClient::Read::error:
        report("connection to " + tcp.peer() + " (TCP) " +
               (tcp.read_error().empty() ? std::string("closed") : tcp.read_error()) +
               " before the reply ended (" + std::to_string(lines) + " lines received)");
        return kExitUnreachable;
    }
    if (l.rfind("ERR ", 0) == 0) {
      std::string reason;
      append_terminal_safe(reason, l.substr(4));
      report("server at " + tcp.peer() + " refused '" + command + "': " + reason);
      return kExitRefused;
    }
    if (is_end(l)) {
      if (l.size() > 4) {
        auto n = parse_u64(l.substr(4));
        if (n && *n != lines) {
          report("incomplete reply from " + tcp.peer() + ": " + std::to_string(lines) +
                 " lines received, the server sent " + std::to_string(*n));
          return kExitUnreachable;
        }
      }
      // Polite: QUIT, then its BYE read (at most 2 s, whatever comes first) before closing.
      // Closing with the BYE unread would make the kernel answer it with a reset.
      if (tcp.send_line("QUIT", error)) {
        int64_t deadline = mono_us() + std::min(timeout_ms, 2000) * int64_t{1000};
        std::string_view bye;
        while (true) {
          int64_t left = (deadline - mono_us()) / 1000;
          if (left <= 0) break;
          if (tcp.read_line(bye, static_cast<int>(left)) != TcpClient::Read::line) break;
          if (bye == "BYE") break;
        }
      }
      return kExitOk;
    }
    ++lines;
    on_line(l);
  }
}

int run_history(const Options& o) {
  const bool tty = is_terminal(1);
  NotePrinter printer(o.format, tty, 1000);
  printer.set_color(color_for_fd(1, o.format));
  printer.set_names(names_for(o));
  std::string out;
  // Into a file or a pipe, with a terminal on stderr: notes and bytes received, as they come.
  int rows = 0, cols = 0;
  const bool show_progress = !tty && is_terminal(2);
  if (show_progress) terminal_size(2, rows, cols);
  ProgressLine progress(show_progress, 2, cols);
  const int64_t start = mono_us();
  progress.start(start);
  uint64_t notes = 0, bytes = 0, drawn = 0;
  auto tick = [&] {
    int64_t now = mono_us();
    if (!progress.due(now) || (progress.shown() && drawn == bytes)) return;
    drawn = bytes;
    progress.show(receive_progress_text(notes, bytes, static_cast<double>(now - start) / 1e6),
                  now);
  };
  int rc = query(
      o, history_request(o.filters),
      [&](std::string_view l) {
        if (printer.add(l, out) != 0) ++notes;
        bytes += l.size() + 1;
        if (out.size() >= kOutChunk) flush_out(out);
        if (show_progress) tick();
      },
      show_progress ? std::function<void()>(tick) : std::function<void()>());
  progress.clear();
  printer.flush(out);
  flush_out(out);
  return rc;
}

int run_clients(const Options& o) {
  std::vector<std::string> lines;
  int rc = query(o, o.hosts ? "CLIENTS HOSTS" : "CLIENTS",
                 [&](std::string_view l) { lines.emplace_back(l); });
  if (rc != kExitOk) return rc;
  std::string out;
  render_clients(lines, o.format, is_terminal(1), out, color_for_fd(1, o.format), names_for(o));
  flush_out(out);
  return kExitOk;
}

int run_stats(const Options& o) {
  std::vector<std::string> lines;
  int rc = query(o, "STATS", [&](std::string_view l) { lines.emplace_back(l); });
  if (rc != kExitOk) return rc;
  std::string out;
  render_stats(lines, o.format, is_terminal(1), out);
  flush_out(out);
  return kExitOk;
}

int run_follow(const Options& o) {
  install_interrupt_handler();
  const bool tty = is_terminal(1);
  NotePrinter printer(o.format, tty);
  printer.set_color(color_for_fd(1, o.format));
  printer.set_names(names_for(o));
  std::string out;
  // The first FOLLOW carries the filters as given; once a note is printed, a reconnection
  // resumes after it (SINCE its seq, without --last or --since TIME, the rest kept).
  Filters filters = o.filters;
  uint64_t last = 0;
  int backoff_ms = 100;
  bool connected_once = false, lost_reported = false;
  std::string where = endpoint_text(o.host, o.tcp_port);
  while (!g_interrupts) {
    TcpClient tcp;
    std::string error;
    // A reconnection asks first whether the server still holds the store printed from: its
    // newest seq below the last one printed means another store (a fresh or restored --data,
    // seqs started again), followed from its newest note instead of waiting for a seq it may
    // never reach.
    std::optional<uint64_t> newest;
    bool ok = tcp.connect(o.host, o.tcp_port, o.timeout_s * 1000, o.verbose, error) &&
              (last == 0 || newest_seq(tcp, o.timeout_s * 1000, newest, error));
    if (ok && newest && *newest < last) {
      report("server at " + tcp.peer() + " holds another store now (its newest note is #" +
             std::to_string(*newest) + ", below #" + std::to_string(last) +
             " printed); following it from there");
      last = *newest;
      filters.since_seq = last;
    }
    if (!ok || !tcp.send_line("FOLLOW" + to_wire(filters), error)) {
      if (!connected_once) {
        report(error + std::string(start_hint(error)));
        return kExitUnreachable;
      }
      if (!lost_reported) {
        report(error + "; retrying");
        lost_reported = true;
      }
      sleep_ms(backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, 5000);
      continue;
    }
    if (connected_once && lost_reported)
      report("reconnected to " + tcp.peer() + "; resuming after note " + std::to_string(last));
    connected_once = true;
    lost_reported = false;
    backoff_ms = 100;
    where = tcp.peer();
    while (true) {
      std::string_view l;
      TcpClient::Read r = tcp.read_line(l, -1, &g_interrupts);
      if (r == TcpClient::Read::interrupted) break;
      if (r != TcpClient::Read::line) {
        flush_out(out);
        report("connection to " + where + " (TCP) lost; reconnecting");
        lost_reported = true;
        break;
      }
      if (l.rfind("ERR ", 0) == 0) {
        flush_out(out);
        std::string reason;
        append_terminal_safe(reason, l.substr(4));
        report("server at " + where + " refused FOLLOW: " + reason);
        return kExitRefused;
      }
      uint64_t seq = printer.add(l, out);
      if (seq > last) {
        last = seq;
        filters.since_seq = seq;
        filters.since_ms.reset();
        filters.last.reset();
      }
      // Each line goes out as soon as no further one is already here (also into a pipe).
      if (!tcp.has_buffered_line() || out.size() >= kOutChunk) flush_out(out);
    }
  }
  flush_out(out);
  return kExitOk;
}

}  // namespace client
