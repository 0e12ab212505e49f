// queries.cpp — the TCP subcommands: history, clients, stats (one request, lines up to END)
// and follow (a stream that is resumed after a dropped connection).
#include <algorithm>
#include <cstring>

#include "../common/net.hpp"
#include "commands.hpp"
#include "format.hpp"
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

std::string history_command(const Options& o, const char* verb, uint64_t since, bool with_since,
                            bool with_last) {
  std::string c = verb;
  if (o.from) c += " FROM " + *o.from;
  if (with_since) c += " SINCE " + std::to_string(since);
  if (with_last && o.last) c += " LAST " + std::to_string(*o.last);
  return c;
}

}  // namespace

int query(const Options& o, const std::string& command,
          const std::function<void(std::string_view)>& on_line) {
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
  while (true) {
    std::string_view l;
    switch (tcp.read_line(l, timeout_ms)) {
      case TcpClient::Read::line:
        break;
      case TcpClient::Read::timeout:
        report("no answer from " + tcp.peer() + " (TCP) for " + std::to_string(o.timeout_s) +
               " s");
        return kExitUnreachable;
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
      tcp.send_line("QUIT", error);  // polite; the reply does not matter
      return kExitOk;
    }
    ++lines;
    on_line(l);
  }
}

int run_history(const Options& o) {
  const bool tty = is_terminal(1);
  NotePrinter printer(o.format, tty, 1000);
  std::string out;
  int rc = query(o, history_command(o, "HISTORY", o.since.value_or(0), o.since.has_value(), true),
                 [&](std::string_view l) {
                   printer.add(l, out);
                   if (out.size() >= kOutChunk) flush_out(out);
                 });
  printer.flush(out);
  flush_out(out);
  return rc;
}

int run_clients(const Options& o) {
  std::vector<std::string> lines;
  int rc = query(o, "CLIENTS", [&](std::string_view l) { lines.emplace_back(l); });
  if (rc != kExitOk) return rc;
  std::string out;
  render_clients(lines, o.format, is_terminal(1), out);
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
  std::string out;
  uint64_t last = o.since.value_or(0);
  bool resume = o.since.has_value();  // SINCE last, once something is printed or asked for
  int backoff_ms = 100;
  bool connected_once = false, lost_reported = false;
  std::string where = endpoint_text(o.host, o.tcp_port);
  while (!g_interrupts) {
    TcpClient tcp;
    std::string error;
    if (!tcp.connect(o.host, o.tcp_port, o.timeout_s * 1000, o.verbose, error) ||
        !tcp.send_line(history_command(o, "FOLLOW", last, resume, false), error)) {
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
        resume = true;
      }
      // Each line goes out as soon as no further one is already here (also into a pipe).
      if (!tcp.has_buffered_line() || out.size() >= kOutChunk) flush_out(out);
    }
  }
  flush_out(out);
  return kExitOk;
}

}  // namespace client
