// index_test.cpp — server/index: clients in first-note order with counts and times, and
// the positions a FROM filter selects, per host IP and per IP:PORT, IPv4 and IPv6.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../../common/net.hpp"
#include "../../server/index.hpp"

namespace {

const Index::Positions* from(const Index& ix, std::string_view filter) {
  auto f = parse_addr_filter(filter);
  INFO("filter: ", std::string(filter));
  REQUIRE(f.has_value());
  return ix.positions(*f);
}

using P = std::vector<uint32_t>;

}  // namespace

TEST_CASE("index: an empty index") {
  Index ix;
  CHECK(ix.clients().empty());
  CHECK(ix.host_count() == 0);
  CHECK(from(ix, "1.2.3.4") == nullptr);
  CHECK(from(ix, "1.2.3.4:5") == nullptr);
}

TEST_CASE("index: clients in first-note order with counts and times") {
  Index ix;
  ix.add(0, "1.2.3.4:5", 100);
  ix.add(1, "1.2.3.4:6", 200);
  ix.add(2, "1.2.3.4:5", 300);
  ix.add(3, "[::1]:7", 400);
  ix.add(4, "[2001:db8::1]:80", 500);
  ix.add(5, "1.2.3.4:6", 600);
  ix.add(6, "1.2.3.4:6", 700);
  const auto& c = ix.clients();
  REQUIRE(c.size() == 4);
  CHECK(c[0].addr == "1.2.3.4:5");
  CHECK(c[0].notes == 2);
  CHECK(c[0].first_ms == 100);
  CHECK(c[0].last_ms == 300);
  CHECK(c[0].positions == P{0, 2});
  CHECK(c[1].addr == "1.2.3.4:6");
  CHECK(c[1].notes == 3);
  CHECK(c[1].first_ms == 200);
  CHECK(c[1].last_ms == 700);
  CHECK(c[1].positions == P{1, 5, 6});
  CHECK(c[2].addr == "[::1]:7");
  CHECK(c[2].notes == 1);
  CHECK(c[2].first_ms == 400);
  CHECK(c[2].last_ms == 400);
  CHECK(c[3].addr == "[2001:db8::1]:80");
  CHECK(ix.host_count() == 3);
}

TEST_CASE("index: positions per host IP and per IP:PORT") {
  Index ix;
  ix.add(0, "1.2.3.4:5", 1);
  ix.add(1, "1.2.3.4:6", 2);
  ix.add(2, "1.2.3.4:5", 3);
  ix.add(3, "1.2.3.40:5", 4);  // an IP that shares a prefix
  ix.add(4, "[::1]:7", 5);
  ix.add(5, "[::1]:8", 6);
  ix.add(6, "[2001:db8::1]:80", 7);
  ix.add(7, "1.2.3.4:6", 8);

  const Index::Positions* p = from(ix, "1.2.3.4");
  REQUIRE(p != nullptr);
  CHECK(*p == P{0, 1, 2, 7});
  p = from(ix, "1.2.3.4:5");
  REQUIRE(p != nullptr);
  CHECK(*p == P{0, 2});
  p = from(ix, "1.2.3.4:6");
  REQUIRE(p != nullptr);
  CHECK(*p == P{1, 7});
  CHECK(from(ix, "1.2.3.4:7") == nullptr);
  p = from(ix, "1.2.3.40");
  REQUIRE(p != nullptr);
  CHECK(*p == P{3});
  CHECK(from(ix, "9.9.9.9") == nullptr);

  // IPv6: the filter may be written with or without brackets, in any spelling
  p = from(ix, "::1");
  REQUIRE(p != nullptr);
  CHECK(*p == P{4, 5});
  p = from(ix, "[::1]");
  REQUIRE(p != nullptr);
  CHECK(*p == P{4, 5});
  p = from(ix, "[::1]:8");
  REQUIRE(p != nullptr);
  CHECK(*p == P{5});
  p = from(ix, "0:0:0:0:0:0:0:1");
  REQUIRE(p != nullptr);
  CHECK(*p == P{4, 5});
  p = from(ix, "2001:DB8::1");
  REQUIRE(p != nullptr);
  CHECK(*p == P{6});
  p = from(ix, "[2001:db8:0::1]:80");
  REQUIRE(p != nullptr);
  CHECK(*p == P{6});
  CHECK(from(ix, "[2001:db8::1]:81") == nullptr);
  // an IPv4 sender seen through a dual-stack socket is filtered as plain IPv4
  p = from(ix, "::ffff:1.2.3.4");
  REQUIRE(p != nullptr);
  CHECK(*p == P{0, 1, 2, 7});
  CHECK(ix.host_count() == 4);
}

TEST_CASE("index: interleaved clients keep exact positions") {
  Index ix;
  // alternate between two ports of one host and a second host, in bursts
  std::vector<std::string> addrs = {"10.0.0.1:1", "10.0.0.1:2", "10.0.0.2:1"};
  P expect[3], host1, host2;
  uint32_t pos = 0;
  for (int round = 0; round < 50; ++round) {
    int who = (round * 7) % 3;
    for (int k = 0; k <= round % 4; ++k) {
      ix.add(pos, addrs[who], pos);
      expect[who].push_back(pos);
      (who < 2 ? host1 : host2).push_back(pos);
      ++pos;
    }
  }
  for (int who = 0; who < 3; ++who) {
    CAPTURE(who);
    const Index::Positions* p = from(ix, addrs[who]);
    REQUIRE(p != nullptr);
    CHECK(*p == expect[who]);
  }
  CHECK(*from(ix, "10.0.0.1") == host1);
  CHECK(*from(ix, "10.0.0.2") == host2);
  CHECK(ix.clients().size() == 3);
  CHECK(ix.clients()[0].notes + ix.clients()[1].notes + ix.clients()[2].notes == pos);
}
