// config.hpp — Config: every server option, as parsed by options.cpp; plain data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../common/net.hpp"
#include "store.hpp"

struct Config {
  std::string host = "127.0.0.1";
  uint16_t udp_port = 9527;
  uint16_t tcp_port = 9527;
  std::string data_dir = "./dailynet-data";
  FsyncMode fsync = FsyncMode::always;
  std::vector<Cidr> allow;            // empty: everyone
  std::vector<std::string> allow_text;
  size_t max_note = 4096;
  int idle_timeout_s = 60;
  int max_clients = 1000;
  double rate = 0;                    // notes per second per source address; 0 = unlimited
  double rate_burst = 0;              // bucket size; 0 = derived from rate
  bool repair = false;
  bool http = true;                   // --http on|off: HTTP on the TCP port (SPEC "HTTP")
  std::vector<std::string> http_hosts;  // --http-host: names the Host header may carry
  bool quiet = false;

  bool allowed(const SockAddr& a) const noexcept {
    if (allow.empty()) return true;
    for (const Cidr& c : allow)
      if (c.contains(a)) return true;
    return false;
  }
};
