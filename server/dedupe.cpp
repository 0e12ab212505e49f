// dedupe.cpp — see dedupe.hpp.
#include "dedupe.hpp"

#include <algorithm>

Dedupe::Client& Dedupe::get(uint64_t client_id, uint64_t start_msg) {
  auto it = clients_.find(client_id);
  if (it == clients_.end()) {
    evict_if_full();
    it = clients_.emplace(client_id, Client{}).first;
    it->second.next = it->second.pending_next = start_msg;
  }
  it->second.last_used = ++clock_;
  touched_.push_back(client_id);
  return it->second;
}

void Dedupe::restore(uint64_t client_id, uint64_t msg, uint64_t seq) {
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
    uint64_t stored = static_cast<uint64_t>(
        __builtin_popcountll(~r.refused_mask & (r.count >= 64 ? ~uint64_t{0}
                                                              : (uint64_t{1} << r.count) - 1)));
    if (msg >= r.first_msg + r.count && msg - r.first_msg < 64 && r.first_seq + stored == seq) {
      for (uint64_t m = r.first_msg + r.count; m < msg; ++m)
        r.refused_mask |= uint64_t{1} << (m - r.first_msg);
      r.count = static_cast<uint32_t>(msg - r.first_msg + 1);
      c.next = c.pending_next = msg + 1;
      return;
    }
  }
  settle(c, Run{msg, seq, 0, 1});
  c.pending_next = c.next;
}

void Dedupe::settle(Client& c, const Run& run) {
  if (run.first_msg + run.count > c.next) c.next = run.first_msg + run.count;
  if (!c.runs.empty() && c.runs.back().first_msg >= run.first_msg) return;
  c.runs.push_back(run);
  if (c.runs.size() > kRuns) c.runs.pop_front();
}

void Dedupe::end_turn(bool committed) noexcept {
  if (!committed) {
    for (uint64_t id : touched_) {
      auto it = clients_.find(id);
      if (it != clients_.end()) it->second.pending_next = it->second.next;
    }
  }
  touched_.clear();
}

const Dedupe::Run* Dedupe::find_run(const Client& c, uint64_t msg) noexcept {
  auto it = std::upper_bound(c.runs.begin(), c.runs.end(), msg,
                             [](uint64_t m, const Run& r) { return m < r.first_msg; });
  if (it == c.runs.begin()) return nullptr;
  const Run& r = *--it;
  return msg < r.first_msg + r.count ? &r : nullptr;
}

uint64_t Dedupe::lookup(const Client& c, uint64_t msg) noexcept {
  const Run* run = find_run(c, msg);
  if (!run) return UINT64_MAX;
  const Run& r = *run;
  unsigned i = static_cast<unsigned>(msg - r.first_msg);
  if (r.refused_mask >> i & 1) return 0;
  uint64_t below = i == 0 ? 0 : (~r.refused_mask & ((uint64_t{1} << i) - 1));
  return r.first_seq + static_cast<uint64_t>(__builtin_popcountll(below));
}

void Dedupe::evict_if_full() {
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
