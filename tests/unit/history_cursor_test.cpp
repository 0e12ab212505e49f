// history_cursor_test.cpp — server/history_cursor over a real Store in a support::TempDir:
// every filter alone and combined, with and without FROM, LAST N with a line filter across
// many chunks, a clock that stepped back, small budgets (resumption), the raw path, and
// FOLLOW picking up notes appended later — each compared with a brute force over the lines.
#include <doctest/doctest.h>

#include <unistd.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../../common/protocol.hpp"
#include "../../server/history_cursor.hpp"
#include "../support/files.hpp"

namespace {

struct Fixture {
  support::TempDir tmp;  // removed last, after the store closes its files
  std::string dir = tmp.path();
  Store store;
  Index index;
  std::vector<std::string> lines;  // every note line, with '\n'
  std::vector<std::string> addrs, texts;
  std::vector<int64_t> times;

  Fixture() {
    REQUIRE(!dir.empty());
    RecoveryReport rep;
    std::string err;
    REQUIRE(store.open(dir, false, [](const RecoveredNote&) {}, rep, err));
  }
  void add(int64_t ms, std::string addr, std::string text) {
    addrs.push_back(std::move(addr));
    texts.push_back(std::move(text));
    times.push_back(ms);
    std::vector<NoteToAppend> v{NoteToAppend{ms, addrs.back(), texts.back(), 0, 0}};
    std::string err;
    size_t pos = store.count();
    REQUIRE(store.append(v, FsyncMode::never, err));
    index.add(static_cast<uint32_t>(pos), addrs.back(), ms);
    std::string l;
    append_note_line(l, store.last_seq(), ms, addrs.back(), texts.back());
    lines.push_back(l);
  }
  // What the filters select, by brute force over every line.
  std::vector<std::string> expected(const Filters& f, size_t upto) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < upto; ++i) {
      if (i + 1 <= f.since_seq) continue;
      if (f.since_ms && times[i] < *f.since_ms) continue;
      if (f.until_ms && times[i] >= *f.until_ms) continue;
      if (f.from) {
        std::string_view ip = addr_ip_part(addrs[i]);
        if (ip != f.from->ip) continue;
        if (!f.from->any_port() && addrs[i] != f.from->ip + ":" + std::to_string(f.from->port))
          continue;
      }
      if (!f.match.empty()) {
        std::string a, b;
        for (char c : texts[i]) a += fold_ascii(c);
        for (char c : f.match) b += fold_ascii(c);
        if (a.find(b) == std::string::npos) continue;
      }
      out.push_back(lines[i]);
    }
    if (f.last && out.size() > *f.last) out.erase(out.begin(), out.end() - *f.last);
    return out;
  }
  // Runs a cursor to its end with the given budgets; the lines it emits.
  std::vector<std::string> run(HistoryCursor& c, size_t budget, size_t room) {
    std::vector<std::string> out;
    std::vector<char> scratch(HistoryCursor::kChunk);
    for (int guard = 0; guard < 100000 && !c.at_end(store, index); ++guard)
      c.produce(store, index, scratch, budget, room,
                [&](std::string_view l) { out.emplace_back(l); });
    CHECK_FALSE(c.failed());
    return out;
  }
  std::vector<std::string> query(std::string_view words, size_t budget = 1 << 20,
                                 size_t room = 96 << 10) {
    Filters f;
    REQUIRE(parse_filters(words, "HISTORY", f) == "");
    HistoryCursor c(f, HistoryCursor::Mode::snapshot, store, index);
    auto got = run(c, budget, room);
    CHECK(c.lines() == got.size());
    CHECK(got == expected(f, lines.size()));
    return got;
  }
};

const int64_t kT0 = 1795508130000;  // 2026-11-24T08:15:30Z
const char* kAddrs[] = {"127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.2:6000", "[::1]:7000"};

// n notes, a second apart, the clock stepping back two hours at note `step` (if any);
// every 10th note says "plumber" in some case.
void fill(Fixture& fx, size_t n, size_t step = SIZE_MAX) {
  std::mt19937 rng(42);
  for (size_t i = 0; i < n; ++i) {
    int64_t t = kT0 + static_cast<int64_t>(i) * 1000 - (i >= step ? 7200000 : 0);
    std::string text = "note " + std::to_string(i) + std::string(rng() % 40, 'x');
    if (i % 10 == 3) text += (i % 20 == 3) ? " call the Plumber" : " PLUMBER came";
    fx.add(t, kAddrs[rng() % 4], text);
  }
}

std::string at(int64_t ms) {
  char t[kTimeLen];
  format_time_ms(ms, t);
  return std::string(t, kTimeLen);
}

}  // namespace

TEST_CASE("history cursor: each filter alone and combined, against a brute force") {
  Fixture fx;
  fill(fx, 6000, 4000);  // > 300 KiB: several chunks; the clock steps back at note 4000
  const std::string mid = at(kT0 + 2000 * 1000), late = at(kT0 + 3500 * 1000);
  for (std::string q : std::vector<std::string>
       {"", " LAST 10", " LAST 0", " SINCE 5990", " SINCE 6000", " FROM 127.0.0.1",
        " FROM 127.0.0.1:5001", " FROM ::1 LAST 7", " FROM 10.9.9.9", " MATCH plumber",
        " MATCH call the PLUMBER", " MATCH nothing-like-this", " SINCE " + mid,
        " UNTIL " + mid, " SINCE " + mid + " UNTIL " + late, " SINCE " + late,
        " MATCH plumber LAST 5", " LAST 5 SINCE " + mid + " MATCH plumber",
        " FROM 127.0.0.1 MATCH plumber", " FROM 127.0.0.2:6000 SINCE " + mid + " LAST 3",
        " FROM 127.0.0.1 SINCE " + late + " UNTIL " + at(kT0 + 5000 * 1000) +
            " LAST 2 MATCH came",
        " LAST 100000 MATCH plumber", " SINCE 100 UNTIL " + mid + " LAST 50",
        " MATCH note 59", " LAST 1 MATCH note 0"}) {
    CAPTURE(q);
    fx.query(q);
  }
}

TEST_CASE("history cursor: SINCE TIME on a store whose clock stepped back") {
  Fixture fx;
  fill(fx, 3000, 2000);
  // notes 2000.. are two hours behind: a time inside that gap selects notes on both sides
  std::string t = at(kT0 + 1000 * 1000 - 7200000 + 1500 * 1000);  // = note 1500's time - 2h
  auto got = fx.query(" SINCE " + t);
  CHECK(got.size() > 1000);
  fx.query(" UNTIL " + at(kT0));
  fx.query(" SINCE " + at(kT0 - 7200000 + 2500 * 1000) + " LAST 30");
}

TEST_CASE("history cursor: tiny budgets and output room resume where they stopped") {
  Fixture fx;
  fill(fx, 2500);
  for (std::string q : std::vector<std::string>{"", " MATCH plumber", " FROM 127.0.0.1 MATCH plumber LAST 40",
                        " SINCE " + at(kT0 + 1000 * 1000), " MATCH plumber LAST 33"}) {
    CAPTURE(q);
    fx.query(q, 1, 1);
    fx.query(q, 4096, 200);
  }
}

TEST_CASE("history cursor: the raw path covers whole lines of the snapshot") {
  Fixture fx;
  fill(fx, 50);
  Filters f;
  REQUIRE(parse_filters(" SINCE 10 LAST 5", "HISTORY", f) == "");
  HistoryCursor c(f, HistoryCursor::Mode::snapshot, fx.store, fx.index);
  REQUIRE(c.raw());
  CHECK(c.raw_offset() == fx.store.offset_at(45));
  CHECK(c.raw_end(fx.store) == fx.store.bytes());
  fx.add(kT0, "127.0.0.1:1", "after the snapshot");
  CHECK(c.raw_end(fx.store) == fx.store.offset_at(50));  // a snapshot ends where it began
  c.raw_advance(c.raw_end(fx.store) - c.raw_offset());
  CHECK(c.at_end(fx.store, fx.index));
  CHECK(c.lines() == 5);
  Filters m;
  m.match = "x";
  CHECK_FALSE(HistoryCursor(m, HistoryCursor::Mode::snapshot, fx.store, fx.index).raw());
  Filters from;
  from.from = parse_addr_filter("127.0.0.1");
  CHECK_FALSE(HistoryCursor(from, HistoryCursor::Mode::snapshot, fx.store, fx.index).raw());
}

TEST_CASE("history cursor: FOLLOW applies the filters to notes stored later") {
  for (std::string q : {" MATCH plumber", " FROM 127.0.0.2", " MATCH plumber LAST 2",
                        " FROM 127.0.0.1:5000 MATCH came LAST 1", " LAST 3", ""}) {
    CAPTURE(q);
    Fixture fx;
    fill(fx, 300);
    Filters f;
    REQUIRE(parse_filters(q, "FOLLOW", f) == "");
    HistoryCursor c(f, HistoryCursor::Mode::follow, fx.store, fx.index);
    auto got = fx.run(c, 1 << 20, 96 << 10);
    CHECK(got == fx.expected(f, 300));
    CHECK(c.at_end(fx.store, fx.index));
    fx.add(kT0, "127.0.0.2:9", "the plumber is here");
    fx.add(kT0, "127.0.0.1:5000", "PLUMBER came back");
    fx.add(kT0, "127.0.0.3:9", "unrelated");
    CHECK_FALSE(c.at_end(fx.store, fx.index));
    CHECK(c.backlog_bytes(fx.store, fx.index) > 0);
    auto more = fx.run(c, 1 << 20, 96 << 10);
    Filters live = f;
    live.last.reset();
    live.since_seq = 300;
    CHECK(more == fx.expected(live, 303));
    CHECK(c.backlog_bytes(fx.store, fx.index) == 0);
  }
}

TEST_CASE("history cursor: FROM gathers runs of adjacent notes, cut anywhere by the room") {
  // Client A writes bursts of 1..7 notes in a row (runs of adjacent store positions), the
  // others single notes between them; every room cuts some run in its middle.
  {
    Fixture fx;
    std::mt19937 rng(7);
    for (int burst = 0; burst < 300; ++burst) {
      for (int k = 0; k <= burst % 7; ++k)
        fx.add(kT0 + burst, "10.0.0.1:1", "a" + std::to_string(burst) + std::string(rng() % 30, 'y'));
      fx.add(kT0 + burst, burst % 2 ? "10.0.0.2:2" : "10.0.0.1:3", "b" + std::to_string(burst));
    }
    for (std::string q : {" FROM 10.0.0.1:1", " FROM 10.0.0.1", " FROM 10.0.0.2:2",
                          " FROM 10.0.0.1:1 MATCH a2", " FROM 10.0.0.1:1 LAST 9"}) {
      CAPTURE(q);
      for (size_t room : {size_t{1}, size_t{150}, size_t{333}, size_t{4096}, size_t{96 << 10}}) {
        CAPTURE(room);
        fx.query(q, 1 << 20, room);
      }
      fx.query(q, 1, 1);  // the smallest read budget too
    }
  }
}

TEST_CASE("history cursor: a FROM run longer than one read") {
  // 1,300 notes of ~4 KB from one client in a row: one run of 5 MB, read in many spans.
  Fixture fx;
  for (int i = 0; i < 1300; ++i)
    fx.add(kT0 + i, i == 650 ? "10.0.0.9:9" : "10.0.0.1:1",
           std::to_string(i) + std::string(4000, 'w'));
  REQUIRE(fx.store.bytes() > 8 * HistoryCursor::kChunk);
  auto got = fx.query(" FROM 10.0.0.1:1", 1 << 20, 8 << 20);
  CHECK(got.size() == 1299);
  fx.query(" FROM 10.0.0.1", 1 << 20, 8 << 20);
  fx.query(" FROM 10.0.0.1:1", 1 << 20, 96 << 10);
}

TEST_CASE("history cursor: a sparse FROM reads its own notes, not the wide gaps between them") {
  Fixture fx;
  std::vector<std::string> mine;
  for (int i = 0; i < 30; ++i) {
    for (int k = 0; k < 200; ++k)  // ~30 KB of other notes: wider than kMaxGap
      fx.add(kT0, "10.0.0.2:2", "other " + std::to_string(k) + std::string(120, 'o'));
    fx.add(kT0, "10.0.0.1:1", "mine " + std::to_string(i));
    if (i % 3 == 0) fx.add(kT0, "10.0.0.1:1", "mine too " + std::to_string(i));  // adjacent
  }
  Filters f;
  REQUIRE(parse_filters(" FROM 10.0.0.1:1", "HISTORY", f) == "");
  size_t mine_bytes = 0;
  for (const std::string& l : fx.expected(f, fx.lines.size())) mine_bytes += l.size();
  HistoryCursor c(f, HistoryCursor::Mode::snapshot, fx.store, fx.index);
  std::vector<char> scratch(HistoryCursor::kChunk);
  std::string out;
  size_t read = 0;
  for (int guard = 0; guard < 1000 && !c.at_end(fx.store, fx.index); ++guard)
    read += c.produce(fx.store, fx.index, scratch, 1 << 20, 96 << 10,
                      [&](std::string_view l) { out += l; });
  CHECK(read == mine_bytes);  // not one byte of the other client's notes
  CHECK(out.size() == mine_bytes);
  CHECK(c.lines() == 40);
}

TEST_CASE("history cursor: FROM over a notes.log truncated underneath names file and byte") {
  Fixture fx;
  fill(fx, 400);
  Filters f;
  REQUIRE(parse_filters(" FROM 127.0.0.1:5001", "HISTORY", f) == "");
  HistoryCursor c(f, HistoryCursor::Mode::snapshot, fx.store, fx.index);
  std::vector<char> scratch(HistoryCursor::kChunk);
  std::vector<std::string> out;
  auto emit = [&](std::string_view l) { out.emplace_back(l); };
  c.produce(fx.store, fx.index, scratch, 1 << 20, 2000, emit);  // a few lines only
  REQUIRE_FALSE(c.failed());
  REQUIRE_FALSE(out.empty());
  const size_t sent = out.size();
  const uint64_t half = fx.store.bytes() / 2;
  REQUIRE(::truncate(fx.store.log_path().c_str(), static_cast<off_t>(half)) == 0);
  for (int guard = 0; guard < 1000 && !c.failed() && !c.at_end(fx.store, fx.index); ++guard)
    c.produce(fx.store, fx.index, scratch, 1 << 20, 2000, emit);
  REQUIRE(c.failed());
  CHECK(c.error().find(fx.store.log_path()) != std::string::npos);
  CHECK(c.error().find("at byte ") != std::string::npos);
  CHECK(c.error().find("truncated underneath it") != std::string::npos);
  CHECK(out.size() >= sent);
  for (const std::string& l : out) CHECK(l.back() == '\n');  // whole lines only
  c.end_early(fx.store);
  CHECK(c.lines() == out.size());  // END counts exactly the lines emitted
  CHECK(c.at_end(fx.store, fx.index));
}

namespace {

// What a TCP session does: long runs through the raw path (read here with pread, `piece`
// bytes at a time, as a sendfile that stops anywhere), the rest through produce().
std::string run_as_session(Fixture& fx, HistoryCursor& c, size_t piece, size_t& raw_bytes) {
  std::string out;
  std::vector<char> scratch(HistoryCursor::kChunk);
  for (int guard = 0; guard < 1000000 && !c.at_end(fx.store, fx.index); ++guard) {
    if (c.raw() || c.start_run(fx.store, fx.index)) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(piece, c.raw_end(fx.store) - c.raw_offset()));
      std::string b(n, '\0');
      REQUIRE(::pread(fx.store.log_fd(), b.data(), n, static_cast<off_t>(c.raw_offset())) ==
              static_cast<ssize_t>(n));
      out += b;
      raw_bytes += n;
      c.raw_advance(n);
      continue;
    }
    c.produce(fx.store, fx.index, scratch, 1 << 20, 96 << 10,
              [&](std::string_view l) { out += l; });
  }
  CHECK_FALSE(c.failed());
  return out;
}

}  // namespace

TEST_CASE("history cursor: FROM runs of adjacent notes of 32 KiB or more go by the raw path") {
  // Client A: a long burst (~60 KB), short bursts, then one ending the store; B between.
  Fixture fx;
  auto burst = [&](const char* who, int n) {
    for (int k = 0; k < n; ++k) fx.add(kT0, who, std::to_string(k) + std::string(100, 'r'));
  };
  burst("10.0.0.1:1", 3);
  burst("10.0.0.2:2", 1);
  burst("10.0.0.1:1", 500);  // a long run
  burst("10.0.0.2:2", 2);
  for (int i = 0; i < 20; ++i) {
    burst("10.0.0.1:1", 1 + i % 3);
    burst("10.0.0.2:2", 1);
  }
  burst("10.0.0.1:1", 400);  // a long run at the end of the store
  for (std::string q : {" FROM 10.0.0.1:1", " FROM 10.0.0.1", " FROM 10.0.0.2:2",
                        " FROM 10.0.0.1:1 LAST 450", " FROM 10.0.0.1:1 MATCH 7"}) {
    CAPTURE(q);
    Filters f;
    REQUIRE(parse_filters(q, "HISTORY", f) == "");
    std::string want;
    for (const std::string& l : fx.expected(f, fx.lines.size())) want += l;
    for (size_t piece : {size_t{1000}, size_t{7777}, size_t{1 << 20}}) {
      CAPTURE(piece);
      HistoryCursor c(f, HistoryCursor::Mode::snapshot, fx.store, fx.index);
      size_t raw_bytes = 0;
      CHECK(run_as_session(fx, c, piece, raw_bytes) == want);
      CHECK(c.lines() == fx.expected(f, fx.lines.size()).size());
      const bool runs = q.find("10.0.0.1") != std::string::npos && q.find("MATCH") == std::string::npos;
      CHECK((raw_bytes > 40000) == runs);  // the long runs went raw, only for them
    }
  }
}

TEST_CASE("history cursor: a FOLLOW FROM sending a run counts as backlog only what is unsent") {
  Fixture fx;
  fill(fx, 10);
  Filters f;
  REQUIRE(parse_filters(" FROM 10.0.0.1:1", "FOLLOW", f) == "");
  HistoryCursor c(f, HistoryCursor::Mode::follow, fx.store, fx.index);
  const uint64_t base = fx.store.bytes();
  for (int k = 0; k < 600; ++k) fx.add(kT0, "10.0.0.1:1", std::to_string(k) + std::string(100, 'r'));
  CHECK(c.backlog_bytes(fx.store, fx.index) == fx.store.bytes() - base);
  REQUIRE(c.start_run(fx.store, fx.index));
  c.raw_advance(fx.store.offset_at(310) - c.raw_offset());
  CHECK(c.backlog_bytes(fx.store, fx.index) == fx.store.bytes() - fx.store.offset_at(310));
  c.raw_advance(c.raw_end(fx.store) - c.raw_offset());
  CHECK_FALSE(c.raw());
  CHECK(c.backlog_bytes(fx.store, fx.index) == 0);
  CHECK(c.at_end(fx.store, fx.index));
}

TEST_CASE("history cursor: a FROM run cut short by a truncated store counts its whole lines") {
  Fixture fx;
  for (int k = 0; k < 600; ++k) fx.add(kT0, "10.0.0.1:1", std::to_string(k) + std::string(100, 'r'));
  Filters f;
  REQUIRE(parse_filters(" FROM 10.0.0.1:1", "HISTORY", f) == "");
  HistoryCursor c(f, HistoryCursor::Mode::snapshot, fx.store, fx.index);
  REQUIRE(c.start_run(fx.store, fx.index));
  CHECK(c.raw());
  CHECK(c.raw_offset() == 0);
  // 250 lines sent (a session's sendfile stopping at a line boundary), then the store fails.
  c.raw_advance(fx.store.offset_at(250));
  CHECK(c.raw());
  c.end_early(fx.store);
  CHECK(c.lines() == 250);
  CHECK(c.at_end(fx.store, fx.index));
}
