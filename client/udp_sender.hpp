// udp_sender.hpp — UdpSender: sends notes exactly once over UDP as marked datagrams
// (common/protocol.hpp) with a window of datagrams in flight, Go-Back-N style. Owns its
// connected UDP socket and the datagrams in flight; reports each note's fate (seq or refusal)
// through a callback, in the order the notes were added. Does no stdin or stdout I/O.
//
// The rules it keeps (the server's side is in server/udp_intake.cpp):
//  * a random 64-bit client id per sender; message numbers 1, 2, 3, ... in the order added;
//  * up to 64 notes and about kPackBytes bytes per datagram; once formed, a datagram is
//    retransmitted byte-identical — except after "ERR <first> rate limited" (--rate: the
//    server took nothing from <first> on), which halves the notes per datagram and repacks
//    the datagrams not taken, message numbers unchanged, so a token bucket smaller than a
//    datagram still lets every note in; rate refusals that last timeout_ms end it
//    (Failure::rate_limited);
//  * floor (in each header) = the lowest message number not yet settled here;
//  * replies: OK (stored/refused, with seqs), WAIT <next> (resend from next: go back),
//    ERR <first> <reason> (nothing taken: back off, resend), plain ERR (malformed: fatal);
//  * until the server has answered once, only one datagram is in flight: a server that is not
//    there gets one datagram, not a window of them, and an old server (before it started an
//    unknown id at its floor) cannot skip a lost first datagram;
//  * a retransmission timer per datagram (rto from the measured round trip, at least
//    rto_min_ms, doubling per timeout up to rto_max_ms, or only up to 4 x while the server
//    keeps answering); an acknowledgement resets the others' backoff, and one that needed a
//    retransmission resends at once the later datagrams sent before it (the server dropped
//    them); failure (no_ack) when no datagram has been acknowledged for timeout_ms while
//    something is in flight (silence, or answers that never settle anything);
//  * the socket is connect()ed, so an ICMP port-unreachable comes back as ECONNREFUSED: before
//    any reply that means "no server here" (the next address is tried, then failure
//    unreachable); after a reply it means the server is restarting, and retries go on.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../common/fd.hpp"
#include "../common/net.hpp"

namespace client {

// One note's outcome.
struct NoteResult {
  uint64_t msg = 0;     // its message number
  uint64_t tag = 0;     // what the caller passed to add() (e.g. its input line number)
  uint64_t seq = 0;     // its seq; 0 when refused, or stored under a seq no longer known
  bool refused = false;
  std::string_view text;
  std::string_view reason;  // why it was refused
};

class UdpSender {
 public:
  // The largest UDP payload over IPv4 (65,535 - 20 IP - 8 UDP header bytes). A note longer
  // than kPackBytes goes alone in a datagram of its own (still marked: exactly once); the
  // server sizes its receive slots so that a note up to its --max-note fits (SPEC Client:
  // no line length limit below --max-note), and refuses a longer one by name.
  static constexpr size_t kMaxDatagram = 65507;
  static constexpr size_t kPackBytes = 8000;    // several notes share a datagram up to this
  static constexpr size_t kHeaderMax = 64;      // "\x01DN1 " + 16 hex + two u64 + spaces + \n
  static constexpr size_t kMaxNote = kMaxDatagram - kHeaderMax - 1;  // 65,442: the largest that fits
  static constexpr size_t kMaxWindow = 64;  // the server remembers 64 datagrams per client

  enum class Failure { none, unreachable, no_ack, refused_datagram, rate_limited };

  struct Settings {
    size_t window = 32;       // datagrams in flight
    int timeout_ms = 10000;   // server silence that means failure
    int rto_min_ms = 150;
    int rto_max_ms = 2000;
    bool verbose = false;     // address used, unreachable retries, on stderr
    // Never give up (the interactive session): silence, a port unreachable and refusals
    // that last are retried until acknowledged, however long; the caller shows them pending.
    bool keep_trying = false;
  };

  struct Counters {
    uint64_t datagrams = 0;     // formed
    uint64_t sends = 0;         // sent, retransmissions included
    uint64_t retransmits = 0;
    uint64_t replies = 0;
    uint64_t acked = 0;         // notes settled as stored
    uint64_t refused = 0;       // notes settled as refused
  };

  explicit UdpSender(Settings s);
  UdpSender(const UdpSender&) = delete;
  UdpSender& operator=(const UdpSender&) = delete;

  // Continues an earlier sender's numbering (the outbox): its client id, and the message
  // number of the next note added. Before the first add().
  void resume(uint64_t client_id, uint64_t next_msg) noexcept {
    client_id_ = client_id;
    next_msg_ = next_msg;
  }
  // Resolves host (getaddrinfo) and connects the socket to its first address.
  bool open(const std::string& host, uint16_t port, std::string& error);

  // Adds a note (checked by the caller with validate_note, at most kMaxNote bytes). Returns
  // false when it cannot take it now (the window is full): handle replies, then add again.
  bool add(std::string_view note, uint64_t tag);
  // Sends the datagram being formed. False when the window is full.
  bool flush();
  // Nothing forming, nothing in flight.
  bool idle() const noexcept { return form_count_ == 0 && in_window_ == 0 && overflow_.empty(); }
  // The notes added whose result has not been delivered yet, oldest first: message number
  // and text (for the outbox).
  std::vector<std::pair<uint64_t, std::string>> unsettled() const;

  int fd() const noexcept { return fd_.get(); }
  // Milliseconds until the next timer is due; -1 when nothing is in flight.
  int next_timer_ms() const noexcept;
  // Reads every reply waiting (never blocks) and delivers results.
  void on_readable();
  // Runs due timers: retransmissions, failure on silence.
  void on_timers();
  // poll() on the socket for at most timeout_ms (bounded by the next timer), then both of
  // the above. Returns early when interrupted by a signal.
  void wait(int timeout_ms);

  Failure failure() const noexcept { return failure_; }
  const std::string& failure_message() const noexcept { return failure_message_; }
  const Counters& counters() const noexcept { return counters_; }
  // The server address in use, "IP:PORT".
  const std::string& peer() const noexcept { return peer_text_; }
  // This socket's own address (after open).
  SockAddr local() const;
  uint64_t client_id() const noexcept { return client_id_; }
  // The message number the next note added will get.
  uint64_t next_msg() const noexcept { return next_msg_; }

  std::function<void(const NoteResult&)> on_result;

 private:
  enum class State : uint8_t { free, flight, done };
  struct Slot {
    std::string bytes;  // the datagram exactly as sent
    size_t body = 0;    // offset of its first note in bytes
    uint64_t first = 0;
    uint32_t count = 0;
    State state = State::free;
    bool err_wait = false;  // backing off after "ERR <first> <reason>"
    int sends = 0, timeouts = 0, err_tries = 0;
    int64_t sent_ms = 0, due_ms = 0, err_since_ms = -1, first_sent_ms = 0;
    uint64_t ack_first = 0, ack_seq = 0, ack_mask = 0;
    std::string ack_reason;
    uint64_t tags[64] = {};
  };

  struct Queued {  // a note taken out of datagrams the server refused for rate, to repack
    uint64_t msg, tag;
    std::string text;
  };
  bool connect_to(size_t i, std::string& error);
  void form_slot(uint64_t first, int64_t now, int64_t hold_until);
  void repack(size_t from_k, int64_t now, int64_t hold_until);
  void refill(int64_t now, int64_t hold_until);
  size_t window_now() const noexcept;
  Slot& slot_at(size_t k) noexcept { return slots_[(head_ + k) % slots_.size()]; }
  Slot* find_slot(uint64_t msg) noexcept;  // the flight/done slot holding message msg
  void send_slot(Slot& s, int64_t now);
  void go_back(size_t from_k, int64_t now);
  int rto_ms(const Slot& s, int64_t now) const noexcept;
  void on_progress(const Slot& acked, int64_t now);
  void on_reply(std::string_view text, int64_t now);
  void on_refused_port(int64_t now);
  void deliver_front();
  void fail(Failure f, std::string message);

  Settings settings_;
  Fd fd_;
  std::vector<SockAddr> addrs_;
  size_t addr_index_ = 0;
  std::string peer_text_;
  uint64_t client_id_ = 0;
  uint64_t next_msg_ = 1;  // message number of the next note added

  std::string form_body_;  // notes of the datagram being formed, each ending in '\n'
  uint32_t form_count_ = 0;
  uint64_t form_tags_[64] = {};

  std::deque<Queued> overflow_;  // repacked notes waiting for room in the window
  uint32_t max_batch_ = 64;      // notes per datagram; halved by each rate refusal
  int64_t rate_since_ms_ = -1;   // first rate refusal since the last progress
  std::vector<Slot> slots_;  // ring of settings_.window slots
  size_t head_ = 0;          // the oldest datagram in the window
  size_t in_window_ = 0;     // datagrams in the window (in flight or done but not delivered)

  bool heard_ = false;  // the server has answered at least once
  int64_t last_reply_ms_ = 0;     // any answer: the server is there
  int64_t last_progress_ms_ = 0;  // an answer that settled a datagram
  uint64_t stale_wait_ = 0;       // a WAIT for a settled message, since the last progress
  double srtt_ms_ = -1, rttvar_ms_ = 0;
  uint64_t goback_msg_ = 0;
  int64_t goback_ms_ = -1;
  Failure failure_ = Failure::none;
  std::string failure_message_;
  Counters counters_;
};

}  // namespace client
