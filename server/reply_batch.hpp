// reply_batch.hpp — the UDP replies of a turn and how they are batched for the kernel. Pure
// (no I/O): UdpIntake queues Reply values, calls group_replies() once a turn's replies are all
// queued, and sends each group of more than one reply as one GSO datagram (UDP_SEGMENT,
// segment size = the replies' length), which the kernel cuts back into exactly those replies.
//
// Grouping rules (issue 15): replies to one peer with one length that follow each other in
// that peer's sequence of replies form a group of at most kMaxSegments. So:
//  * the order of the replies to any one peer is kept (replies to different peers may change
//    places: they go to different sockets);
//  * a group holds whole replies of one length: no reply is ever merged into another or cut;
//  * peers are the same only when their address bytes are (family, IP, port, IPv6 scope).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../common/net.hpp"
#include "../common/protocol.hpp"

struct Reply {
  SockAddr to;
  uint8_t len = 0;   // 1..kMaxUdpReply
  uint8_t segs = 1;  // a group's first reply: how many replies the group holds (itself
                     // included, 1..kMaxSegments); the others of the group: 0
  char text[kMaxUdpReply];
};

inline constexpr size_t kMaxSegments = 64;  // the kernel's UDP_MAX_SEGMENTS on older kernels

class ReplyGrouper {
 public:
  // Reorders replies[from..end) into groups (see above) and sets segs. Replies before `from`
  // are left alone. Allocation only when the turn has more replies than any before.
  void group(std::vector<Reply>& replies, size_t from);

 private:
  struct Group {
    uint32_t leader;  // index (relative to from) of its first reply
    uint32_t count;
    uint32_t start;   // its first position in the reordered range
  };
  size_t find_slot(const std::vector<Reply>& r, size_t from, const SockAddr& to) const noexcept;

  std::vector<Group> groups_;
  std::vector<uint32_t> group_of_;  // per reply in the range
  std::vector<uint32_t> table_;     // open addressing: peer → its open group + 1 (0: empty)
  std::vector<Reply> scratch_;
};
