// lossy_relay.hpp — LossyRelay: a UDP relay between a client and the server that drops,
// duplicates and reorders datagrams (seeded, so a failure can be replayed), in a child
// process killed by PID on destruction. Test-only: the client's retries and the server's
// exactly-once rules are tested through it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <string>

#include "harness.hpp"

namespace harness {

class LossyRelay {
 public:
  // Listens on 127.0.0.1:port() and forwards to 127.0.0.1:server_port, in a child process.
  LossyRelay(uint16_t server_port, uint32_t seed, double drop, double dup, double reorder) {
    count_path_ = temp_dir();
    int front = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(front, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(front, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    int back = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s.sin_port = htons(server_port);
    ::connect(back, reinterpret_cast<sockaddr*>(&s), sizeof s);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      relay(front, back, seed, drop, dup, reorder, parent);
      ::_exit(0);
    }
    ::close(front);
    ::close(back);
  }
  ~LossyRelay() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    remove_tree(count_path_);
  }
  uint16_t port() const { return port_; }
  // "dropped duplicated reordered", written by the relay as it goes.
  std::string counts() const { return read_file(count_path_ + "/counts"); }

 private:
  struct Held {
    std::string data;
    int64_t at = 0;
    bool set = false;
  };

  void relay(int front, int back, uint32_t seed, double drop, double dup, double reorder,
             pid_t parent) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    sockaddr_in client{};
    socklen_t client_len = 0;
    Held held[2];  // per direction: a datagram kept back to arrive after the next one
    uint64_t dropped = 0, duplicated = 0, reordered = 0;
    int64_t end = now_ms() + 120000;  // bounded, whatever happens to the parent
    auto out = [&](int dir, const std::string& d) {
      if (dir == 0)
        ::send(back, d.data(), d.size(), 0);
      else if (client_len)
        ::sendto(front, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&client), client_len);
    };
    while (now_ms() < end && ::getppid() == parent) {
      pollfd p[2] = {{front, POLLIN, 0}, {back, POLLIN, 0}};
      ::poll(p, 2, 10);
      for (int dir = 0; dir < 2; ++dir) {
        if (held[dir].set && now_ms() - held[dir].at > 30) {  // nothing came after it
          out(dir, held[dir].data);
          held[dir].set = false;
        }
        if (!(p[dir].revents & POLLIN)) continue;
        char buf[70000];
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        ssize_t n = ::recvfrom(p[dir].fd, buf, sizeof buf, MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &fl);
        if (n < 0) continue;
        if (dir == 0) {
          client = from;
          client_len = fl;
        }
        std::string d(buf, static_cast<size_t>(n));
        if (u(rng) < drop) {
          ++dropped;
        } else if (!held[dir].set && u(rng) < reorder) {
          held[dir] = {d, now_ms(), true};
          ++reordered;
        } else {
          out(dir, d);
          if (u(rng) < dup) {
            out(dir, d);
            ++duplicated;
          }
          if (held[dir].set) {
            out(dir, held[dir].data);
            held[dir].set = false;
          }
        }
        std::string c = std::to_string(dropped) + " " + std::to_string(duplicated) + " " +
                        std::to_string(reordered) + "\n";
        write_file(count_path_ + "/counts.tmp", c);  // renamed into place: read whole or not
        ::rename((count_path_ + "/counts.tmp").c_str(), (count_path_ + "/counts").c_str());
      }
    }
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string count_path_;
};

}  // namespace harness
