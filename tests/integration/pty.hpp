// pty.hpp — a program on a pseudo-terminal for the client's integration tests: type into
// it, expect() its output (bounded), wait() for its exit. Killed by PID on destruction.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"

namespace harness {

// A program on a pseudo-terminal. env: "NAME=VALUE" to set,
// "-NAME" to unset (NO_COLOR is unset unless set here, whatever the test runner has).
// stdin_fd / stdout_path / stderr_path put stdin, stdout or stderr elsewhere than the tty.
struct Redirect {
  int stdin_fd = -1;
  std::string stdout_path, stderr_path;
};

class PtyChild {
 public:
  PtyChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
           unsigned short rows, unsigned short cols)
      : PtyChild(argv, env, Redirect{}, rows, cols) {}
  PtyChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
           Redirect redirect = {}, unsigned short rows = 40, unsigned short cols = 120) {
    // The client's state (line history, outbox) goes to a temporary directory, never $HOME;
    // TERM is xterm unless set here (a CI runner may have none).
    std::string state = "XDG_STATE_HOME=" + state_.path(), term = "TERM=xterm";
    winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      ::unsetenv("NO_COLOR");
      ::putenv(state.data());
      ::putenv(term.data());
      for (const std::string& e : env) {
        if (!e.empty() && e[0] == '-') ::unsetenv(e.c_str() + 1);
        else ::putenv(const_cast<char*>(e.c_str()));
      }
      if (redirect.stdin_fd >= 0) ::dup2(redirect.stdin_fd, 0);
      if (!redirect.stdout_path.empty()) {
        int fd = ::open(redirect.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) ::_exit(126);
        ::dup2(fd, 1);
      }
      if (!redirect.stderr_path.empty()) {
        int fd = ::open(redirect.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) ::_exit(126);
        ::dup2(fd, 2);
      }
      std::vector<char*> av;
      for (auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
      av.push_back(nullptr);
      ::execv(av[0], av.data());
      ::_exit(127);
    }
  }
  ~PtyChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  PtyChild(const PtyChild&) = delete;
  PtyChild& operator=(const PtyChild&) = delete;

  bool started() const { return pid_ > 0 && master_ >= 0; }
  pid_t pid() const { return pid_; }
  int master() const { return master_; }
  // The client's XDG_STATE_HOME (unless the test set its own).
  const std::string& state_dir() const { return state_.path(); }
  // Ctrl-C makes the line discipline flush pending output, racing with what the program
  // prints in answer to the SIGINT; NOFLSH keeps that output for the test to read.
  void keep_output_on_interrupt() {
    termios t{};
    REQUIRE(::tcgetattr(master_, &t) == 0);
    t.c_lflag |= NOFLSH;
    REQUIRE(::tcsetattr(master_, TCSANOW, &t) == 0);
  }
  void type(const std::string& s) {
    REQUIRE(::write(master_, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }
  // Reads until text appears after what the last expect() matched.
  bool expect(const std::string& text, int timeout_ms = 10000) {
    int64_t deadline = now_ms() + timeout_ms;
    while (out.find(text, mark_) == std::string::npos) {
      int64_t left = deadline - now_ms();
      if (left <= 0) return false;
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100))) <= 0) continue;
      char buf[65536];
      ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) return out.find(text, mark_) != std::string::npos;  // EIO: the child is gone
      out.append(buf, static_cast<size_t>(n));
    }
    mark_ = out.find(text, mark_) + text.size();
    return true;
  }
  // Waits for the exit, reading the terminal meanwhile; -1 on timeout.
  int wait(int timeout_ms = 10000) {
    int64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        char buf[65536];
        ssize_t n = ::read(master_, buf, sizeof buf);
        if (n > 0) out.append(buf, static_cast<size_t>(n));
      }
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        // What is still in the terminal's buffer.
        while (::poll(&p, 1, 0) > 0) {
          char buf[65536];
          ssize_t n = ::read(master_, buf, sizeof buf);
          if (n <= 0) break;
          out.append(buf, static_cast<size_t>(n));
        }
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
    }
    return -1;
  }
  std::string out;

 private:
  TempDir state_;  // first: it outlives the child
  pid_t pid_ = -1;
  int master_ = -1;
  size_t mark_ = 0;
};

}  // namespace harness
