// store_sync.cpp — see store_sync.hpp.
#include "store_sync.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <system_error>

SyncWorker::~SyncWorker() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool SyncWorker::start(std::string& error) {
  if (thread_.joinable()) return true;
  event_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!event_.valid()) {
    error = std::string("cannot create the fdatasync thread's eventfd: ") + std::strerror(errno);
    return false;
  }
  if (const char* g = std::getenv("DAILYNETD_SYNC_GATE")) gate_ = g;
  // The thread takes no signal: SIGTERM and the rest go to the loop's self-pipe handler.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    error = std::string("cannot start the fdatasync thread: ") + e.what();
    return false;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return true;
}

void SyncWorker::submit(int a, int b) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    fd_a_ = a;
    fd_b_ = b;
    job_ = true;
  }
  pending_ = true;
  cv_.notify_all();
}

int SyncWorker::collect() {
  int r;
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [this] { return done_; });
    done_ = false;
    r = result_;
    ended_.store(false, std::memory_order_release);
  }
  pending_ = false;
  uint64_t v;
  while (::read(event_.get(), &v, sizeof v) < 0 && errno == EINTR) {
  }
  return r;
}

void SyncWorker::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return job_ || stop_; });
    if (!job_) return;  // stopping, nothing left to sync
    job_ = false;
    const int a = fd_a_, b = fd_b_;
    lk.unlock();
    if (!gate_.empty())  // the test switch: hold the commit until the gate file exists
      for (int i = 0; i < 6000 && ::access(gate_.c_str(), F_OK) != 0; ++i) ::usleep(5000);
    int err = 0;
    if (::fdatasync(a) != 0)
      err = errno;
    else if (::fdatasync(b) != 0)
      err = errno;
    lk.lock();
    result_ = err;
    done_ = true;
    ended_.store(true, std::memory_order_release);
    const uint64_t one = 1;
    ssize_t n = ::write(event_.get(), &one, sizeof one);  // wakes the loop's select()
    (void)n;
    cv_.notify_all();
  }
}
