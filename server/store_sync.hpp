// store_sync.hpp — SyncWorker: one helper thread that fdatasync()s the store's two files for
// the group commit under --fsync always, so the select() loop keeps reading UDP and serving
// TCP while the disk works (pipelined group commit; Store::begin_append / finish_append).
//
// Hand-over: submit() gives the thread two fds (under a mutex); it syncs both, stores the
// first errno (0: both returned 0), sets ended() and writes to an eventfd that the loop
// watches with select(). collect() (after ended(), or blocking) takes the result and clears
// the eventfd. One job at a time: submit() is only called when no job is pending. The thread
// touches nothing but the two fds and the fields below, all under the mutex; the fds stay
// open until the worker is destroyed (it joins first).
//
// Test switch: environment DAILYNETD_SYNC_GATE=PATH makes the thread wait (polling every
// 5 ms, at most 30 s) until PATH exists before each job's fdatasyncs, so a test can hold a
// commit in flight and see what the server does meanwhile (dailynetd(8) ENVIRONMENT).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "../common/fd.hpp"

class SyncWorker {
 public:
  SyncWorker() = default;
  ~SyncWorker();  // stops and joins the thread (a job in progress finishes first)
  SyncWorker(const SyncWorker&) = delete;
  SyncWorker& operator=(const SyncWorker&) = delete;

  // Creates the eventfd and starts the thread (once; later calls return true). False with a
  // one-line reason in error when either can not be made.
  bool start(std::string& error);
  bool started() const noexcept { return thread_.joinable(); }
  // Readable (select) once the submitted job has ended, until collect().
  int event_fd() const noexcept { return event_.get(); }
  // Starts fdatasync(a) then fdatasync(b) on the thread. Precondition: started(), no job
  // pending.
  void submit(int a, int b);
  bool pending() const noexcept { return pending_; }
  bool ended() const noexcept { return ended_.load(std::memory_order_acquire); }
  // Waits for the pending job to end (at once when ended()), clears the eventfd and returns
  // 0 when both fdatasyncs returned 0, else the errno of the first that failed.
  int collect();

 private:
  void run();

  Fd event_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Under mu_:
  int fd_a_ = -1, fd_b_ = -1;
  bool job_ = false;   // submitted, not yet taken by the thread
  bool done_ = false;  // the thread finished the job; result_ holds its errno
  bool stop_ = false;
  int result_ = 0;
  // The loop thread's own view: a job was submitted and not yet collected.
  bool pending_ = false;
  std::atomic<bool> ended_{false};
  std::string gate_;  // DAILYNETD_SYNC_GATE, read once at start()
};
