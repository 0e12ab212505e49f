// udp_sender.cpp — see udp_sender.hpp for the rules.
#include "udp_sender.hpp"

#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../common/clock.hpp"
#include "../common/protocol.hpp"

namespace client {

namespace {

uint64_t random_id() {
  uint64_t id = 0;
  if (::getrandom(&id, sizeof id, 0) == static_cast<ssize_t>(sizeof id)) return id;
  // No getrandom (old kernel, seccomp): time and pid, mixed (splitmix64).
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t z = static_cast<uint64_t>(ts.tv_nsec) ^ (static_cast<uint64_t>(ts.tv_sec) << 20) ^
               (static_cast<uint64_t>(::getpid()) << 44);
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

UdpSender::UdpSender(Settings s) : settings_(s) {
  settings_.window = std::clamp<size_t>(settings_.window, 1, kMaxWindow);
  slots_.resize(settings_.window);
  client_id_ = random_id();
  form_body_.reserve(kPackBytes);
}

bool UdpSender::open(const std::string& host, uint16_t port, std::string& error) {
  if (!resolve(host, port, SOCK_DGRAM, addrs_, error)) return false;
  for (size_t i = 0; i < addrs_.size(); ++i)
    if (connect_to(i, error)) return true;
  return false;
}

bool UdpSender::connect_to(size_t i, std::string& error) {
  addr_index_ = i;
  const SockAddr& a = addrs_[i];
  peer_text_ = a.to_string();
  fd_.reset(::socket(a.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) {
    error = "cannot create a UDP socket for " + peer_text_ + ": " + std::strerror(errno);
    return false;
  }
  int buf = 1 << 20;  // room for a window of replies, and of datagrams on their way out
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (::connect(fd_.get(), a.sa(), a.len) != 0) {
    error = "cannot reach " + peer_text_ + " (UDP): " + std::strerror(errno);
    fd_.reset();
    return false;
  }
  if (settings_.verbose)
    std::fprintf(stderr, "dailynet: sending notes to %s (UDP) as client %016llx\n",
                 peer_text_.c_str(), static_cast<unsigned long long>(client_id_));
  return true;
}

SockAddr UdpSender::local() const {
  SockAddr a;
  a.len = sizeof a.ss;
  if (::getsockname(fd_.get(), a.sa(), &a.len) != 0) a.len = 0;
  a.normalize();
  return a;
}

size_t UdpSender::window_now() const noexcept { return heard_ ? slots_.size() : 1; }

bool UdpSender::add(std::string_view note, uint64_t tag) {
  if (failure_ != Failure::none) return false;
  if (!overflow_.empty()) {
    refill(mono_ms(), 0);
    if (!overflow_.empty()) return false;  // repacked notes go first, in order
  }
  if (form_count_ >= max_batch_ ||
      (form_count_ > 0 && kHeaderMax + form_body_.size() + note.size() + 1 > kPackBytes)) {
    if (!flush()) return false;
  }
  form_body_.append(note);  // every note ends in '\n', as append_marked writes them
  form_body_ += '\n';
  form_tags_[form_count_++] = tag;
  ++next_msg_;
  if (form_count_ >= max_batch_) flush();  // full: out it goes, if the window allows
  return true;
}

bool UdpSender::flush() {
  if (!overflow_.empty()) refill(mono_ms(), 0);
  if (form_count_ == 0) return true;
  if (in_window_ >= window_now() || failure_ != Failure::none) return false;
  form_slot(next_msg_ - form_count_, mono_ms(), 0);
  return true;
}

// The datagram being formed (form_body_, form_count_ notes from message `first`) into the
// next window slot; sent now, or (hold_until later than now) when that time comes.
void UdpSender::form_slot(uint64_t first, int64_t now, int64_t hold_until) {
  Slot& s = slot_at(in_window_);
  ++in_window_;
  s.first = first;
  s.count = form_count_;
  // floor: the lowest message not settled here (the oldest datagram in the window).
  uint64_t floor = in_window_ > 1 ? slot_at(0).first : s.first;
  s.bytes.clear();
  append_marked_header(s.bytes, client_id_, floor, s.first);
  s.body = s.bytes.size();
  s.bytes += form_body_;
  std::copy(form_tags_, form_tags_ + form_count_, s.tags);
  s.state = State::flight;
  s.err_wait = false;
  s.sends = s.timeouts = s.err_tries = 0;
  s.err_since_ms = -1;
  s.ack_first = s.ack_seq = s.ack_mask = 0;
  s.ack_reason.clear();
  form_body_.clear();
  form_count_ = 0;
  ++counters_.datagrams;
  s.first_sent_ms = now;
  if (hold_until > now) {
    s.sent_ms = now;
    s.err_wait = true;  // on_timers sends it (and those after it) when due
    s.due_ms = hold_until;
    return;
  }
  send_slot(s, now);
}

void UdpSender::repack(size_t from_k, int64_t now, int64_t hold_until) {
  std::deque<Queued> q;
  auto take = [&q](std::string_view body, uint64_t first, const uint64_t* tags, uint32_t count) {
    size_t pos = 0;
    for (uint32_t i = 0; i < count; ++i) {
      size_t e = body.find('\n', pos);
      q.push_back({first + i, tags[i], std::string(body.substr(pos, e - pos))});
      pos = e + 1;
    }
  };
  for (size_t k = from_k; k < in_window_; ++k) {
    Slot& t = slot_at(k);
    take(std::string_view(t.bytes).substr(t.body), t.first, t.tags, t.count);
    t.state = State::free;
  }
  in_window_ = from_k;
  for (auto& o : overflow_) q.push_back(std::move(o));
  take(form_body_, next_msg_ - form_count_, form_tags_, form_count_);
  form_body_.clear();
  form_count_ = 0;
  overflow_ = std::move(q);
  refill(now, hold_until);
}

void UdpSender::refill(int64_t now, int64_t hold_until) {
  while (!overflow_.empty() && in_window_ < window_now() && failure_ == Failure::none) {
    uint64_t first = overflow_.front().msg;
    while (!overflow_.empty() && form_count_ < max_batch_ &&
           (form_count_ == 0 ||
            kHeaderMax + form_body_.size() + overflow_.front().text.size() + 1 <= kPackBytes)) {
      form_body_ += overflow_.front().text;
      form_body_ += '\n';
      form_tags_[form_count_++] = overflow_.front().tag;
      overflow_.pop_front();
    }
    form_slot(first, now, hold_until);
  }
}

std::vector<std::pair<uint64_t, std::string>> UdpSender::unsettled() const {
  std::vector<std::pair<uint64_t, std::string>> v;
  auto take = [&v](std::string_view body, uint64_t first, uint32_t count) {
    size_t pos = 0;
    for (uint32_t i = 0; i < count; ++i) {
      size_t e = body.find('\n', pos);
      v.emplace_back(first + i, std::string(body.substr(pos, e - pos)));
      pos = e + 1;
    }
  };
  for (size_t k = 0; k < in_window_; ++k) {
    const Slot& t = slots_[(head_ + k) % slots_.size()];
    take(std::string_view(t.bytes).substr(t.body), t.first, t.count);
  }
  for (const auto& o : overflow_) v.emplace_back(o.msg, o.text);
  take(form_body_, next_msg_ - form_count_, form_count_);
  return v;
}

int UdpSender::rto_ms(const Slot& s, int64_t now) const noexcept {
  double base = settings_.rto_min_ms;
  if (srtt_ms_ >= 0) base = std::max(base, srtt_ms_ + 4 * rttvar_ms_);
  // Back off fully only when the server has gone quiet. While it answers (within the last
  // second) the losses are the path's, not a sign of overload: at most 4 x base then.
  int level = std::min(s.timeouts, heard_ && now - last_reply_ms_ < 1000 ? 2 : 10);
  double r = base * static_cast<double>(1u << level);
  return static_cast<int>(std::min<double>(r, settings_.rto_max_ms));
}

void UdpSender::send_slot(Slot& s, int64_t now) {
  if (s.sends > 0) ++counters_.retransmits;
  ++s.sends;
  ++counters_.sends;
  s.sent_ms = now;
  s.due_ms = now + rto_ms(s, now);
  s.err_wait = false;
  while (true) {
    ssize_t n = ::send(fd_.get(), s.bytes.data(), s.bytes.size(), 0);
    if (n >= 0) return;
    if (errno == EINTR) continue;
    if (errno == ECONNREFUSED) {
      on_refused_port(now);
      return;
    }
    // ENOBUFS, EAGAIN, a route gone: as if lost on the way; the timer resends it.
    return;
  }
}

void UdpSender::go_back(size_t from_k, int64_t now) {
  for (size_t k = from_k; k < in_window_; ++k) {
    Slot& t = slot_at(k);
    if (t.state == State::flight) send_slot(t, now);
    if (failure_ != Failure::none) return;
  }
}

UdpSender::Slot* UdpSender::find_slot(uint64_t msg) noexcept {
  for (size_t k = 0; k < in_window_; ++k) {
    Slot& s = slot_at(k);
    if (msg >= s.first && msg < s.first + s.count) return &s;
  }
  return nullptr;
}

int UdpSender::next_timer_ms() const noexcept {
  if (in_window_ == 0 || failure_ != Failure::none) return -1;
  int64_t now = mono_ms();
  int64_t soonest = INT64_MAX, oldest = INT64_MAX;
  for (size_t k = 0; k < in_window_; ++k) {
    const Slot& s = slots_[(head_ + k) % slots_.size()];
    if (s.state != State::flight) continue;
    soonest = std::min(soonest, s.due_ms);
    oldest = std::min(oldest, s.first_sent_ms);
  }
  if (soonest == INT64_MAX) return -1;
  // The no-progress bound is a timer too, so a failure is reported on time.
  soonest = std::min(soonest, std::max(oldest, last_progress_ms_) + settings_.timeout_ms);
  return static_cast<int>(std::clamp<int64_t>(soonest - now, 0, 60000));
}

void UdpSender::on_timers() {
  if (failure_ != Failure::none || in_window_ == 0) return;
  int64_t now = mono_ms();
  // No progress: no datagram acknowledged for timeout_ms while one waits for its answer.
  int64_t oldest = INT64_MAX;
  for (size_t k = 0; k < in_window_; ++k) {
    const Slot& s = slot_at(k);
    if (s.state == State::flight) oldest = std::min(oldest, s.first_sent_ms);
  }
  if (oldest != INT64_MAX && !settings_.keep_trying &&
      now - std::max(oldest, last_progress_ms_) >= settings_.timeout_ms) {
    if (rate_since_ms_ >= 0 && now - last_reply_ms_ < settings_.timeout_ms) {
      fail(Failure::rate_limited, "rate limited by " + peer_text_ + " (UDP): no note taken for " +
                                      std::to_string(settings_.timeout_ms / 1000) + " s");
      return;
    }
    std::string why;
    if (stale_wait_)
      why = " (it keeps asking for message " + std::to_string(stale_wait_) +
            ", which it had acknowledged: it lost notes)";
    fail(Failure::no_ack, "no acknowledgement from " + peer_text_ + " (UDP) for " +
                              std::to_string(settings_.timeout_ms / 1000) + " s" + why);
    return;
  }
  for (size_t k = 0; k < in_window_; ++k) {
    Slot& s = slot_at(k);
    if (s.state != State::flight || s.due_ms > now) continue;
    if (s.err_wait) {
      // The server took nothing from here on: send this datagram and everything after it.
      go_back(k, now);
      return;
    }
    ++s.timeouts;
    if (s.sends >= 200 && !settings_.keep_trying) {  // a bound on livelock (e.g. a server that keeps asking for more)
      fail(Failure::no_ack, "no acknowledgement from " + peer_text_ + " (UDP) after " +
                                std::to_string(s.sends) + " tries of message " +
                                std::to_string(s.first));
      return;
    }
    send_slot(s, now);
    if (failure_ != Failure::none) return;
  }
}

void UdpSender::on_readable() {
  char buf[256];
  while (failure_ == Failure::none) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNREFUSED) {
        on_refused_port(mono_ms());
        continue;
      }
      break;  // EAGAIN: all read
    }
    on_reply(std::string_view(buf, static_cast<size_t>(n)), mono_ms());
  }
  deliver_front();
}

void UdpSender::on_refused_port(int64_t now) {
  if (heard_ || settings_.keep_trying) {
    // The server answered before (or we never give up): it is restarting (or was killed). Keep retrying until the
    // silence bound; the restarted server answers retries from its store.
    if (settings_.verbose)
      std::fprintf(stderr, "dailynet: %s (UDP) is not answering (port unreachable); retrying\n",
                   peer_text_.c_str());
    return;
  }
  std::string failed = peer_text_;
  std::string error;
  while (addr_index_ + 1 < addrs_.size()) {
    if (settings_.verbose)
      std::fprintf(stderr, "dailynet: %s (UDP): port unreachable, trying the next address\n",
                   peer_text_.c_str());
    if (connect_to(addr_index_ + 1, error)) {
      go_back(0, now);
      return;
    }
  }
  fail(Failure::unreachable, "no server at " + failed + " (UDP port unreachable)");
}

void UdpSender::on_reply(std::string_view text, int64_t now) {
  auto r = parse_marked_reply(text);
  if (!r) return;  // not for us (e.g. a stray "OK 7" to a plain datagram)
  ++counters_.replies;
  heard_ = true;
  last_reply_ms_ = now;
  switch (r->kind) {
    case MarkedReply::Kind::ok: {
      Slot* s = find_slot(r->first);
      if (!s || s->state != State::flight || r->first + r->count != s->first + s->count)
        return;  // a duplicate answer, or not ours
      s->state = State::done;
      last_progress_ms_ = now;
      rate_since_ms_ = -1;
      stale_wait_ = 0;
      on_progress(*s, now);
      s->ack_first = r->first;
      s->ack_seq = r->seq;
      s->ack_mask = r->refused_mask;
      s->ack_reason = r->reason;
      if (s->sends == 1) {  // Karn: only unambiguous samples
        double sample = static_cast<double>(now - s->sent_ms);
        if (srtt_ms_ < 0) {
          srtt_ms_ = sample;
          rttvar_ms_ = sample / 2;
        } else {
          rttvar_ms_ = 0.75 * rttvar_ms_ + 0.25 * std::abs(srtt_ms_ - sample);
          srtt_ms_ = 0.875 * srtt_ms_ + 0.125 * sample;
        }
      }
      return;
    }
    case MarkedReply::Kind::wait: {
      // The server expects message `first` next: everything from its datagram on was dropped
      // (or never arrived). Go back once per gap; the burst of WAITs the same gap causes
      // within a round trip is ignored.
      uint64_t n = r->first;
      if (in_window_ > 0 && n < slot_at(0).first) {
        // A late or duplicated WAIT from before our last acknowledgement; or, if they keep
        // coming without progress, a server that lost notes it had acknowledged (a store
        // restored from an old copy). Retries cannot fix that (a datagram keeps the floor it
        // was formed with): the no-progress bound ends it, naming the cause.
        if (stale_wait_ == 0) stale_wait_ = n;
        return;
      }
      size_t k = 0;
      while (k < in_window_ && !(n >= slot_at(k).first && n < slot_at(k).first + slot_at(k).count))
        ++k;
      if (k == in_window_ || slot_at(k).state != State::flight || slot_at(k).err_wait) return;
      int64_t holdoff = srtt_ms_ < 0 ? 10 : std::clamp<int64_t>(
                                               static_cast<int64_t>(2 * srtt_ms_) + 1, 2,
                                               settings_.rto_min_ms);
      if (n == goback_msg_ && now - goback_ms_ < holdoff) return;
      goback_msg_ = n;
      goback_ms_ = now;
      go_back(k, now);
      return;
    }
    case MarkedReply::Kind::err: {
      if (r->first == 0) {
        // A plain "ERR <reason>": the server could not read our datagram at all.
        fail(Failure::refused_datagram,
             "server at " + peer_text_ + " refused a datagram: " + r->reason);
        return;
      }
      Slot* s = find_slot(r->first);
      if (!s || s->state != State::flight) return;
      const bool rate = r->reason == kReasonRateLimited;
      if (s->err_since_ms < 0) s->err_since_ms = now;
      if (rate && rate_since_ms_ < 0) rate_since_ms_ = now;
      if (!settings_.keep_trying && rate && now - rate_since_ms_ >= settings_.timeout_ms) {
        fail(Failure::rate_limited, "rate limited by " + peer_text_ + " (UDP) for " +
                                        std::to_string(settings_.timeout_ms / 1000) + " s");
        return;
      }
      if (!settings_.keep_trying && !rate && now - s->err_since_ms >= settings_.timeout_ms) {
        fail(Failure::no_ack, "server at " + peer_text_ + " keeps answering '" + r->reason +
                                  "' for " + std::to_string(settings_.timeout_ms / 1000) +
                                  " s");
        return;
      }
      // Nothing taken (rate limited, store unavailable): back off, then go back from here.
      int64_t backoff = std::min(50 << std::min(s->err_tries, 5), 2000);
      int tries = s->err_tries + 1;
      if (rate && s->count > 1) {
        // The bucket may never hold this many tokens: smaller datagrams from here on.
        max_batch_ = std::max<uint32_t>(1, std::min(max_batch_, s->count / 2));
        size_t k = 0;
        while (&slot_at(k) != s) ++k;
        repack(k, now, now + backoff);
        if (k < in_window_) slot_at(k).err_tries = tries;
        return;
      }
      s->err_wait = true;
      s->due_ms = now + backoff;
      s->err_tries = tries;
      return;
    }
  }
}

void UdpSender::on_progress(const Slot& acked, int64_t now) {
  for (size_t k = 0; k < in_window_; ++k) {
    Slot& t = slot_at(k);
    if (t.state != State::flight || t.err_wait || &t == &acked) continue;
    if (acked.sends > 1 && t.first > acked.first && t.sent_ms <= acked.sent_ms) {
      // `acked` needed a retransmission, so it was missing when t last arrived: the server
      // dropped t (WAIT), and that WAIT may be lost too. Send t again now, unchanged.
      t.timeouts = 0;
      send_slot(t, now);
      if (failure_ != Failure::none) return;
      continue;
    }
    // The path works again: forget the backoff of the others.
    if (t.timeouts > 0) {
      t.timeouts = 0;
      t.due_ms = std::min(t.due_ms, t.sent_ms + rto_ms(t, now));
    }
  }
}

void UdpSender::deliver_front() {
  while (in_window_ > 0 && slot_at(0).state == State::done) {
    Slot& s = slot_at(0);
    std::string_view body(s.bytes.data() + s.body, s.bytes.size() - s.body);
    size_t pos = 0;
    for (uint32_t i = 0; i < s.count; ++i) {
      size_t e = body.find('\n', pos);
      NoteResult r;
      r.msg = s.first + i;
      r.tag = s.tags[i];
      r.text = body.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos);
      pos = e == std::string_view::npos ? body.size() : e + 1;
      if (r.msg >= s.ack_first) {
        uint64_t j = r.msg - s.ack_first;
        if (j < 64 && (s.ack_mask >> j & 1)) {
          r.refused = true;
          r.reason = s.ack_reason.empty() ? std::string_view("refused") : s.ack_reason;
        } else if (s.ack_seq != 0) {
          r.seq = seq_in_run(s.ack_seq, s.ack_mask, static_cast<unsigned>(j));
        }
      }
      // else: settled by the server before this datagram's retry came; its seq is unknown.
      if (r.refused) ++counters_.refused;
      else ++counters_.acked;
      if (on_result) on_result(r);
    }
    s.state = State::free;
    head_ = (head_ + 1) % slots_.size();
    --in_window_;
  }
  if (!overflow_.empty()) refill(mono_ms(), 0);
}

void UdpSender::wait(int timeout_ms) {
  if (failure_ != Failure::none) return;
  int t = next_timer_ms();
  if (t < 0 || (timeout_ms >= 0 && timeout_ms < t)) t = timeout_ms;
  pollfd p{fd_.get(), POLLIN, 0};
  int n = ::poll(&p, 1, t);
  if (n > 0) on_readable();
  on_timers();
  deliver_front();
}

void UdpSender::fail(Failure f, std::string message) {
  if (failure_ != Failure::none) return;
  failure_ = f;
  failure_message_ = std::move(message);
}

}  // namespace client
