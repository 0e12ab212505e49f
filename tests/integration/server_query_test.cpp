// server_query_test.cpp — issue 13 against the real server: HISTORY FILTERS (FROM, SINCE SEQ,
// SINCE/UNTIL TIME, LAST, MATCH) alone and combined, each compared with the same filter
// computed here over the full HISTORY output; FROM a client writing in long bursts (sent
// with sendfile) and singly; SINCE TIME on a hand-made store whose clock
// stepped back; FOLLOW with MATCH/FROM getting only matching live notes; FOLLOW LAST;
// CLIENTS HOSTS from 127.0.0.1 and 127.0.0.2 with several ports; CLIENTS times after a clock
// step.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>
#include <vector>

#include "../../common/filters.hpp"
#include "../../common/protocol.hpp"
#include "harness.hpp"

using namespace harness;

namespace {

const int64_t kT0 = *parse_time_ms("2026-11-20T10:00:00.000Z");
const char* kAddrs[] = {"127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.2:6000", "127.0.0.3:7000",
                        "[::1]:8000"};

std::string at(int64_t ms) {
  char t[kTimeLen];
  format_time_ms(ms, t);
  return std::string(t, kTimeLen);
}

// A store of n notes a minute apart whose clock steps back three hours at note `step`;
// every 7th note mentions the plumber (in varying case), every 11th a café.
void write_store(const std::string& dir, size_t n, size_t step) {
  ::mkdir(dir.c_str(), 0755);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    int64_t t = kT0 + static_cast<int64_t>(i) * 60000 - (i >= step ? 3 * 3600000 : 0);
    std::string text = "entry " + std::to_string(i + 1);
    if (i % 7 == 0) text += i % 2 ? " call the PLUMBER" : " plumber  came\xC2\xA0late";
    if (i % 11 == 0) text += " Café au lait 周五";
    append_note_line(out, i + 1, t, kAddrs[(i * 7 + i / 3) % 5], text);
  }
  write_file(dir + "/notes.log", out);
}

// The filter, computed here over note lines (without '\n').
std::vector<std::string> brute(const std::vector<std::string>& all, const Filters& f) {
  std::vector<std::string> out;
  for (const std::string& l : all) {
    auto n = parse_note_line(l);
    REQUIRE(n.has_value());
    int64_t t = *parse_time_ms(n->time);
    if (n->seq <= f.since_seq) continue;
    if (f.since_ms && t < *f.since_ms) continue;
    if (f.until_ms && t >= *f.until_ms) continue;
    if (f.from && addr_ip_part(n->addr) != f.from->ip) continue;
    if (f.from && !f.from->any_port() &&
        n->addr.substr(n->addr.rfind(':') + 1) != std::to_string(f.from->port))
      continue;
    if (!f.match.empty()) {
      std::string a, b;
      for (char c : n->text) a += fold_ascii(c);
      for (char c : f.match) b += fold_ascii(c);
      if (a.find(b) == std::string::npos) continue;
    }
    out.push_back(l);
  }
  if (f.last && out.size() > *f.last) out.erase(out.begin(), out.end() - *f.last);
  return out;
}

// HISTORY <words> over t: the note lines; checks that END counts them.
std::vector<std::string> history(Tcp& t, const std::string& words) {
  std::vector<std::string> lines = ask(t, "HISTORY" + words);
  REQUIRE(!lines.empty());
  CHECK(lines.back() == "END " + std::to_string(lines.size() - 1));
  lines.pop_back();
  return lines;
}

void check_query(Tcp& t, const std::vector<std::string>& all, const std::string& words) {
  CAPTURE(words);
  Filters f;
  REQUIRE(parse_filters(words, "HISTORY", f) == "");
  std::vector<std::string> want = brute(all, f);
  CHECK(history(t, words) == want);
}

}  // namespace

TEST_CASE("server: HISTORY filters alone and combined equal the filter computed over HISTORY") {
  TempDir d;
  write_store(d.path() + "/s", 3000, 2000);
  ServerProcess s({}, d.path() + "/s");
  REQUIRE(s.started());
  Tcp t(s.tcp_port());
  const std::vector<std::string> all = history(t, "");
  REQUIRE(all.size() == 3000);
  const std::string day = at(kT0).substr(0, 10), mid = at(kT0 + 1000 * 60000);
  const std::string late = at(kT0 + 2500 * 60000);
  for (const std::string& q : std::vector<std::string>{
           " FROM 127.0.0.1", " FROM 127.0.0.2:6000", " FROM ::1", " FROM 10.1.1.1",
           " SINCE 2990", " SINCE 3000", " SINCE " + day, " SINCE " + mid, " UNTIL " + mid,
           " UNTIL " + day, " LAST 5", " LAST 0", " MATCH plumber", " MATCH PLUMBER  came",
           " MATCH café", " MATCH CAFÉ", " MATCH 周五", " MATCH came\xC2\xA0late",
           " MATCH 127.0.0", " MATCH nobody wrote this", " SINCE " + mid + " UNTIL " + late,
           " FROM 127.0.0.1 MATCH plumber", " MATCH plumber LAST 4",
           " LAST 3 FROM 127.0.0.2 SINCE " + mid + " MATCH the plumber",
           " until " + late + " since 100 last 20 from 127.0.0.3",
           " SINCE 2026-11-20T20:00:00Z UNTIL 2026-11-21 MATCH e LAST 9"}) {
    check_query(t, all, q);
  }
  // MATCH is the rest of the line: what follows it is text, not filters
  CHECK(history(t, " MATCH plumber LAST 1").empty());
}

TEST_CASE("server: HISTORY FROM a client writing in long bursts (sent by sendfile) and singly") {
  // 127.0.0.1:5000 writes bursts of 700 notes (~60 KB: sent from the file as they are)
  // and of 1-3 notes (read and picked out), the others single notes between them.
  TempDir d;
  ::mkdir((d.path() + "/s").c_str(), 0755);
  std::string out;
  uint64_t seq = 0;
  for (int round = 0; round < 12; ++round) {
    const int burst = round % 4 == 1 ? 700 : 1 + round % 3;
    for (int k = 0; k < burst; ++k, ++seq)
      append_note_line(out, seq + 1, kT0 + static_cast<int64_t>(seq), kAddrs[0],
                       "burst " + std::to_string(round) + " note " + std::to_string(k));
    for (int k = 0; k < 5; ++k, ++seq)
      append_note_line(out, seq + 1, kT0 + static_cast<int64_t>(seq), kAddrs[1 + k % 4], "between");
  }
  write_file(d.path() + "/s/notes.log", out);
  ServerProcess s({}, d.path() + "/s");
  REQUIRE(s.started());
  Tcp t(s.tcp_port());
  const std::vector<std::string> all = history(t, "");
  REQUIRE(all.size() == seq);
  for (const std::string& q : std::vector<std::string>{
           " FROM 127.0.0.1:5000", " FROM 127.0.0.1", " FROM 127.0.0.1:5001",
           " FROM 127.0.0.1:5000 LAST 750", " FROM 127.0.0.1:5000 SINCE 720",
           " FROM 127.0.0.1:5000 MATCH note 69"})
    check_query(t, all, q);
  // Pipelined: the next command's reply follows the END of a reply sent by sendfile.
  REQUIRE(t.send("HISTORY FROM 127.0.0.1:5000\nPING\n"));
  std::string got = t.read_through("\nPONG\n", 10000);
  Filters f;
  REQUIRE(parse_filters(" FROM 127.0.0.1:5000", "HISTORY", f) == "");
  std::string want;
  for (const std::string& l : brute(all, f)) want += l + "\n";
  want += "END " + std::to_string(brute(all, f).size()) + "\nPONG\n";
  CHECK(got == want);
}

TEST_CASE("server: SINCE TIME selects each note by its own TIME after the clock stepped back") {
  TempDir d;
  write_store(d.path() + "/s", 600, 400);  // notes 401.. are three hours behind
  ServerProcess s({}, d.path() + "/s");
  REQUIRE(s.started());
  Tcp t(s.tcp_port());
  const std::vector<std::string> all = history(t, "");
  // 15:00: notes 301..400 (before the step) and, three hours behind, 481..600 (after it)
  const std::string when = at(kT0 + 300 * 60000);
  auto got = history(t, " SINCE " + when);
  Filters f;
  f.since_ms = parse_query_time(when);
  CHECK(got == brute(all, f));
  CHECK(field_of(got, 0).front() == "301");
  CHECK(field_of(got, 0).back() == "600");
  CHECK(got.size() == 100 + 120);
  CHECK(field_of(got, 0)[100] == "481");
  check_query(t, all, " UNTIL " + when);
  check_query(t, all, " SINCE " + when + " LAST 30");
  // CLIENTS: LAST_TIME is the latest TIME, never before FIRST_TIME
  for (const std::string& l : ask(t, "CLIENTS")) {
    if (l.rfind("END", 0) == 0) continue;
    auto f4 = split_tabs(l);
    REQUIRE(f4.size() == 4);
    CHECK(f4[3] >= f4[2]);
  }
}

TEST_CASE("server: FOLLOW with MATCH or FROM gets only the matching live notes; LAST N") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp a(s.udp_port()), b(s.udp_port(), "127.0.0.1", "127.0.0.2");
  CHECK(a.ask("old plumber note") == "OK 1\n");
  CHECK(a.ask("old other note") == "OK 2\n");
  CHECK(b.ask("old from two") == "OK 3\n");
  Tcp m(s.tcp_port()), fr(s.tcp_port()), tail(s.tcp_port());
  CHECK(m.send("FOLLOW MATCH Plumber\n"));
  CHECK(fr.send("FOLLOW FROM 127.0.0.2 MATCH o\n"));
  CHECK(tail.send("FOLLOW LAST 2\n"));
  auto text = [](std::optional<std::string> l) {
    return l ? texts_of({*l}) : std::vector<std::string>{"<nothing>"};
  };
  using V = std::vector<std::string>;
  CHECK(text(m.line()) == V{"old plumber note"});
  CHECK(text(fr.line()) == V{"old from two"});
  CHECK(text(tail.line()) == V{"old other note"});
  CHECK(text(tail.line()) == V{"old from two"});
  CHECK(a.ask("unrelated") == "OK 4\n");
  CHECK(b.ask("the PLUMBER from two") == "OK 5\n");
  CHECK(a.ask("plumber again") == "OK 6\n");
  CHECK(b.ask("xyz") == "OK 7\n");
  CHECK(b.ask("last plumber, so long") == "OK 8\n");
  CHECK(text(m.line()) == V{"the PLUMBER from two"});
  CHECK(text(m.line()) == V{"plumber again"});
  CHECK(text(m.line()) == V{"last plumber, so long"});
  CHECK(text(fr.line()) == V{"the PLUMBER from two"});
  CHECK(text(fr.line()) == V{"last plumber, so long"});
  for (const char* want : {"unrelated", "the PLUMBER from two", "plumber again", "xyz",
                           "last plumber, so long"})
    CHECK(text(tail.line()) == V{want});
}

TEST_CASE("server: FOLLOW SINCE N at or past the newest seq sends only later notes with seq > N") {
  // SPEC: SINCE N is exclusive, also for the notes a FOLLOW gets live (a follower whose N came
  // from another store must not get seqs 1..N). Raw path, FROM (index list), MATCH (line path).
  ServerProcess s;
  REQUIRE(s.started());
  Tcp raw(s.tcp_port()), from(s.tcp_port()), match(s.tcp_port());
  REQUIRE(raw.send("FOLLOW SINCE 5\n"));
  REQUIRE(from.send("FOLLOW SINCE 5 FROM 127.0.0.1\n"));
  REQUIRE(match.send("follow since 5 match n\n"));
  Tcp barrier(s.tcp_port());  // answered after the FOLLOWs, which arrived before it
  REQUIRE(barrier.send("PING\n"));
  REQUIRE(barrier.line() == "PONG");
  Udp u(s.udp_port());
  for (int i = 1; i <= 7; ++i)
    REQUIRE(u.ask("n" + std::to_string(i)) == "OK " + std::to_string(i) + "\n");
  for (Tcp* t : {&raw, &from, &match}) {
    for (const char* want : {"6", "7"}) {
      std::optional<std::string> l = t->line();
      REQUIRE(l);
      CHECK(split_tabs(*l).at(0) == want);
    }
  }
}

TEST_CASE("server: CLIENTS HOSTS lists IP, notes, first and latest time, distinct ports") {
  ServerProcess s;
  REQUIRE(s.started());
  std::vector<std::string> sent;
  {
    Udp a1(s.udp_port()), a2(s.udp_port());
    Udp b1(s.udp_port(), "127.0.0.1", "127.0.0.2"), b2(s.udp_port(), "127.0.0.1", "127.0.0.2"),
        b3(s.udp_port(), "127.0.0.1", "127.0.0.2");
    int seq = 0;
    for (Udp* u : {&a1, &b1, &a2, &b2, &b3, &a1, &b1})
      CHECK(u->ask("n") == "OK " + std::to_string(++seq) + "\n");
  }
  std::vector<std::string> all = tcp_command(s.tcp_port(), "HISTORY");
  REQUIRE(all.size() == 8);
  std::vector<std::string> times = field_of(all, 1);
  std::vector<std::string> hosts = tcp_command(s.tcp_port(), "clients hosts");
  REQUIRE(hosts.size() == 3);
  CHECK(hosts[0] == "127.0.0.1\t3\t" + times[0] + "\t" + times[5] + "\t2");
  CHECK(hosts[1] == "127.0.0.2\t4\t" + times[1] + "\t" + times[6] + "\t3");
  CHECK(hosts[2] == "END 2");
  CHECK(tcp_command(s.tcp_port(), "CLIENTS").back() == "END 5");
}

TEST_CASE("server: STATS tcp_history_bytes_sent counts filtered HISTORY output too") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  CHECK(u.ask("alpha") == "OK 1\n");
  CHECK(u.ask("beta") == "OK 2\n");
  const int64_t before = stat_value(s.tcp_port(), "tcp_history_bytes_sent");
  std::vector<std::string> got = tcp_command(s.tcp_port(), "HISTORY MATCH BETA");
  REQUIRE(got.size() == 2);
  CHECK(got[1] == "END 1");
  CHECK(stat_value(s.tcp_port(), "tcp_history_bytes_sent") ==
        before + static_cast<int64_t>(got[0].size() + 1));
}
