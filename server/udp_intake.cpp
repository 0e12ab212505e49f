// udp_intake.cpp — see udp_intake.hpp. The marked-datagram rules (exactly once, in order)
// are ExactlyOnce's (exactly_once.hpp); this file applies its decisions and sends the replies.
#include "udp_intake.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "log.hpp"

UdpIntake::UdpIntake(const Config& cfg, Stats& stats, ExactlyOnce& once, RateLimiter& rate)
    : cfg_(cfg), stats_(stats), once_(once), rate_(rate) {
  const char* g = std::getenv("DAILYNETD_GSO");
  std::string_view mode = g ? g : "";
  gso_ = mode == "off" ? Gso::off : mode == "refuse" ? Gso::refuse : Gso::on;
}

bool UdpIntake::open(const SockAddr& bind_to, std::string& error) {
  std::string where = bind_to.to_string();
  fd_.reset(::socket(bind_to.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) {
    error = "cannot create a UDP socket for " + where + ": " + std::strerror(errno);
    return false;
  }
  if (bind_to.family() == AF_INET6) {
    int off = 0;  // "::" serves IPv4 too (dual stack)
    ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  // As large a receive buffer as the system allows, so bursts wait in the kernel, not drop.
  for (int want = 64 << 20; want >= (1 << 20); want >>= 1)
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) == 0) break;
  int want = 64 << 20;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  socklen_t sl = sizeof rcvbuf_;
  ::getsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf_, &sl);
  if (::bind(fd_.get(), bind_to.sa(), bind_to.len) != 0) {
    error = "cannot bind UDP " + where + ": " + std::strerror(errno);
    return false;
  }
  local_.len = sizeof local_.ss;
  ::getsockname(fd_.get(), local_.sa(), &local_.len);
  local_.normalize();
  // A plain note or one marked note of --max-note bytes fits (the client sends a long note
  // alone); +1 reveals a longer datagram.
  slot_size_ = std::max(kMarkedMax, cfg_.max_note + kMarkedHeaderMax + 2) + 1;
  // Not zeroed: memory a datagram never reached stays untouched (not resident), so a slot
  // costs its first page, not its 8 KiB.
  bufs_size_ = kTurnBudget * slot_size_;
  bufs_.reset(new char[bufs_size_]);
  peers_.resize(kMaxDatagrams);
  data_at_.resize(kMaxDatagrams);
  addr_text_.resize(kMaxDatagrams * 64);
  addr_len_.resize(kMaxDatagrams);
  notes_.reserve(kTurnBudget);
  waiting_.reserve(kTurnBudget);
  sealed_.reserve(kTurnBudget);
  return true;
}

bool UdpIntake::read_turn(int64_t now_ms) {
  constexpr size_t kBatch = 64;
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  size_t read = 0;
  while (read < kTurnBudget && has_room()) {
    // Each datagram of the batch gets a window of slot_size_ bytes after those kept; once
    // read, it moves down to the end of the kept bytes (never over a later one), so small
    // datagrams take little room and many can wait for a commit in flight.
    const size_t windows = (bufs_size_ - buf_end_) / slot_size_;
    const size_t n = std::min({kBatch, kTurnBudget - read, kMaxDatagrams - used_, windows});
    char* const base = bufs_.get() + buf_end_;
    for (size_t i = 0; i < n; ++i) {
      size_t slot = used_ + i;
      iov[i] = {base + i * slot_size_, slot_size_};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &peers_[slot].ss;
      msgs[i].msg_hdr.msg_namelen = sizeof peers_[slot].ss;
    }
    int got = ::recvmmsg(fd_.get(), msgs, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;  // EAGAIN: empty; others (e.g. ECONNREFUSED echoes) are not ours to fix
    }
    for (int i = 0; i < got; ++i) {
      uint32_t slot = static_cast<uint32_t>(used_ + static_cast<size_t>(i));
      peers_[slot].len = msgs[i].msg_hdr.msg_namelen;
      bool truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
                       msgs[i].msg_len >= slot_size_;
      const size_t len = std::min<size_t>(msgs[i].msg_len, slot_size_);
      char* const at = bufs_.get() + buf_end_;
      if (at != base + static_cast<size_t>(i) * slot_size_)
        std::memmove(at, base + static_cast<size_t>(i) * slot_size_, len);
      data_at_[slot] = static_cast<uint32_t>(buf_end_);
      buf_end_ += len;
      on_datagram(slot, len, truncated, now_ms);
    }
    used_ += static_cast<size_t>(got);
    read += static_cast<size_t>(got);
    if (static_cast<size_t>(got) < n) return false;
  }
  return true;
}

void UdpIntake::count_refusal(NoteError e) noexcept { stats_.refuse(refusal_of(e)); }

// One log line per source host per minute, so that the operator (and a client on this very
// host, which only sees its notes time out) learns why; bounded: the table is forgotten when
// it grows past kAllowLogHosts.
void UdpIntake::log_not_allowed(const SockAddr& peer, int64_t now_ms) {
  std::string ip = peer.ip_string();
  auto it = allow_logged_.find(ip);
  if (it != allow_logged_.end() && now_ms - it->second < 60000) return;
  if (allow_logged_.size() >= kAllowLogHosts) allow_logged_.clear();
  allow_logged_[ip] = now_ms;
  log_line("dropped UDP from " + peer.to_string() +
           ": not in --allow (no reply is sent; logged once a minute per host)");
}

void UdpIntake::on_datagram(uint32_t slot, size_t len, bool truncated, int64_t now_ms) {
  SockAddr& peer = peers_[slot];
  peer.normalize();
  if (!cfg_.allowed(peer)) {
    ++stats_.udp_dropped_allow;  // no reply: the server must not answer strangers
    log_not_allowed(peer, now_ms);
    return;
  }
  if (peer.port() == 0) {
    ++stats_.udp_dropped_port_zero;  // no reply can reach it: never stored (SPEC Server)
    return;
  }
  ++stats_.udp_datagrams;
  addr_len_[slot] = static_cast<uint8_t>(peer.format(&addr_text_[slot * 64]));
  std::string_view data(bufs_.get() + data_at_[slot], len);
  if (truncated) {
    // A marked datagram with one note too long for the slot: its header is whole, and the
    // part of the note read is already longer than --max-note, so on_marked refuses that
    // note by name ("note too long (max N bytes)") and settles its message number. Several
    // notes cut anywhere: refused whole, nothing stored.
    auto m = is_marked(data) ? parse_marked(data) : std::nullopt;
    if (m && m->notes.size() == 1 && m->notes[0].size() > cfg_.max_note) {
      ++stats_.udp_marked_datagrams;
      on_marked(slot, data, now_ms);
      return;
    }
    stats_.refuse(Refusal::truncated);
    reply(slot, "ERR datagram too large\n");
    return;
  }
  if (is_marked(data)) {
    ++stats_.udp_marked_datagrams;
    on_marked(slot, data, now_ms);
    return;
  }
  std::string_view note = strip_one_newline(data);
  NoteCheck c = validate_note(note, cfg_.max_note);
  if (!c.ok()) {
    count_refusal(c.error);
    reply(slot, "ERR " + note_error_reason(c, cfg_.max_note) + "\n");
    return;
  }
  if (rate_.enabled() && !rate_.take(peer, 1, now_ms)) {
    stats_.refuse(Refusal::rate_limited);
    reply(slot, "ERR rate limited\n");
    return;
  }
  waiting_.push_back({Waiting::Kind::plain, slot, static_cast<uint32_t>(notes_.size()), 1, 0, {}});
  notes_.push_back({now_ms, std::string_view(&addr_text_[slot * 64], addr_len_[slot]), note, 0, 0});
}

void UdpIntake::on_marked(uint32_t slot, std::string_view data, int64_t now_ms) {
  auto m = parse_marked(data);
  if (!m) {
    stats_.refuse(Refusal::malformed);
    reply(slot, "ERR malformed marked datagram\n");
    return;
  }
  const uint64_t k = m->notes.size();
  ExactlyOnce::Admission a = once_.admit(m->client_id, m->floor, m->first, k);
  if (a.kind == ExactlyOnce::Admission::Kind::wait) {
    ++stats_.udp_out_of_order;
    reply(slot, format_marked_reply({MarkedReply::Kind::wait, a.from, 0, 0, 0, {}}));
    return;
  }
  if (a.kind == ExactlyOnce::Admission::Kind::duplicate) {
    stats_.udp_duplicates += k;
    waiting_.push_back({Waiting::Kind::duplicate, slot, 0, 0, m->client_id, {m->first, k}});
    return;
  }
  const uint64_t start = a.from;  // messages below it in this datagram are retries
  const uint64_t count = m->first + k - start;
  if (rate_.enabled() && !rate_.take(peers_[slot], static_cast<double>(count), now_ms)) {
    stats_.refuse(Refusal::rate_limited);
    reply(slot, format_marked_reply(
                    {MarkedReply::Kind::err, start, 0, 0, 0, std::string(kReasonRateLimited)}));
    return;
  }
  Waiting w{Waiting::Kind::marked, slot, static_cast<uint32_t>(notes_.size()), 0,
            m->client_id, {start, count}};
  std::string_view addr(&addr_text_[slot * 64], addr_len_[slot]);
  for (uint64_t i = start - m->first; i < k; ++i) {
    std::string_view note = m->notes[i];
    NoteCheck chk = validate_note(note, cfg_.max_note);
    if (!chk.ok()) {
      count_refusal(chk.error);
      w.outcome.refused_mask |= uint64_t{1} << (m->first + i - start);
      if (w.outcome.refusal.ok()) w.outcome.refusal = chk;
      continue;
    }
    notes_.push_back({now_ms, addr, note, m->client_id, m->first + i});
    ++w.stored;
  }
  once_.take(m->client_id, m->first + k);
  waiting_.push_back(w);
}

void UdpIntake::reply_to(const SockAddr& to, std::string_view text) {
  if (replies_.size() - reply_head_ >= kMaxQueuedReplies) {
    ++stats_.udp_replies_dropped;
    return;
  }
  Reply r;
  r.to = to;
  r.len = static_cast<uint8_t>(std::min(text.size(), kMaxUdpReply));
  std::memcpy(r.text, text.data(), r.len);
  if (r.len == kMaxUdpReply) r.text[kMaxUdpReply - 1] = '\n';
  replies_.push_back(r);
}

void UdpIntake::reply_marked(const SockAddr& to, const ExactlyOnce::Outcome& o) {
  std::string reason;
  if (o.refused_mask)
    reason = o.refusal.ok() ? "refused" : note_error_reason(o.refusal, cfg_.max_note);
  reply_to(to, format_marked_reply(
                  {MarkedReply::Kind::ok, o.first, o.count, o.seq, o.refused_mask, reason}));
}

void UdpIntake::seal() {
  assert(sealed_.empty());
  for (const Waiting& w : waiting_) sealed_.push_back({w, peers_[w.slot]});
  waiting_.clear();
  notes_.clear();
  used_ = 0;
  buf_end_ = 0;
}

void UdpIntake::end_commit(bool committed, uint64_t first_seq) {
  for (Sealed& s : sealed_) {
    Waiting& w = s.w;
    if (!committed) {
      stats_.refuse(Refusal::store_unavailable);
      if (w.kind == Waiting::Kind::plain)
        reply_to(s.to, "ERR store unavailable\n");
      else
        reply_to(s.to, format_marked_reply({MarkedReply::Kind::err, w.outcome.first, 0, 0, 0,
                                            std::string(kReasonStoreUnavailable)}));
      continue;
    }
    switch (w.kind) {
      case Waiting::Kind::plain: {
        char buf[32] = {'O', 'K', ' '};  // "OK <seq>\n" (to_chars: no locale, no printf)
        char* end = std::to_chars(buf + 3, buf + sizeof buf - 1, first_seq + w.first_note).ptr;
        *end++ = '\n';
        reply_to(s.to, std::string_view(buf, static_cast<size_t>(end - buf)));
        ++stats_.udp_notes_accepted;
        break;
      }
      case Waiting::Kind::marked:
        w.outcome.seq = w.stored ? first_seq + w.first_note : 0;
        once_.settle(w.client_id, w.outcome);
        stats_.udp_notes_accepted += w.stored;
        reply_marked(s.to, w.outcome);
        break;
      case Waiting::Kind::duplicate:
        reply_marked(s.to, once_.recall(w.client_id, w.outcome.first, w.outcome.count));
        break;
    }
  }
  once_.end_turn(committed);
  sealed_.clear();
  if (gso_ != Gso::off) grouper_.group(replies_, std::max(grouped_, reply_head_));
  grouped_ = replies_.size();
  flush_replies();
}

int UdpIntake::send_batch(mmsghdr* msgs, unsigned n) {
  if (gso_ == Gso::refuse) {  // the test switch: the kernel "refuses" the first GSO message
    unsigned plain = 0;
    while (plain < n && msgs[plain].msg_hdr.msg_controllen == 0) ++plain;
    if (plain == 0) {
      errno = EINVAL;
      return -1;
    }
    n = plain;
  }
  return ::sendmmsg(fd_.get(), msgs, n, MSG_DONTWAIT);
}

void UdpIntake::gso_refused(int err) {
  gso_ = Gso::off;
  stats_.udp_gso_fallback = 1;
  log_line(std::string("UDP replies: the kernel refused UDP_SEGMENT (") + std::strerror(err) +
           "); sending each reply on its own from now on");
}

// The messages of one sendmmsg: single replies, and GSO messages of several (carries > 1).
struct UdpIntake::Batch {
  static constexpr size_t kMsgs = 256, kIov = 1024, kCmsg = CMSG_SPACE(sizeof(uint16_t));
  mmsghdr msgs[kMsgs];
  iovec iov[kIov];
  alignas(cmsghdr) char control[kMsgs][kCmsg];
  uint8_t carries[kMsgs];  // replies in each message
  size_t n = 0;
};

void UdpIntake::fill_batch(Batch& b) {
  b.n = 0;
  size_t used = 0;
  for (size_t at = reply_head_; b.n < Batch::kMsgs && at < replies_.size(); ++b.n) {
    Reply& r = replies_[at];
    size_t segs = gso_ != Gso::off && r.segs > 1 ? r.segs : 1;
    if (used + segs > Batch::kIov) break;
    msghdr& h = b.msgs[b.n].msg_hdr;
    h = {};
    h.msg_name = &r.to.ss;
    h.msg_namelen = r.to.len;
    h.msg_iov = &b.iov[used];
    h.msg_iovlen = segs;
    for (size_t k = 0; k < segs; ++k) b.iov[used + k] = {replies_[at + k].text, r.len};
    if (segs > 1) {  // one GSO message: the kernel cuts it into segs datagrams of r.len
      h.msg_control = b.control[b.n];
      h.msg_controllen = Batch::kCmsg;
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t size = r.len;
      std::memcpy(CMSG_DATA(c), &size, sizeof size);
    }
    b.carries[b.n] = static_cast<uint8_t>(segs);
    used += segs;
    at += segs;
  }
}

void UdpIntake::flush_replies() {
  Batch b;
  while (reply_head_ < replies_.size()) {
    fill_batch(b);
    int sent = send_batch(b.msgs, static_cast<unsigned>(b.n));
    if (sent < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) break;
      if (b.carries[0] > 1 && (err == EIO || err == EINVAL || err == ENOPROTOOPT)) {
        gso_refused(err);  // the same replies go again, one by one
        continue;
      }
      // The first message could not go (e.g. unreachable peer): drop it and go on.
      stats_.udp_replies_dropped += b.carries[0];
      reply_head_ += b.carries[0];
      continue;
    }
    for (int i = 0; i < sent; ++i) {
      reply_head_ += b.carries[i];
      if (b.carries[i] > 1) stats_.udp_replies_gso += b.carries[i];
    }
  }
  if (reply_head_ == replies_.size()) {
    replies_.clear();
    reply_head_ = 0;
    grouped_ = 0;
  }
}
