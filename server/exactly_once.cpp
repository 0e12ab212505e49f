// exactly_once.cpp — see exactly_once.hpp.
#include "exactly_once.hpp"

#include <algorithm>

ExactlyOnce::Admission ExactlyOnce::admit(uint64_t client_id, uint64_t floor, uint64_t first,
                                          uint64_t count) {
  Client& c = find_or_add(client_id, floor);
  if (c.pending_next < floor) c.pending_next = floor;
  if (first > c.pending_next) return {Admission::Kind::wait, c.pending_next};
  if (first + count <= c.pending_next) return {Admission::Kind::duplicate, first};
  return {Admission::Kind::take, c.pending_next};
}

void ExactlyOnce::take(uint64_t client_id, uint64_t end) {
  auto it = clients_.find(client_id);
  if (it != clients_.end() && it->second.pending_next < end) it->second.pending_next = end;
}

void ExactlyOnce::settle(uint64_t client_id, const Outcome& o) {
  add_run(find_or_add(client_id, o.first),
          Run{o.first, o.seq, o.refused_mask, static_cast<uint32_t>(o.count),
              static_cast<uint8_t>(o.refusal.error), static_cast<uint32_t>(o.refusal.at)});
}

void ExactlyOnce::end_turn(bool committed) noexcept {
  // Rare (the disk refused): every client back to what is settled. A client with no take
  // pending has pending_next == next already (or a floor it will send again).
  if (!committed)
    for (auto& [id, c] : clients_) c.pending_next = c.next;
}

ExactlyOnce::Outcome ExactlyOnce::recall(uint64_t client_id, uint64_t first,
                                         uint64_t count) const {
  Outcome r{first, count, 0, 0, {}};
  auto it = clients_.find(client_id);
  if (it == clients_.end()) return r;
  const Client& c = it->second;
  uint64_t unknown = 0;
  for (unsigned i = 0; i < count; ++i) {
    uint64_t s = lookup(c, first + i);
    if (s == UINT64_MAX) {
      unknown |= uint64_t{1} << i;
    } else if (s == 0) {
      r.refused_mask |= uint64_t{1} << i;
    } else if (r.seq == 0) {
      r.refused_mask |= unknown;
      r.seq = s - stored_below(r.refused_mask, i);
    }
  }
  if (r.refused_mask) {
    // The original reason when the table still has it (same datagram, same process).
    const Run* run = find_run(c, first + static_cast<unsigned>(__builtin_ctzll(r.refused_mask)));
    if (run && run->refusal != 0 && run->first_msg == first)
      r.refusal = {static_cast<NoteError>(run->refusal), run->refusal_at};
  }
  return r;
}

void ExactlyOnce::restore(uint64_t client_id, uint64_t msg, uint64_t seq) {
  auto it = clients_.find(client_id);
  if (it == clients_.end()) {
    evict_if_full();
    it = clients_.emplace(client_id, Client{}).first;
  }
  Client& c = it->second;
  c.last_used = ++clock_;
  if (!c.runs.empty()) {
    Run& r = c.runs.back();
    // Extend the last run while seqs continue (one datagram's notes get consecutive seqs).
    // Messages skipped inside it were consumed without being stored: refused.
    if (msg >= r.first_msg + r.count && msg - r.first_msg < 64 &&
        r.first_seq + stored_below(r.refused_mask, r.count) == seq) {
      for (uint64_t m = r.first_msg + r.count; m < msg; ++m)
        r.refused_mask |= uint64_t{1} << (m - r.first_msg);
      r.count = static_cast<uint32_t>(msg - r.first_msg + 1);
      c.next = c.pending_next = msg + 1;
      return;
    }
  }
  add_run(c, Run{msg, seq, 0, 1, 0, 0});
  c.pending_next = c.next;
}

uint64_t ExactlyOnce::key_client_id(std::string_view key) noexcept {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : key) h = (h ^ ch) * 0x100000001b3ull;
  return h ? h : 1;
}

ExactlyOnce::Client& ExactlyOnce::find_or_add(uint64_t client_id, uint64_t start_msg) {
  auto it = clients_.find(client_id);
  if (it == clients_.end()) {
    evict_if_full();
    it = clients_.emplace(client_id, Client{}).first;
    it->second.next = it->second.pending_next = start_msg;
  }
  it->second.last_used = ++clock_;
  return it->second;
}

void ExactlyOnce::add_run(Client& c, const Run& run) {
  if (run.first_msg + run.count > c.next) c.next = run.first_msg + run.count;
  if (!c.runs.empty() && c.runs.back().first_msg >= run.first_msg) return;
  c.runs.push_back(run);
  if (c.runs.size() > kRuns) c.runs.pop_front();
}

const ExactlyOnce::Run* ExactlyOnce::find_run(const Client& c, uint64_t msg) noexcept {
  auto it = std::upper_bound(c.runs.begin(), c.runs.end(), msg,
                             [](uint64_t m, const Run& r) { return m < r.first_msg; });
  if (it == c.runs.begin()) return nullptr;
  const Run& r = *--it;
  return msg < r.first_msg + r.count ? &r : nullptr;
}

uint64_t ExactlyOnce::lookup(const Client& c, uint64_t msg) noexcept {
  const Run* r = find_run(c, msg);
  if (!r) return UINT64_MAX;
  unsigned i = static_cast<unsigned>(msg - r->first_msg);
  if (r->refused_mask >> i & 1) return 0;
  return seq_in_run(r->first_seq, r->refused_mask, i);
}

void ExactlyOnce::evict_if_full() {
  if (clients_.size() < kMaxClients) return;
  // Rare: one pass drops the least recently used eighth of the ids.
  std::vector<uint64_t> ages;
  ages.reserve(clients_.size());
  for (auto& [id, c] : clients_) ages.push_back(c.last_used);
  auto nth = ages.begin() + static_cast<long>(ages.size() / 8);
  std::nth_element(ages.begin(), nth, ages.end());
  uint64_t cut = *nth;
  for (auto it = clients_.begin(); it != clients_.end();)
    it = it->second.last_used <= cut ? clients_.erase(it) : std::next(it);
}
