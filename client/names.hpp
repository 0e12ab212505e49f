// names.hpp — reverse lookup of sender IPs for text output meant for people (history,
// follow, clients): 127.0.0.1 → localhost, through getnameinfo (so /etc/hosts, DNS, whatever
// nsswitch.conf says). `-n` turns it off; tsv and json never use it (SPEC.md, Client).
// Each IP is looked up once per run. A name is used only if it is a plain host name
// (letters, digits, '.', '-', '_'): a name from DNS never brings control bytes to a terminal.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace client {

// The name for an IP literal, or "" for none (the IP is then shown).
using NameOf = std::function<std::string(std::string_view ip)>;

// A NameOf backed by getnameinfo(NI_NAMEREQD) with a cache; copies share nothing.
NameOf reverse_lookup();

// "IP:PORT" / "[V6]:PORT" shown with the name when there is one ("localhost:5000"); the
// address unchanged otherwise (also when names is empty).
std::string display_addr(std::string_view addr, const NameOf& names);
// A bare IP shown as its name when there is one.
std::string display_ip(std::string_view ip, const NameOf& names);

}  // namespace client
