// dedupe_test.cpp — server/dedupe: the exactly-once table: get, settle, lookup with refused
// masks, restore merging runs, end_turn rollback, and the bounds on runs and clients.
#include <doctest/doctest.h>

#include <cstdint>

#include "../../server/dedupe.hpp"

using Run = Dedupe::Run;

TEST_CASE("dedupe: an unknown client starts at the given message") {
  Dedupe d;
  Dedupe::Client& c = d.get(42, 5);
  CHECK(c.next == 5);
  CHECK(c.pending_next == 5);
  CHECK(c.runs.empty());
  CHECK(d.size() == 1);
  // a known one keeps its state
  Dedupe::Client& again = d.get(42, 100);
  CHECK(&again == &c);
  CHECK(again.next == 5);
  CHECK(d.size() == 1);
  CHECK(Dedupe::lookup(c, 5) == UINT64_MAX);
}

TEST_CASE("dedupe: settle and lookup") {
  Dedupe d;
  Dedupe::Client& c = d.get(1, 5);
  d.settle(c, Run{5, 100, 0, 3});
  CHECK(c.next == 8);
  CHECK(Dedupe::lookup(c, 4) == UINT64_MAX);
  CHECK(Dedupe::lookup(c, 5) == 100);
  CHECK(Dedupe::lookup(c, 6) == 101);
  CHECK(Dedupe::lookup(c, 7) == 102);
  CHECK(Dedupe::lookup(c, 8) == UINT64_MAX);
  // a run with refused notes: 8 stored, 9 refused, 10 stored, 11 refused
  d.settle(c, Run{8, 103, 0b1010, 4});
  CHECK(c.next == 12);
  CHECK(Dedupe::lookup(c, 8) == 103);
  CHECK(Dedupe::lookup(c, 9) == 0);
  CHECK(Dedupe::lookup(c, 10) == 104);
  CHECK(Dedupe::lookup(c, 11) == 0);
  CHECK(Dedupe::lookup(c, 12) == UINT64_MAX);
  // earlier runs are still found
  CHECK(Dedupe::lookup(c, 6) == 101);
  // a retried (older) run is not recorded twice and does not move next back
  d.settle(c, Run{8, 999, 0, 4});
  CHECK(c.runs.size() == 2);
  CHECK(c.next == 12);
  CHECK(Dedupe::lookup(c, 8) == 103);
}

TEST_CASE("dedupe: lookup across a full 64-message run with the top bit refused") {
  Dedupe d;
  Dedupe::Client& c = d.get(1, 1);
  uint64_t mask = (uint64_t{1} << 63) | 1;  // first and last refused
  d.settle(c, Run{1, 50, mask, 64});
  CHECK(c.next == 65);
  CHECK(Dedupe::lookup(c, 1) == 0);
  CHECK(Dedupe::lookup(c, 2) == 50);
  CHECK(Dedupe::lookup(c, 63) == 50 + 61);
  CHECK(Dedupe::lookup(c, 64) == 0);
  CHECK(Dedupe::lookup(c, 65) == UINT64_MAX);
}

TEST_CASE("dedupe: only the last kRuns runs are kept") {
  Dedupe d;
  Dedupe::Client& c = d.get(1, 1);
  for (uint64_t i = 0; i < Dedupe::kRuns + 6; ++i) d.settle(c, Run{1 + 2 * i, 10 + 2 * i, 0, 2});
  CHECK(c.runs.size() == Dedupe::kRuns);
  CHECK(c.next == 1 + 2 * (Dedupe::kRuns + 6));
  // the first six runs (messages 1..12) are forgotten, the seventh is known
  CHECK(Dedupe::lookup(c, 1) == UINT64_MAX);
  CHECK(Dedupe::lookup(c, 12) == UINT64_MAX);
  CHECK(Dedupe::lookup(c, 13) == 22);
  CHECK(Dedupe::lookup(c, 14) == 23);
  uint64_t last = 2 * (Dedupe::kRuns + 6);
  CHECK(Dedupe::lookup(c, last) == 10 + last - 1);
}

TEST_CASE("dedupe: restore merges one datagram's notes into runs") {
  Dedupe d;
  d.restore(9, 1, 10);
  d.restore(9, 2, 11);
  d.restore(9, 3, 12);
  d.restore(9, 5, 13);  // message 4 took no seq: it was refused, the run goes on
  d.restore(9, 6, 20);  // seq gap (another client wrote in between): a new run
  d.restore(9, 7, 21);
  Dedupe::Client& c = d.get(9, 1);
  CHECK(c.next == 8);
  CHECK(c.pending_next == 8);
  REQUIRE(c.runs.size() == 2);
  CHECK(c.runs[0].first_msg == 1);
  CHECK(c.runs[0].first_seq == 10);
  CHECK(c.runs[0].count == 5);
  CHECK(c.runs[0].refused_mask == 0b01000);
  CHECK(c.runs[1].first_msg == 6);
  CHECK(c.runs[1].first_seq == 20);
  CHECK(c.runs[1].count == 2);
  CHECK(c.runs[1].refused_mask == 0);
  CHECK(Dedupe::lookup(c, 1) == 10);
  CHECK(Dedupe::lookup(c, 3) == 12);
  CHECK(Dedupe::lookup(c, 4) == 0);
  CHECK(Dedupe::lookup(c, 5) == 13);
  CHECK(Dedupe::lookup(c, 6) == 20);
  CHECK(Dedupe::lookup(c, 7) == 21);
  CHECK(Dedupe::lookup(c, 8) == UINT64_MAX);
  // a message gap of 64 or more cannot be one datagram: a new run
  d.restore(9, 7 + 64, 22);
  CHECK(c.runs.size() == 3);
  CHECK(Dedupe::lookup(c, 7 + 64) == 22);
  CHECK(Dedupe::lookup(c, 8) == UINT64_MAX);
}

TEST_CASE("dedupe: restore caps a run at 64 messages and keeps clients apart") {
  Dedupe d;
  for (uint64_t m = 1; m <= 100; ++m) {
    d.restore(1, m, 1000 + m);
    d.restore(2, m, 5000 + m);
  }
  CHECK(d.size() == 2);
  Dedupe::Client& a = d.get(1, 1);
  REQUIRE(a.runs.size() == 2);
  CHECK(a.runs[0].count == 64);
  CHECK(a.runs[1].count == 36);
  CHECK(a.next == 101);
  int bad = 0;
  for (uint64_t m = 1; m <= 100; ++m)
    if (Dedupe::lookup(a, m) != 1000 + m) ++bad;
  CHECK(bad == 0);
  Dedupe::Client& b = d.get(2, 1);
  CHECK(Dedupe::lookup(b, 64) == 5064);
  CHECK(Dedupe::lookup(b, 65) == 5065);
}

TEST_CASE("dedupe: end_turn(false) rolls pending_next back, end_turn(true) keeps it") {
  Dedupe d;
  Dedupe::Client& c = d.get(1, 1);
  d.settle(c, Run{1, 1, 0, 2});
  c.pending_next = 3;
  d.end_turn(true);
  // next turn: the intake takes messages 3..5, then the commit fails
  Dedupe::Client& c2 = d.get(1, 1);
  c2.pending_next = 6;
  d.end_turn(false);
  CHECK(c2.pending_next == 3);
  CHECK(c2.next == 3);
  // a turn that commits keeps what moved
  Dedupe::Client& c3 = d.get(1, 1);
  c3.pending_next = 6;
  d.settle(c3, Run{3, 3, 0, 3});
  d.end_turn(true);
  CHECK(c3.pending_next == 6);
  CHECK(c3.next == 6);
  // a failed turn only touches the clients of that turn
  Dedupe::Client& other = d.get(2, 10);
  d.end_turn(true);
  other.pending_next = 12;  // moved outside a get() this turn
  Dedupe::Client& c4 = d.get(1, 1);
  c4.pending_next = 9;
  d.end_turn(false);
  CHECK(c4.pending_next == 6);
  CHECK(other.pending_next == 12);
}

TEST_CASE("dedupe: the table is bounded, least recently used ids go first") {
  Dedupe d;
  for (uint64_t id = 1; id <= Dedupe::kMaxClients; ++id) d.get(id, 1);
  d.end_turn(true);
  CHECK(d.size() == Dedupe::kMaxClients);
  // use id 1 again so it is the most recent
  d.get(1, 1);
  d.get(0xffffffff, 1);  // a new id: evicts the oldest eighth first
  d.end_turn(true);
  const size_t after = d.size();
  CHECK(after == Dedupe::kMaxClients - Dedupe::kMaxClients / 8 - 1 + 1);
  // id 1 survived (recently used), id 2 (oldest) did not
  d.get(1, 77);
  CHECK(d.size() == after);
  Dedupe::Client& two = d.get(2, 77);
  CHECK(d.size() == after + 1);
  CHECK(two.next == 77);  // starts fresh
  // never more than kMaxClients, however many ids come
  size_t most = 0;
  for (uint64_t id = 1000000; id < 1000000 + 3 * Dedupe::kMaxClients; ++id) {
    d.get(id, 1);
    if (d.size() > most) most = d.size();
    if (id % 1024 == 0) d.end_turn(true);
  }
  d.end_turn(true);
  CHECK(most == Dedupe::kMaxClients);
}
