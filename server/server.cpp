// server.cpp — see server.hpp.
#include "server.hpp"

#include <fcntl.h>
#include <sys/select.h>
#include <signal.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <algorithm>
#include <cstring>

#include "../common/clock.hpp"
#include "log.hpp"

namespace {
int g_signal_pipe = -1;

// Writes one byte naming the signal to the self-pipe; the loop logs or stops on it.
extern "C" void on_signal(int sig) {
  int saved = errno;
  char c = sig == SIGHUP ? 'h' : sig == SIGUSR1 ? '1' : sig == SIGUSR2 ? '2' : 's';
  ssize_t n = ::write(g_signal_pipe, &c, 1);
  (void)n;
  errno = saved;
}
}  // namespace

namespace {
constexpr size_t kTurnTcpBudget = 2 << 20;  // bytes all TCP sessions send in one turn
}  // namespace

Server::Server(Config cfg)
    : cfg_(std::move(cfg)),
      rate_(cfg_.rate, cfg_.rate_burst),
      intake_(cfg_, stats_, once_, rate_),
      scratch_(128 << 10),
      http_shared_{once_, rate_, {}},
      ctx_{cfg_, store_, index_, stats_, [this](std::string& o) { write_stats(o); }, scratch_,
           &http_shared_} {}

int Server::start(std::string& error) {
  start_ms_ = mono_ms();
  auto udp_addr = SockAddr::from_ip(cfg_.host, cfg_.udp_port);
  auto tcp_addr = SockAddr::from_ip(cfg_.host, cfg_.tcp_port);
  if (!udp_addr || !tcp_addr) {
    error = "--host " + cfg_.host + " is not an IPv4 or IPv6 address";
    return kExitUsage;
  }
  RecoveryReport rep;
  const bool existed = ::access((cfg_.data_dir + "/notes.log").c_str(), F_OK) == 0;
  // The store hands every recovered note to the index and the exactly-once table.
  if (!store_.open(cfg_.data_dir, cfg_.repair,
                   [this](const RecoveredNote& n) { index_note(n); }, rep, error))
    return kExitStore;
  for (const std::string& line : describe_recovery(rep, store_.log_path(), store_.count()))
    log_line(line);
  if (cfg_.udp_port == 0 && cfg_.tcp_port == 0) {
    // --port 0: one free port number for both protocols, as with a fixed --port. TCP picks
    // it; UDP takes the same number, or both try again.
    bool bound = false;
    for (int attempt = 0; attempt < 32 && !bound; ++attempt) {
      if (!listener_.open(*tcp_addr, error)) return kExitNetwork;
      auto same = SockAddr::from_ip(cfg_.host, listener_.local().port());
      bound = intake_.open(*same, error);
      if (!bound) listener_.close();
    }
    if (!bound) return kExitNetwork;
  } else if (!intake_.open(*udp_addr, error) || !listener_.open(*tcp_addr, error)) {
    return kExitNetwork;
  }
  if (::pipe2(self_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
    error = std::string("cannot create the signal pipe: ") + std::strerror(errno);
    return kExitFailure;
  }
  // --fsync always: the group commit's fdatasyncs run on a thread (pipelined group commit,
  // store.hpp); its eventfd wakes the loop when a commit is durable. --fsync everysec: the
  // once-a-second fdatasyncs run there too, so the loop never waits for the disk.
  if (cfg_.fsync != FsyncMode::never && !store_.start_sync_thread(error)) return kExitFailure;
  for (int fd : {self_pipe_[0], intake_.fd(), listener_.fd(), store_.sync_fd()}) {
    if (fd >= FD_SETSIZE) {
      error = "descriptor " + std::to_string(fd) + " is beyond what select() can watch (" +
              std::to_string(FD_SETSIZE) + "): too many descriptors were open at start; " +
              "start dailynetd from a clean environment";
      return kExitFailure;
    }
  }
  g_signal_pipe = self_pipe_[1];
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  // SIGINT/SIGTERM stop; SIGHUP (logrotate, a closing terminal, systemctl reload) and
  // SIGUSR1/2 are logged and ignored: there is no configuration to reload.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGXFSZ, SIG_IGN);  // a file size limit must fail the write (EFBIG), not kill us

  if (!is_loopback(*udp_addr) && cfg_.allow.empty())
    log_line("warning: listening on " + cfg_.host +
             " without --allow: anyone who can reach this host may read and write notes");
  selector_.watch(self_pipe_[0], true, false);
  selector_.watch(intake_.fd(), true, false);
  selector_.watch(listener_.fd(), true, false);
  if (store_.sync_fd() >= 0) selector_.watch(store_.sync_fd(), true, false);

  // The store's absolute path, so that a new user sees where the notes went (issue 12).
  std::string store_path = store_.log_path();
  if (char* real = ::realpath(store_path.c_str(), nullptr)) {
    store_path = real;
    std::free(real);
  }
  const std::string created = existed ? "" : " (new store created)";
  std::string line = "dailynetd ready udp=" + intake_.local().to_string() +
                     " tcp=" + listener_.local().to_string() + " store=" + store_path +
                     " notes=" + std::to_string(store_.count()) + created + "\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
  log_line("store " + store_path + created + ": " + std::to_string(store_.count()) +
           " notes, next seq " + std::to_string(store_.next_seq()) + "; fsync " +
           (cfg_.fsync == FsyncMode::always     ? "always"
            : cfg_.fsync == FsyncMode::everysec ? "everysec"
                                                : "never") +
           "; UDP receive buffer " + std::to_string(intake_.receive_buffer()) + " bytes");
  return kExitOk;
}

void Server::index_note(const RecoveredNote& n) {
  // The store is the truth: attribution and exactly-once state come from its lines/records.
  auto note = parse_note_line(n.line);
  auto ms = note ? parse_time_ms(note->time) : std::nullopt;
  index_.add(static_cast<uint32_t>(n.position), note ? note->addr : std::string_view(),
             ms ? *ms : 0);
  if (n.client_id) once_.restore(n.client_id, n.msg, n.seq);
}

int Server::run() {
  while (!stopping_) {
    update_interest();
    // No sleep while work waits: datagrams past the turn's budget (when the receive slots
    // have room), or POSTs parsed in the last output phase (pipelined behind an answer),
    // which the next commit takes. While a commit is in flight the sync thread's eventfd
    // wakes the loop when it ends.
    const bool posts_wait = !http_shared_.posts.empty() && !store_.in_flight();
    int timeout = (udp_more_ && intake_.has_room()) || posts_wait ? 0 : 250;
    if (selector_.wait(timeout) < 0) {
      log_line(std::string("select failed: ") + std::strerror(errno));
      return 1;
    }
    turn(mono_ms());
  }
  shutdown();
  return 0;
}

void Server::update_interest() {
  selector_.watch(intake_.fd(), intake_.has_room(), intake_.replies_pending());
  for (auto& s : sessions_) selector_.watch(s->fd(), s->wants_read(), s->wants_write(ctx_));
}

void Server::turn(int64_t now_ms) {
  if (selector_.readable(self_pipe_[0])) on_signals();
  int64_t wall = wall_ms();
  if (intake_.has_room() && (selector_.readable(intake_.fd()) || udp_more_))
    udp_more_ = intake_.read_turn(wall);
  for (size_t i = 0; i < sessions_.size(); ++i) {
    TcpSession& s = *sessions_[i];
    if (selector_.readable(s.fd())) s.on_readable(ctx_, now_ms);
  }
  if (!stopping_ && listener_.fd() >= 0 && selector_.readable(listener_.fd()))
    listener_.accept_ready(cfg_, stats_, sessions_.size(),
                           [this](Fd fd, const SockAddr& peer) { on_accept(std::move(fd), peer); });
  commit(now_ms, wall);
  if (selector_.writable(intake_.fd())) intake_.flush_replies();
  // One write budget per turn, shared round-robin: downloads take turns instead of each
  // adding to the turn's length, so UDP intake is read again within a millisecond or two.
  size_t budget = kTurnTcpBudget;
  const size_t n = sessions_.size();
  for (size_t k = 0; k < n && budget > 0; ++k) {
    TcpSession& s = *sessions_[(next_writer_ + k) % n];
    if (selector_.writable(s.fd()) || s.following() || s.wants_write(ctx_))
      budget -= s.pump_output(ctx_, now_ms, std::min(budget, TcpSession::kTurnWriteBudget));
  }
  if (n) next_writer_ = (next_writer_ + 1) % n;
  close_finished();
  if (now_ms - last_timer_ms_ >= 200) check_timers(now_ms);
}

void Server::on_signals() {
  char buf[64];
  ssize_t n;
  while ((n = ::read(self_pipe_[0], buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      const char* name = buf[i] == 'h' ? "SIGHUP" : buf[i] == '1' ? "SIGUSR1" : "SIGUSR2";
      if (buf[i] != 's')
        log_line(std::string(name) + " received and ignored (dailynetd has no configuration "
                                     "to reload; SIGTERM stops it)");
      else if (!stopping_)
        log_line("stopping: signal received");
      stopping_ = stopping_ || buf[i] == 's';
    }
  }
}

void Server::commit(int64_t now_ms, int64_t wall) {
  if (store_.background_sync_pending() && store_.sync_ended()) {  // --fsync everysec
    std::string error;
    if (store_.finish_background_sync(error))
      ++stats_.store_syncs;
    else
      log_line(error);
  }
  if (store_.in_flight()) {
    if (!store_.sync_ended()) return;  // what was read meanwhile waits for the next commit
    finish_commit(now_ms);
  }
  start_commit(now_ms, wall);
}

void Server::start_commit(int64_t now_ms, int64_t wall) {
  batch_ = intake_.notes();
  commit_udp_notes_ = batch_.size();
  for (const HttpPost& p : http_shared_.posts)  // POST /notes share the write and fdatasync
    if (!p.duplicate)
      batch_.push_back({p.time_ms, p.addr, p.text, p.client_id, p.client_id ? 1u : 0u});
  posts_in_flight_.swap(http_shared_.posts);  // posts_in_flight_ was empty
  // One TIME per commit (recovery tells a torn commit from two by it, store_scan.hpp); the
  // addresses are kept for the index, which is fed when the commit ends.
  commit_addrs_.clear();
  commit_addr_ends_.clear();
  for (NoteToAppend& n : batch_) {
    n.time_ms = wall;
    commit_addrs_.append(n.addr);
    commit_addr_ends_.push_back(static_cast<uint32_t>(commit_addrs_.size()));
  }
  commit_time_ms_ = wall;
  commit_first_seq_ = store_.next_seq();
  commit_first_pos_ = store_.count();
  commit_ok_ = true;
  if (!batch_.empty()) {
    std::string error;
    commit_ok_ = check_store(now_ms) && (cfg_.fsync == FsyncMode::always
                                             ? store_.begin_append(batch_, error)
                                             : store_.append(batch_, cfg_.fsync, error));
    if (!commit_ok_) store_refused(error, batch_.size(), now_ms);
  }
  batch_.clear();
  intake_.seal();
  if (!store_.in_flight()) finish_commit(now_ms);
}

void Server::finish_commit(int64_t now_ms) {
  const bool synced_apart = store_.in_flight();
  bool ok = commit_ok_;
  if (synced_apart) {
    std::string error;
    ok = store_.finish_append(error);
    if (!ok) store_refused(error, commit_addr_ends_.size(), now_ms);
  }
  const size_t n = commit_addr_ends_.size();
  if (ok && n > 0) {
    ++stats_.store_commits;
    if (cfg_.fsync == FsyncMode::always) ++stats_.store_syncs;
    // TODO(uint32 positions): the index keeps store positions as uint32_t (half the memory
    // of size_t); a store past 4,294,967,295 notes needs wider ones. Asserted, not handled.
    assert(commit_first_pos_ + n <= UINT32_MAX);
    uint32_t from = 0;
    for (size_t i = 0; i < n; ++i) {
      std::string_view addr(commit_addrs_.data() + from, commit_addr_ends_[i] - from);
      index_.add(static_cast<uint32_t>(commit_first_pos_ + i), addr, commit_time_ms_);
      from = commit_addr_ends_[i];
    }
  }
  intake_.end_commit(ok, commit_first_seq_);
  answer_posts(ok, commit_first_seq_ + commit_udp_notes_);
  if (!ok && synced_apart) {
    // What was read while it was in flight may continue its refused runs (a client's next
    // messages): refused as well, and the exactly-once table is back to what is settled.
    intake_.seal();
    intake_.end_commit(false, 0);
    posts_in_flight_.swap(http_shared_.posts);
    answer_posts(false, 0);
  }
}

void Server::store_refused(const std::string& error, size_t notes, int64_t now_ms) {
  ++stats_.store_append_failures;
  if (!error.empty() && now_ms - last_store_error_log_ms_ > 1000) {
    last_store_error_log_ms_ = now_ms;
    log_line(error + "; " + std::to_string(notes) +
             " notes refused with 'ERR store unavailable'; writing resumes when the disk "
             "accepts it again");
  }
}

void Server::answer_posts(bool committed, uint64_t first_seq) {
  // Settle every stored key first, so a retry of a key from this same commit finds its seq.
  std::vector<HttpPost>& posts = posts_in_flight_;
  std::vector<uint64_t> seqs(posts.size(), 0);
  uint64_t seq = first_seq;
  for (size_t i = 0; i < posts.size(); ++i) {
    if (posts[i].duplicate || !committed) continue;
    seqs[i] = seq++;
    if (posts[i].client_id) once_.settle(posts[i].client_id, {1, 1, seqs[i], 0, {}});
    ++stats_.http_notes_stored;
  }
  for (size_t i = 0; i < posts.size(); ++i) {
    if (!posts[i].session) continue;  // closed while its note was being committed
    uint64_t s = posts[i].duplicate ? once_.recall(posts[i].client_id, 1, 1).seq : seqs[i];
    posts[i].session->http_committed(ctx_, s, kReasonStoreUnavailable);
  }
  posts.clear();
}

bool Server::check_store(int64_t now_ms) {
  last_store_check_ms_ = now_ms;
  std::string what;
  if (store_.check_files(what)) return true;
  if (!what.empty()) log_line(what);  // once: the first time the change is seen
  return false;
}

void Server::on_accept(Fd fd, const SockAddr& peer) {
  int raw = fd.get();
  sessions_.push_back(std::make_unique<TcpSession>(std::move(fd), peer, mono_ms()));
  selector_.watch(raw, true, false);
}

void Server::close_finished() {
  for (size_t i = 0; i < sessions_.size();) {
    TcpSession& s = *sessions_[i];
    if (!s.done()) {
      ++i;
      continue;
    }
    // Every close is counted by its reason; all but the peer's and the protocol's are logged.
    const CloseReason why = s.close_reason();
    if (StatCounter counter = close_counter(why)) ++(stats_.*counter);
    if (is_logged(why))
      log_line("closed " + s.peer() + ": " + to_string(why) +
               (s.close_detail().empty() ? "" : ": " + s.close_detail()));
    selector_.forget(s.fd());
    s.drain_input();
    for (auto* posts : {&http_shared_.posts, &posts_in_flight_})  // its note is still stored
      for (HttpPost& p : *posts)
        if (p.session == &s) p.session = nullptr;
    sessions_[i] = std::move(sessions_.back());
    sessions_.pop_back();
  }
}

void Server::check_timers(int64_t now_ms) {
  last_timer_ms_ = now_ms;
  if (now_ms - last_store_check_ms_ >= 500) check_store(now_ms);
  if (cfg_.fsync == FsyncMode::everysec && store_.dirty() &&
      !store_.background_sync_pending() && now_ms - last_sync_ms_ >= 1000) {
    store_.begin_background_sync();  // counted when it ends (commit())
    last_sync_ms_ = now_ms;
  }
  for (auto& s : sessions_) {
    if (s->done()) continue;
    if (CloseReason why = s->check_timeouts(ctx_, now_ms); why != CloseReason::none)
      s->close_now(why);
  }
}

void Server::shutdown() {
  // Stop accepting and reading; what was received is committed and answered, and pending
  // output gets at most 2 s (SPEC "Server and store"): the commit in flight (it is ended
  // whatever the time), then what was read meanwhile. A POST pipelined behind an answered
  // request is parsed only in the turn's output phase, after its commit: commit those too,
  // and the ones their answers let through, within the 2 s.
  listener_.close();
  const int64_t deadline = mono_ms() + 2000;
  while (store_.in_flight() || (!http_shared_.posts.empty() && mono_ms() < deadline)) {
    if (store_.in_flight()) finish_commit(mono_ms());
    start_commit(mono_ms(), wall_ms());
    for (auto& s : sessions_) s->pump_output(ctx_, mono_ms());
  }
  for (auto& s : sessions_) s->begin_shutdown(ctx_);
  while (mono_ms() < deadline) {
    intake_.flush_replies();
    close_finished();
    if (sessions_.empty() && !intake_.replies_pending()) break;
    update_interest();
    selector_.wait(50);
    for (auto& s : sessions_) s->pump_output(ctx_, mono_ms());
  }
  std::string error;
  if (!store_.sync(error)) log_line(error);
  log_line("stopped: " + std::to_string(store_.count()) + " notes in " + store_.log_path());
}

void Server::write_stats(std::string& out) const {
  Stats s = stats_;  // the counters, plus the gauges read now
  s.notes_stored = store_.count();
  s.last_seq = store_.last_seq();
  s.store_bytes = store_.bytes();
  s.udp_receive_buffer = static_cast<uint64_t>(intake_.receive_buffer());
  s.tcp_connections_open = sessions_.size();
  s.clients = index_.clients().size();
  s.exactly_once_clients = once_.size();
  s.http_events_open = static_cast<uint64_t>(std::count_if(
      sessions_.begin(), sessions_.end(), [](const auto& t) { return t->http_events(); }));
  s.uptime_seconds = static_cast<uint64_t>((mono_ms() - start_ms_) / 1000);
  format_stats(s, out);
}
