// exactly_once_test.cpp — server/exactly_once: admit (wait / duplicate / take), take, settle,
// recall (the reply to a retry), end_turn rollback, restore from the store, the bounds on runs
// and clients, the Idempotency-Key mapping; and the shared seq arithmetic (protocol.hpp).
#include <doctest/doctest.h>

#include <cstdint>

#include "../../server/exactly_once.hpp"

using Kind = ExactlyOnce::Admission::Kind;
using Outcome = ExactlyOnce::Outcome;

namespace {
constexpr uint64_t kUnknown = UINT64_MAX;
// What the table says about one message: its seq, 0 if refused, kUnknown if not known.
uint64_t seq_of(const ExactlyOnce& x, uint64_t id, uint64_t msg) {
  Outcome o = x.recall(id, msg, 1);
  if (o.refused_mask) return 0;
  return o.seq ? o.seq : kUnknown;
}
// One whole turn: admit (floor = first), take, settle (stored from seq, refused per mask),
// commit.
void store_run(ExactlyOnce& x, uint64_t id, uint64_t first, uint64_t count, uint64_t seq,
               uint64_t mask = 0) {
  ExactlyOnce::Admission a = x.admit(id, first, first, count);
  REQUIRE(a.kind == Kind::take);
  x.take(id, first + count);
  x.settle(id, Outcome{a.from, first + count - a.from, seq, mask, {}});
  x.end_turn(true);
}
}  // namespace

TEST_CASE("seq arithmetic: stored_below and seq_in_run") {
  CHECK(stored_below(0, 0) == 0);
  CHECK(stored_below(0, 5) == 5);
  CHECK(stored_below(0b1010, 4) == 2);
  CHECK(stored_below(0, 64) == 64);
  CHECK(stored_below(~uint64_t{0}, 64) == 0);
  CHECK(stored_below((uint64_t{1} << 63) | 1, 64) == 62);
  CHECK(seq_in_run(100, 0b0101, 1) == 100);
  CHECK(seq_in_run(100, 0b0101, 3) == 101);
  CHECK(seq_in_run(50, 1, 63) == 50 + 62);
}

TEST_CASE("exactly-once: an unknown client starts at its floor and waits for what is missing") {
  ExactlyOnce x;
  ExactlyOnce::Admission a = x.admit(42, 5, 7, 2);  // 5 and 6 were lost on the way
  CHECK(a.kind == Kind::wait);
  CHECK(a.from == 5);
  CHECK(x.size() == 1);
  a = x.admit(42, 5, 5, 2);
  CHECK(a.kind == Kind::take);
  CHECK(a.from == 5);
  x.take(42, 7);
  a = x.admit(42, 5, 7, 2);  // in order now, in the same turn
  CHECK(a.kind == Kind::take);
  CHECK(a.from == 7);
  // a floor above what the server knows moves it up (the client settled those itself)
  a = x.admit(42, 20, 20, 1);
  CHECK(a.kind == Kind::take);
  CHECK(a.from == 20);
  CHECK(seq_of(x, 42, 5) == kUnknown);
}

TEST_CASE("exactly-once: a run partly taken is taken from the first new message") {
  ExactlyOnce x;
  store_run(x, 1, 1, 3, 10);
  ExactlyOnce::Admission a = x.admit(1, 1, 2, 4);  // 2, 3 retried, 4, 5 new
  CHECK(a.kind == Kind::take);
  CHECK(a.from == 4);
  a = x.admit(1, 1, 1, 3);
  CHECK(a.kind == Kind::duplicate);
  CHECK(a.from == 1);
}

TEST_CASE("exactly-once: settle and recall, with refused messages and their reason") {
  ExactlyOnce x;
  store_run(x, 1, 5, 3, 100);
  CHECK(seq_of(x, 1, 4) == kUnknown);
  CHECK(seq_of(x, 1, 5) == 100);
  CHECK(seq_of(x, 1, 6) == 101);
  CHECK(seq_of(x, 1, 7) == 102);
  CHECK(seq_of(x, 1, 8) == kUnknown);
  // 8 stored, 9 refused, 10 stored, 11 refused, with the first refusal's reason
  ExactlyOnce::Admission a = x.admit(1, 1, 8, 4);
  REQUIRE(a.kind == Kind::take);
  x.take(1, 12);
  x.settle(1, Outcome{8, 4, 103, 0b1010, {NoteError::control_char, 3}});
  x.end_turn(true);
  CHECK(seq_of(x, 1, 8) == 103);
  CHECK(seq_of(x, 1, 9) == 0);
  CHECK(seq_of(x, 1, 10) == 104);
  CHECK(seq_of(x, 1, 11) == 0);
  CHECK(seq_of(x, 1, 12) == kUnknown);
  Outcome r = x.recall(1, 8, 4);  // the whole retry, as its first reply said
  CHECK(r.seq == 103);
  CHECK(r.refused_mask == 0b1010);
  CHECK(r.refusal.error == NoteError::control_char);
  CHECK(r.refusal.at == 3);
  // a retry of a different shape does not claim the reason
  CHECK(x.recall(1, 9, 2).refusal.ok());
  CHECK(x.recall(1, 9, 2).seq == 104 - 0);
  CHECK(x.recall(1, 9, 2).refused_mask == 0b01);
  // earlier runs are still found; an older run settled again is not recorded twice
  CHECK(seq_of(x, 1, 6) == 101);
  x.settle(1, Outcome{8, 4, 999, 0, {}});
  CHECK(seq_of(x, 1, 8) == 103);
  CHECK(x.admit(1, 1, 12, 1).kind == Kind::take);
}

TEST_CASE("exactly-once: a full 64-message run with the first and last refused") {
  ExactlyOnce x;
  store_run(x, 1, 1, 64, 50, (uint64_t{1} << 63) | 1);
  CHECK(seq_of(x, 1, 1) == 0);
  CHECK(seq_of(x, 1, 2) == 50);
  CHECK(seq_of(x, 1, 63) == 50 + 61);
  CHECK(seq_of(x, 1, 64) == 0);
  CHECK(seq_of(x, 1, 65) == kUnknown);
  Outcome r = x.recall(1, 1, 64);
  CHECK(r.seq == 50);
  CHECK(r.refused_mask == ((uint64_t{1} << 63) | 1));
}

TEST_CASE("exactly-once: a forgotten message before a known one counts as refused") {
  ExactlyOnce x;
  for (uint64_t i = 0; i < ExactlyOnce::kRuns + 1; ++i) store_run(x, 1, 1 + i, 1, 10 + i);
  // message 1 is forgotten (only kRuns runs are kept), 2 and 3 are known
  CHECK(seq_of(x, 1, 1) == kUnknown);
  Outcome r = x.recall(1, 1, 3);
  CHECK(r.refused_mask == 0b001);
  CHECK(r.seq == 11);
  CHECK(r.refusal.ok());  // "refused", reason not known
  // a client the table never knew: nothing known, nothing claimed
  Outcome none = x.recall(77, 1, 2);
  CHECK(none.seq == 0);
  CHECK(none.refused_mask == 0);
}

TEST_CASE("exactly-once: only the last kRuns runs are kept") {
  ExactlyOnce x;
  for (uint64_t i = 0; i < ExactlyOnce::kRuns + 6; ++i) store_run(x, 1, 1 + 2 * i, 2, 10 + 2 * i);
  CHECK(seq_of(x, 1, 1) == kUnknown);
  CHECK(seq_of(x, 1, 12) == kUnknown);
  CHECK(seq_of(x, 1, 13) == 22);
  CHECK(seq_of(x, 1, 14) == 23);
  uint64_t last = 2 * (ExactlyOnce::kRuns + 6);
  CHECK(seq_of(x, 1, last) == 10 + last - 1);
  // forgotten runs are still below next: a retry of them is a duplicate, never stored again
  CHECK(x.admit(1, 1, 1, 2).kind == Kind::duplicate);
}

TEST_CASE("exactly-once: restore merges one datagram's notes into runs") {
  ExactlyOnce x;
  x.restore(9, 1, 10);
  x.restore(9, 2, 11);
  x.restore(9, 3, 12);
  x.restore(9, 5, 13);  // message 4 took no seq: it was refused, the run goes on
  x.restore(9, 6, 20);  // seq gap (another client wrote in between): a new run
  x.restore(9, 7, 21);
  ExactlyOnce::Admission a = x.admit(9, 1, 8, 1);
  CHECK(a.kind == Kind::take);
  CHECK(a.from == 8);
  x.end_turn(false);
  Outcome r = x.recall(9, 1, 5);  // the first datagram, as one run
  CHECK(r.seq == 10);
  CHECK(r.refused_mask == 0b01000);
  CHECK(seq_of(x, 9, 3) == 12);
  CHECK(seq_of(x, 9, 4) == 0);
  CHECK(seq_of(x, 9, 5) == 13);
  CHECK(seq_of(x, 9, 6) == 20);
  CHECK(seq_of(x, 9, 7) == 21);
  CHECK(seq_of(x, 9, 8) == kUnknown);
  // a message gap of 64 or more cannot be one datagram: a new run
  x.restore(9, 7 + 64, 22);
  CHECK(seq_of(x, 9, 7 + 64) == 22);
  CHECK(seq_of(x, 9, 8) == kUnknown);
}

TEST_CASE("exactly-once: restore caps a run at 64 messages and keeps clients apart") {
  ExactlyOnce x;
  for (uint64_t m = 1; m <= 100; ++m) {
    x.restore(1, m, 1000 + m);
    x.restore(2, m, 5000 + m);
  }
  CHECK(x.size() == 2);
  CHECK(x.recall(1, 1, 64).seq == 1001);
  CHECK(x.recall(1, 65, 36).seq == 1065);
  int bad = 0;
  for (uint64_t m = 1; m <= 100; ++m)
    if (seq_of(x, 1, m) != 1000 + m) ++bad;
  CHECK(bad == 0);
  CHECK(seq_of(x, 2, 64) == 5064);
  CHECK(seq_of(x, 2, 65) == 5065);
  CHECK(x.admit(1, 1, 101, 1).kind == Kind::take);
  CHECK(x.admit(1, 1, 100, 1).kind == Kind::duplicate);
}

TEST_CASE("exactly-once: end_turn(false) undoes the turn's takes, end_turn(true) keeps them") {
  ExactlyOnce x;
  store_run(x, 1, 1, 2, 1);
  // next turn: messages 3..5 are taken, then the commit fails
  REQUIRE(x.admit(1, 1, 3, 3).kind == Kind::take);
  x.take(1, 6);
  CHECK(x.admit(1, 1, 3, 3).kind == Kind::duplicate);  // within the turn: a retry
  x.end_turn(false);
  ExactlyOnce::Admission a = x.admit(1, 1, 3, 3);  // the retry is taken again
  CHECK(a.kind == Kind::take);
  CHECK(a.from == 3);
  x.take(1, 6);
  x.settle(1, Outcome{3, 3, 3, 0, {}});
  x.end_turn(true);
  CHECK(x.admit(1, 1, 3, 3).kind == Kind::duplicate);
  CHECK(x.recall(1, 3, 3).seq == 3);
  // a failed turn only undoes the clients of that turn
  REQUIRE(x.admit(2, 10, 10, 2).kind == Kind::take);
  x.take(2, 12);
  x.settle(2, Outcome{10, 2, 7, 0, {}});
  x.end_turn(true);
  REQUIRE(x.admit(1, 1, 6, 3).kind == Kind::take);
  x.take(1, 9);
  x.end_turn(false);
  CHECK(x.admit(2, 10, 12, 1).from == 12);
  CHECK(x.admit(1, 1, 6, 1).from == 6);
  // take() of an unknown client changes nothing
  x.take(555, 9);
  CHECK(x.size() == 2);
}

TEST_CASE("exactly-once: a pipelined commit: takes read while one is in flight") {
  ExactlyOnce x;
  store_run(x, 1, 1, 2, 1);  // messages 1, 2 stored as seqs 1, 2
  // Commit A takes 3..4 of client 1; while it is in flight B takes 5..6 of client 1 and 1 of
  // client 2; a retry of 3..4 is a duplicate (answered after A settles).
  REQUIRE(x.admit(1, 1, 3, 2).kind == Kind::take);
  x.take(1, 5);
  REQUIRE(x.admit(1, 1, 5, 2).kind == Kind::take);
  x.take(1, 7);
  REQUIRE(x.admit(2, 1, 1, 1).kind == Kind::take);
  x.take(2, 2);
  CHECK(x.admit(1, 1, 3, 2).kind == Kind::duplicate);
  SUBCASE("A fails: its takes and B's are undone (B is refused with it)") {
    x.end_turn(false);
    CHECK(x.admit(1, 1, 3, 2).kind == Kind::take);
    CHECK(x.admit(1, 1, 3, 2).from == 3);
    CHECK(x.admit(1, 1, 5, 1).kind == Kind::wait);
    CHECK(x.admit(2, 1, 1, 1).kind == Kind::take);
  }
  SUBCASE("A settles, then B fails: only B's takes are undone") {
    x.settle(1, Outcome{3, 2, 3, 0, {}});
    x.end_turn(true);
    CHECK(x.recall(1, 3, 2).seq == 3);
    CHECK(x.admit(1, 1, 5, 2).kind == Kind::duplicate);  // still B's, in flight
    x.end_turn(false);
    CHECK(x.admit(1, 1, 3, 2).kind == Kind::duplicate);
    ExactlyOnce::Admission a = x.admit(1, 1, 5, 2);
    CHECK(a.kind == Kind::take);
    CHECK(a.from == 5);
    CHECK(x.admit(2, 1, 1, 1).kind == Kind::take);
  }
}

TEST_CASE("exactly-once: the table is bounded, least recently used ids go first") {
  ExactlyOnce x;
  for (uint64_t id = 1; id <= ExactlyOnce::kMaxClients; ++id) x.admit(id, 1, 1, 1);
  x.end_turn(true);
  CHECK(x.size() == ExactlyOnce::kMaxClients);
  store_run(x, 1, 1, 1, 5);  // id 1 is now the most recent
  x.admit(0xffffffff, 1, 1, 1);  // a new id: evicts the oldest eighth first
  x.end_turn(true);
  const size_t after = x.size();
  CHECK(after == ExactlyOnce::kMaxClients - ExactlyOnce::kMaxClients / 8);
  // id 1 survived, id 2 (oldest) did not: it starts afresh at its floor
  CHECK(seq_of(x, 1, 1) == 5);
  CHECK(x.admit(2, 77, 80, 1).from == 77);
  CHECK(x.size() == after + 1);
  size_t most = 0;
  for (uint64_t id = 1000000; id < 1000000 + 3 * ExactlyOnce::kMaxClients; ++id) {
    x.admit(id, 1, 1, 1);
    if (x.size() > most) most = x.size();
    if (id % 1024 == 0) x.end_turn(true);
  }
  x.end_turn(true);
  CHECK(most == ExactlyOnce::kMaxClients);
}

TEST_CASE("exactly-once: the Idempotency-Key contract (one client, one message per key)") {
  uint64_t id = ExactlyOnce::key_client_id("order-42");
  CHECK(id != 0);
  CHECK(id == ExactlyOnce::key_client_id("order-42"));
  CHECK(id != ExactlyOnce::key_client_id("order-43"));
  CHECK(ExactlyOnce::key_client_id("") != 0);
  ExactlyOnce x;
  ExactlyOnce::Admission a = x.admit(id, 1, 1, 1);
  REQUIRE(a.kind == Kind::take);
  x.take(id, 2);
  // the same key again in the same turn: a duplicate, answered after the settle
  CHECK(x.admit(id, 1, 1, 1).kind == Kind::duplicate);
  x.settle(id, Outcome{1, 1, 314, 0, {}});
  CHECK(x.recall(id, 1, 1).seq == 314);
  x.end_turn(true);
  CHECK(x.admit(id, 1, 1, 1).kind == Kind::duplicate);
  CHECK(x.recall(id, 1, 1).seq == 314);
  // after a restart: rebuilt from the store's record of (client id, msg 1)
  ExactlyOnce y;
  y.restore(id, 1, 314);
  CHECK(y.admit(id, 1, 1, 1).kind == Kind::duplicate);
  CHECK(y.recall(id, 1, 1).seq == 314);
}
