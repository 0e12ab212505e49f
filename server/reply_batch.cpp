// reply_batch.cpp — see reply_batch.hpp.
#include "reply_batch.hpp"

#include <algorithm>
#include <cstring>

namespace {

uint64_t hash_addr(const SockAddr& a) noexcept {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = reinterpret_cast<const unsigned char*>(&a.ss);
  for (socklen_t i = 0; i < a.len; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

bool same_bytes(const SockAddr& a, const SockAddr& b) noexcept {
  return a.len == b.len && std::memcmp(&a.ss, &b.ss, a.len) == 0;
}

}  // namespace

size_t ReplyGrouper::find_slot(const std::vector<Reply>& r, size_t from,
                               const SockAddr& to) const noexcept {
  const size_t mask = table_.size() - 1;
  size_t i = hash_addr(to) & mask;
  while (table_[i] != 0 && !same_bytes(r[from + groups_[table_[i] - 1].leader].to, to))
    i = (i + 1) & mask;
  return i;
}

void ReplyGrouper::group(std::vector<Reply>& replies, size_t from) {
  if (from >= replies.size()) return;
  const size_t n = replies.size() - from;
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  table_.assign(cap, 0);
  groups_.clear();
  group_of_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Reply& r = replies[from + i];
    size_t slot = find_slot(replies, from, r.to);
    uint32_t g = table_[slot];
    if (g != 0 && replies[from + groups_[g - 1].leader].len == r.len &&
        groups_[g - 1].count < kMaxSegments) {
      ++groups_[g - 1].count;
    } else {  // a new group, now the peer's open one (a different length closes the old)
      groups_.push_back({static_cast<uint32_t>(i), 1, 0});
      g = static_cast<uint32_t>(groups_.size());
      table_[slot] = g;
    }
    group_of_[i] = g - 1;
  }
  if (groups_.size() == n) return;  // nothing to batch: every reply stands alone
  uint32_t pos = 0;
  for (Group& g : groups_) {
    g.start = pos;
    pos += g.count;
  }
  scratch_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    Group& g = groups_[group_of_[i]];
    Reply& out = scratch_[g.start];
    out = replies[from + i];
    out.segs = 0;
    ++g.start;
  }
  for (const Group& g : groups_) scratch_[g.start - g.count].segs = static_cast<uint8_t>(g.count);
  std::copy(scratch_.begin(), scratch_.end(), replies.begin() + static_cast<long>(from));
}
