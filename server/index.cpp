// index.cpp — see index.hpp.
#include "index.hpp"

#include <algorithm>

#include "../common/protocol.hpp"

void Index::add(uint32_t position, std::string_view addr, int64_t time_ms) {
  uint32_t c;
  if (last_client_ != UINT32_MAX && clients_[last_client_].addr == addr) {
    c = last_client_;
  } else {
    auto it = by_addr_.find(addr);
    if (it == by_addr_.end()) {
      c = static_cast<uint32_t>(clients_.size());
      clients_.push_back(Client{std::string(addr), 0, time_ms, time_ms, {}});
      by_addr_.emplace(std::string(addr), c);
    } else {
      c = it->second;
    }
    std::string_view ip = addr_ip_part(addr);
    auto h = by_ip_.find(ip);
    if (h == by_ip_.end()) {
      last_host_ = static_cast<uint32_t>(hosts_.size());
      hosts_.push_back(Host{std::string(ip), 0, time_ms, time_ms, 0, {}});
      by_ip_.emplace(std::string(ip), last_host_);
    } else {
      last_host_ = h->second;
    }
    if (c == clients_.size() - 1 && clients_[c].notes == 0) ++hosts_[last_host_].ports;
    last_client_ = c;
  }
  Client& cl = clients_[c];
  ++cl.notes;
  cl.last_ms = std::max(cl.last_ms, time_ms);
  cl.positions.push_back(position);
  Host& h = hosts_[last_host_];
  ++h.notes;
  h.last_ms = std::max(h.last_ms, time_ms);
  h.positions.push_back(position);
  times_.add(time_ms);
}

const Index::Positions* Index::positions(const AddrFilter& f) const {
  if (f.any_port()) {
    auto it = by_ip_.find(std::string_view(f.ip));
    return it == by_ip_.end() ? nullptr : &hosts_[it->second].positions;
  }
  char buf[64];
  auto a = SockAddr::from_ip(f.ip, f.port);
  if (!a) return nullptr;
  auto it = by_addr_.find(std::string_view(buf, a->format(buf)));
  return it == by_addr_.end() ? nullptr : &clients_[it->second].positions;
}
