// names.cpp — see names.hpp.
#include "names.hpp"

#include <netdb.h>

#include <memory>

#include "../common/net.hpp"
#include "../common/protocol.hpp"

namespace client {

namespace {

bool plain_host_name(std::string_view n) {
  if (n.empty() || n.size() > 253) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string lookup(std::string_view ip) {
  auto a = SockAddr::from_ip(std::string(ip), 0);
  if (!a) return "";
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a->ss), a->len, host, sizeof host,
                    nullptr, 0, NI_NAMEREQD) != 0)
    return "";
  return plain_host_name(host) ? std::string(host) : std::string();
}

}  // namespace

NameOf reverse_lookup() {
  auto cache = std::make_shared<std::map<std::string, std::string, std::less<>>>();
  return [cache](std::string_view ip) {
    auto it = cache->find(ip);
    if (it == cache->end()) it = cache->emplace(std::string(ip), lookup(ip)).first;
    return it->second;
  };
}

std::string display_ip(std::string_view ip, const NameOf& names) {
  if (!names) return std::string(ip);
  std::string n = names(ip);
  return n.empty() ? std::string(ip) : n;
}

std::string display_addr(std::string_view addr, const NameOf& names) {
  if (!names) return std::string(addr);
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return std::string(addr);
  std::string n = names(addr_ip_part(addr));
  return n.empty() ? std::string(addr) : n + std::string(addr.substr(colon));
}

}  // namespace client
