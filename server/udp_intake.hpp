// udp_intake.hpp — UdpIntake: the UDP socket. Reads a turn's datagrams in batches
// (recvmmsg), validates them in place, queues accepted notes for the next commit (while one
// is in flight under --fsync always they gather in the free receive slots: seal() sets the
// written commit's datagrams aside), and when that commit ended sends every reply with
// sendmmsg (refusals go at once): replies to one peer with one length
// go as one GSO message (UDP_SEGMENT; grouping in reply_batch.hpp), the rest one by one.
// If the kernel refuses UDP_SEGMENT (EIO, EINVAL, ENOPROTOOPT), replies go one by one from
// then on (logged, STATS udp_gso_fallback 1). Test switch, environment DAILYNETD_GSO: "off"
// never tries GSO, "refuse" acts as if the kernel refused the first GSO send.
// Owns the socket and the receive slots; keeps no per-peer objects; the exactly-once rules
// (ExactlyOnce) and rate buckets are given to it.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../common/fd.hpp"
#include "../common/net.hpp"
#include "../common/protocol.hpp"
#include "config.hpp"
#include "exactly_once.hpp"
#include "rate_limit.hpp"
#include "reply_batch.hpp"
#include "stats.hpp"
#include "store.hpp"

class UdpIntake {
 public:
  static constexpr size_t kTurnBudget = 1024;   // datagrams read per turn
  static constexpr size_t kMaxDatagrams = 4096;  // read and waiting for the next commit
  static constexpr size_t kMarkedMax = 8192;    // largest multi-note marked datagram the client sends
  static constexpr size_t kMarkedHeaderMax = 64;  // a marked header line, '\n' included
  static constexpr size_t kMaxQueuedReplies = 65536;

  UdpIntake(const Config& cfg, Stats& stats, ExactlyOnce& once, RateLimiter& rate);
  bool open(const SockAddr& bind_to, std::string& error);
  int fd() const noexcept { return fd_.get(); }
  const SockAddr& local() const noexcept { return local_; }
  int receive_buffer() const noexcept { return rcvbuf_; }

  // Reads datagrams until the socket is empty or the turn's budget is spent. Returns true
  // when it stopped at the budget (more may be waiting).
  bool read_turn(int64_t now_ms);
  // Room for more datagrams before the next commit: at most kMaxDatagrams, in the receive
  // buffer (kTurnBudget windows of the largest datagram; each datagram read keeps only its
  // own bytes). While a commit is in flight it fills up, and the loop stops reading until
  // the commit ends.
  bool has_room() const noexcept {
    return used_ < kMaxDatagrams && bufs_size_ - buf_end_ >= slot_size_;
  }
  // The notes accepted since the last seal(), to commit in this order; views stay valid
  // until seal().
  const std::vector<NoteToAppend>& notes() const noexcept { return notes_; }
  // Once those notes are written (or refused): the datagrams waiting for that commit keep
  // their peers and outcomes aside, and the receive slots are free for the next reads.
  // Precondition: the previous sealed commit was ended (end_commit).
  void seal();
  // After the sealed commit ended (written and, under --fsync always, both files synced; or
  // refused): queue every reply of its datagrams, settle or roll back the exactly-once table,
  // try to send.
  void end_commit(bool committed, uint64_t first_seq);
  // Sends queued replies (sendmmsg) until done or the socket is full.
  void flush_replies();
  bool replies_pending() const noexcept { return reply_head_ < replies_.size(); }

 private:
  struct Waiting {  // a datagram whose reply depends on the commit
    enum class Kind : uint8_t { plain, marked, duplicate } kind;
    uint32_t slot;
    uint32_t first_note;  // index in notes_
    uint32_t stored;      // notes of it in notes_
    uint64_t client_id = 0;
    ExactlyOnce::Outcome outcome;  // marked, duplicate: the run (seq set after the commit)
  };
  struct Sealed {  // a datagram waiting for the commit in flight: its peer kept
    Waiting w;
    SockAddr to;
  };
  enum class Gso : uint8_t { on, off, refuse };

  void on_datagram(uint32_t slot, size_t len, bool truncated, int64_t now_ms);
  void log_not_allowed(const SockAddr& peer, int64_t now_ms);
  void on_marked(uint32_t slot, std::string_view data, int64_t now_ms);
  void reply_marked(const SockAddr& to, const ExactlyOnce::Outcome& o);
  void count_refusal(NoteError e) noexcept;
  void reply(uint32_t slot, std::string_view text) { reply_to(peers_[slot], text); }
  void reply_to(const SockAddr& to, std::string_view text);
  struct Batch;
  void fill_batch(Batch& b);  // the next replies from reply_head_, grouped ones as GSO
  int send_batch(mmsghdr* msgs, unsigned n);
  void gso_refused(int err);

  static constexpr size_t kAllowLogHosts = 4096;
  std::unordered_map<std::string, int64_t> allow_logged_;  // IP -> when last logged

  const Config& cfg_;
  Stats& stats_;
  ExactlyOnce& once_;
  RateLimiter& rate_;
  Fd fd_;
  SockAddr local_;
  int rcvbuf_ = 0;
  size_t slot_size_ = 0;
  // The datagrams read, end to end, up to buf_end_ (bufs_size_ bytes, not zeroed).
  std::unique_ptr<char[]> bufs_;
  size_t bufs_size_ = 0;
  size_t buf_end_ = 0;
  // Per slot (a datagram read since the last seal(), 0..kMaxDatagrams-1):
  std::vector<uint32_t> data_at_;      // where its bytes start in bufs_
  std::vector<SockAddr> peers_;
  std::vector<char> addr_text_;        // 64 bytes: the peer as "IP:PORT"
  std::vector<uint8_t> addr_len_;
  size_t used_ = 0;                    // slots filled since the last seal()
  std::vector<NoteToAppend> notes_;
  std::vector<Waiting> waiting_;
  std::vector<Sealed> sealed_;         // the datagrams of the commit being made
  std::vector<Reply> replies_;
  size_t reply_head_ = 0;
  size_t grouped_ = 0;  // replies_ below this were grouped already
  ReplyGrouper grouper_;
  Gso gso_ = Gso::on;
};
