// dedupe.hpp — Dedupe: the exactly-once table for the official client's marked datagrams.
// Per client id: the next message number it may send (notes are taken strictly in order,
// Go-Back-N style) and its recent runs of messages with their seqs, so a retry is answered
// with the original seqs. Bounded: kMaxClients ids (least recently used evicted), kRuns runs
// (each one datagram, up to 64 messages) per id: about 2 KiB per client at most.
// Rebuilt at start from the store's records; changed for good only after a commit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

class Dedupe {
 public:
  static constexpr size_t kMaxClients = 16384;
  static constexpr size_t kRuns = 64;

  // Messages first_msg..first_msg+count-1; those whose bit is set in refused_mask were
  // refused, the others were stored in order as first_seq, first_seq+1, ...
  struct Run {
    uint64_t first_msg = 0;
    uint64_t first_seq = 0;
    uint64_t refused_mask = 0;
    uint32_t count = 0;
    // Why the first refused message was refused (a NoteError and its byte offset), so a
    // retry hears the same reason. Not kept across a restart (refused notes are not stored).
    uint8_t refusal = 0;
    uint32_t refusal_at = 0;
  };

  struct Client {
    uint64_t next = 1;          // committed: every message below is settled
    uint64_t pending_next = 1;  // moved during a turn, before its commit
    uint64_t last_used = 0;
    std::deque<Run> runs;       // rising first_msg
  };

  // The state for id; an unknown id starts at start_msg (the client's floor).
  Client& get(uint64_t client_id, uint64_t start_msg);
  // Start-up: a committed note of client_id, in store order.
  void restore(uint64_t client_id, uint64_t msg, uint64_t seq);
  // After a commit: record a run (messages in rising order per client).
  void settle(Client& c, const Run& run);
  // End of a turn: keep pending_next (commit succeeded) or undo it (failed).
  void end_turn(bool committed) noexcept;
  // The seq message msg got: 0 if refused, UINT64_MAX if no longer known.
  static uint64_t lookup(const Client& c, uint64_t msg) noexcept;
  // The run that holds msg, or nullptr.
  static const Run* find_run(const Client& c, uint64_t msg) noexcept;
  size_t size() const noexcept { return clients_.size(); }

 private:
  void evict_if_full();
  std::unordered_map<uint64_t, Client> clients_;
  std::vector<uint64_t> touched_;  // ids whose pending_next moved this turn
  uint64_t clock_ = 0;
};
