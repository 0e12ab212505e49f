// reply_batch_test.cpp — server/reply_batch: grouping a turn's UDP replies for GSO: one peer
// and one length per group, at most 64, every peer's order kept, a length change or another
// peer's address closes a group, replies before `from` untouched.
#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../../server/reply_batch.hpp"

namespace {

Reply make(const std::string& ip, uint16_t port, const std::string& text) {
  Reply r;
  r.to = *SockAddr::from_ip(ip, port);
  r.len = static_cast<uint8_t>(text.size());
  std::memcpy(r.text, text.data(), text.size());
  return r;
}

std::string text(const Reply& r) { return std::string(r.text, r.len); }

// Checks the invariants every grouping must keep and returns the groups as "port:text|..."
std::vector<std::string> groups_of(const std::vector<Reply>& rs, size_t from) {
  std::vector<std::string> out;
  for (size_t i = from; i < rs.size();) {
    REQUIRE(rs[i].segs >= 1);
    REQUIRE(rs[i].segs <= kMaxSegments);
    REQUIRE(i + rs[i].segs <= rs.size());
    std::string g;
    for (size_t k = 0; k < rs[i].segs; ++k) {
      const Reply& r = rs[i + k];
      if (k > 0) {
        CHECK(r.segs == 0);
        CHECK(r.len == rs[i].len);
        CHECK(r.to.len == rs[i].to.len);
        CHECK(std::memcmp(&r.to.ss, &rs[i].to.ss, r.to.len) == 0);
        g += "|";
      }
      g += std::to_string(r.to.port()) + ":" + text(r);
    }
    out.push_back(g);
    i += rs[i].segs;
  }
  return out;
}

// Each peer's replies, in order.
std::map<std::string, std::vector<std::string>> per_peer(const std::vector<Reply>& rs) {
  std::map<std::string, std::vector<std::string>> m;
  for (const Reply& r : rs) m[r.to.to_string()].push_back(text(r));
  return m;
}

}  // namespace

TEST_CASE("reply batch: one peer, one length: one group; a length change starts another") {
  std::vector<Reply> rs = {make("127.0.0.1", 1, "OK 8\n"), make("127.0.0.1", 1, "OK 9\n"),
                           make("127.0.0.1", 1, "OK 10\n"), make("127.0.0.1", 1, "OK 11\n"),
                           make("127.0.0.1", 1, "ERR xy\n"), make("127.0.0.1", 1, "OK 12\n"),
                           make("127.0.0.1", 1, "OK 13\n")};
  ReplyGrouper g;
  g.group(rs, 0);
  CHECK(groups_of(rs, 0) ==
        std::vector<std::string>{"1:OK 8\n|1:OK 9\n", "1:OK 10\n|1:OK 11\n", "1:ERR xy\n",
                                 "1:OK 12\n|1:OK 13\n"});
}

TEST_CASE("reply batch: peers interleaved are grouped apart, each peer's order kept") {
  std::vector<Reply> rs;
  for (int i = 0; i < 10; ++i) {
    rs.push_back(make("127.0.0.1", 1, "OK a" + std::to_string(i) + "\n"));
    rs.push_back(make("127.0.0.1", 2, "OK b" + std::to_string(i) + "\n"));
    rs.push_back(make("::1", 1, "OK c" + std::to_string(i) + "\n"));
  }
  auto before = per_peer(rs);
  ReplyGrouper g;
  g.group(rs, 0);
  CHECK(per_peer(rs) == before);
  auto gs = groups_of(rs, 0);
  REQUIRE(gs.size() == 3);
  CHECK(gs[0].rfind("1:OK a0\n|1:OK a1\n", 0) == 0);
  CHECK(gs[1].rfind("2:OK b0\n", 0) == 0);
  CHECK(gs[2].rfind("1:OK c0\n", 0) == 0);
}

TEST_CASE("reply batch: a group holds at most 64 replies") {
  std::vector<Reply> rs(150, make("10.0.0.1", 9, "OK 1\n"));
  ReplyGrouper g;
  g.group(rs, 0);
  REQUIRE(rs[0].segs == 64);
  REQUIRE(rs[64].segs == 64);
  REQUIRE(rs[128].segs == 22);
  CHECK(groups_of(rs, 0).size() == 3);
}

TEST_CASE("reply batch: the same IP on another port, or a length change, never joins a group") {
  // peer A: len 5, len 6, len 5: three groups, in this order (A's order is kept)
  std::vector<Reply> rs = {make("127.0.0.1", 7, "OK 9\n"), make("127.0.0.1", 8, "OK 9\n"),
                           make("127.0.0.1", 7, "OK 10\n"), make("127.0.0.1", 7, "OK 1\n"),
                           make("127.0.0.1", 8, "OK 2\n")};
  auto before = per_peer(rs);
  ReplyGrouper g;
  g.group(rs, 0);
  CHECK(per_peer(rs) == before);
  CHECK(groups_of(rs, 0) ==
        std::vector<std::string>{"7:OK 9\n", "8:OK 9\n|8:OK 2\n", "7:OK 10\n", "7:OK 1\n"});
}

TEST_CASE("reply batch: replies before `from` are left alone; nothing to do is fine") {
  std::vector<Reply> rs = {make("127.0.0.1", 1, "OK 1\n"), make("127.0.0.1", 1, "OK 2\n"),
                           make("127.0.0.1", 1, "OK 3\n"), make("127.0.0.1", 1, "OK 4\n")};
  ReplyGrouper g;
  g.group(rs, 2);
  CHECK(rs[0].segs == 1);
  CHECK(rs[1].segs == 1);
  CHECK(groups_of(rs, 2) == std::vector<std::string>{"1:OK 3\n|1:OK 4\n"});
  g.group(rs, 4);  // empty range
  std::vector<Reply> none;
  g.group(none, 0);
  CHECK(none.empty());
  // many peers, one reply each: every reply stands alone, order unchanged
  std::vector<Reply> many;
  for (uint16_t p = 1; p <= 1000; ++p) many.push_back(make("127.0.0.1", p, "OK 5\n"));
  g.group(many, 0);
  bool in_order = true;
  for (uint16_t p = 1; p <= 1000; ++p)
    in_order = in_order && many[p - 1].to.port() == p && many[p - 1].segs == 1;
  CHECK(in_order);
}
