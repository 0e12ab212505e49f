// index.hpp — Index: the attribution index, sender address → its notes. Rebuilt from the
// store at start and updated after every commit; never the truth (the store is).
// Keeps positions (0-based note numbers in store order) as compact uint32 arrays in chunks
// (columns.hpp: growing never copies them), one per client address "IP:PORT" and one per
// host IP, so HISTORY FROM and CLIENTS need no scan,
// and a TimeIndex over every note's TIME, so SINCE/UNTIL TIME need not scan the whole store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../common/net.hpp"
#include "columns.hpp"
#include "time_index.hpp"

class Index {
 public:
  using Positions = Chunked<uint32_t>;  // rising store positions
  struct Client {
    std::string addr;  // "IP:PORT" / "[V6]:PORT", as in note lines
    uint64_t notes = 0;
    int64_t first_ms = 0;  // TIME of its first note (by seq)
    int64_t last_ms = 0;   // the latest TIME of its notes (>= first_ms, clock steps or not)
    Positions positions;
  };
  // One sending host (SPEC.md CLIENTS HOSTS), same times as Client.
  struct Host {
    std::string ip;  // as in note lines, without brackets or port
    uint64_t notes = 0;
    int64_t first_ms = 0, last_ms = 0;
    uint64_t ports = 0;  // distinct ports seen from this IP (= its client addresses)
    Positions positions;
  };

  void add(uint32_t position, std::string_view addr, int64_t time_ms);

  // Clients in order of their first note.
  const std::vector<Client>& clients() const noexcept { return clients_; }
  // The positions a FROM filter selects, in store order; nullptr when it matches nothing.
  const Positions* positions(const AddrFilter& f) const;
  // Hosts (IPs) in order of their first note.
  const std::vector<Host>& hosts() const noexcept { return hosts_; }
  size_t host_count() const noexcept { return hosts_.size(); }
  // Every note's TIME, by position.
  const TimeIndex& times() const noexcept { return times_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Map = std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>>;

  std::vector<Client> clients_;
  Map by_addr_;                                 // "IP:PORT" → clients_ index
  Map by_ip_;                                   // "IP" → hosts_ index
  std::vector<Host> hosts_;
  TimeIndex times_;
  // The last address seen, so a burst from one client skips the hash lookups.
  uint32_t last_client_ = UINT32_MAX, last_host_ = UINT32_MAX;
};
