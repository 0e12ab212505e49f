// exactly_once.hpp — ExactlyOnce: the pure rules that store a note of the official client
// exactly once, however often its datagram is retried (SPEC "UDP", precise points). No I/O;
// the caller (UdpIntake; the HTTP Idempotency-Key path) owns sockets and formats replies.
//
// A client (a 64-bit id) numbers its messages 1, 2, 3...; a datagram carries the run
// first..first+count-1 (count 1..64) and a floor: "every message below floor is settled for me".
//  * admit(): messages are taken strictly in order (Go-Back-N). A run that starts beyond the
//    next expected message is answered "wait" (send from `next` on) and dropped; a run wholly
//    below it is a "duplicate" (answer it with recall() after the turn's commit); otherwise
//    "take" from the first new message (those below it in the run are retries, not stored).
//    An unknown client starts at its floor, so an earlier lost datagram is waited for.
//  * take(): the caller took the run (e.g. it passed the rate limit): the client moves on,
//    until its commit ends. end_turn(false) (a commit failed) undoes every take not settled
//    yet — of that commit and of datagrams read while it was in flight (the server refuses
//    those too: they may continue the refused runs).
//  * settle(): after a successful commit, the outcome (which messages got which seqs, which
//    were refused and why) is remembered, so recall() answers a retry with the original seqs.
//  * restore(): at start, each stored note with a client id, in store order, rebuilds the
//    table (the store records client id and message number), so exactly-once survives kill -9.
// Bounded: kMaxClients ids (the least recently used eighth evicted when full), kRuns runs
// (one datagram each) per id: about 2 KiB per client at most. A forgotten client starts again
// at its floor; a forgotten run of a known client is answered as refused/unknown (seq 0).
//
// HTTP Idempotency-Key contract (SPEC "HTTP"): a key is a client with one message. Validate
// the body first (a refused body must not use up the key), then
// admit(key_client_id(key), 1, 1, 1): "take" → append the note with client_id =
// key_client_id(key) and msg = 1 (so the store records it and restore() finds it after a
// restart), call take(id, 2), and after the commit settle(id, {1, 1, seq}) or end_turn(false);
// "duplicate" → after this turn's settle() calls, recall(id, 1, 1).seq is the original seq
// (0: no longer known). "wait" cannot happen (first == floor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../common/protocol.hpp"

class ExactlyOnce {
 public:
  static constexpr size_t kMaxClients = 16384;
  static constexpr size_t kRuns = 64;

  struct Admission {
    enum class Kind : uint8_t { wait, duplicate, take } kind;
    uint64_t from;  // wait: the next message expected; take: the first new message;
                    // duplicate: the run's first message
  };
  // Messages first..first+count-1 (count 1..64): those whose bit (i = message first+i) is set
  // in refused_mask were refused, the others stored in order as seq, seq+1... (seq 0: none
  // stored or not known). refusal: why the first refused one was; ok() when not known (a
  // retry after a restart: refused notes are not stored).
  struct Outcome {
    uint64_t first = 0;
    uint64_t count = 0;
    uint64_t seq = 0;
    uint64_t refused_mask = 0;
    NoteCheck refusal = {};
  };

  Admission admit(uint64_t client_id, uint64_t floor, uint64_t first, uint64_t count);
  // After admit() said take: the client's messages below `end` are taken this turn.
  void take(uint64_t client_id, uint64_t end);
  // After a successful commit: what became of a taken run (messages in rising order).
  void settle(uint64_t client_id, const Outcome& outcome);
  // End of a commit: keep its takes (committed) or undo every take not settled (failed).
  void end_turn(bool committed) noexcept;
  // The reply to a retry of messages first..first+count-1, from what was settled. A message
  // no longer known that comes before a known stored one counts as refused (it was not
  // stored with that datagram), so "seq + stored below i" stays right for the client.
  Outcome recall(uint64_t client_id, uint64_t first, uint64_t count) const;
  // Start-up: a committed note of client_id with message msg stored as seq, in store order.
  void restore(uint64_t client_id, uint64_t msg, uint64_t seq);
  size_t size() const noexcept { return clients_.size(); }
  // The client id an HTTP Idempotency-Key stands for (FNV-1a, never 0).
  static uint64_t key_client_id(std::string_view key) noexcept;

 private:
  struct Run {
    uint64_t first_msg = 0;
    uint64_t first_seq = 0;
    uint64_t refused_mask = 0;
    uint32_t count = 0;
    uint8_t refusal = 0;  // a NoteError, and its byte offset: a retry hears the same reason
    uint32_t refusal_at = 0;
  };
  struct Client {
    uint64_t next = 1;          // committed: every message below is settled
    uint64_t pending_next = 1;  // moved by take() during a turn, before its commit
    uint64_t last_used = 0;
    std::deque<Run> runs;       // rising first_msg
  };

  // The client's entry, marked used this turn; a new one starts at start_msg, and making
  // room for it may evict the least recently used eighth of the table (evict_if_full).
  Client& find_or_add(uint64_t client_id, uint64_t start_msg);
  void add_run(Client& c, const Run& run);
  static const Run* find_run(const Client& c, uint64_t msg) noexcept;
  // The seq message msg got: 0 if refused, UINT64_MAX if not known.
  static uint64_t lookup(const Client& c, uint64_t msg) noexcept;
  void evict_if_full();

  std::unordered_map<uint64_t, Client> clients_;
  uint64_t clock_ = 0;
};
