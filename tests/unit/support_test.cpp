// support_test.cpp — tests/support itself: TempDir removes what it made, remove_tree refuses
// paths it did not make, files round-trip, split_lines keeps a last line without '\n',
// wait_until is bounded, Argv ends in nullptr.
#include <doctest/doctest.h>

#include <string>

#include "../support/argv.hpp"
#include "../support/clock.hpp"
#include "../support/files.hpp"

TEST_CASE("support: TempDir, files, and remove_tree's guard") {
  std::string kept;
  {
    support::TempDir t;
    kept = t.path();
    REQUIRE(support::file_exists(kept));
    support::write_file(kept + "/a", "one\ntwo");
    CHECK(support::read_file(kept + "/a") == "one\ntwo");
    CHECK(support::file_size(kept + "/a") == 7);
    CHECK(support::file_size(kept + "/missing") == 0);
    bool nl = true;
    CHECK(support::file_lines(kept + "/a", &nl) == std::vector<std::string>{"one", "two"});
    CHECK_FALSE(nl);
    CHECK(support::dir_entries(kept) == std::vector<std::string>{"a"});
    support::remove_tree("/tmp");  // not one of ours: refused
    CHECK(support::file_exists("/tmp"));
  }
  CHECK_FALSE(support::file_exists(kept));
  CHECK(support::split_lines("a\n\nb\n") == std::vector<std::string>{"a", "", "b"});
}

TEST_CASE("support: wait_until polls until true, and gives up at the deadline") {
  int calls = 0;
  CHECK(support::wait_until([&] { return ++calls == 3; }, 5000, 1));
  CHECK(calls == 3);
  int64_t t0 = support::now_ms();
  CHECK_FALSE(support::wait_until([] { return false; }, 30, 5));
  CHECK(support::now_ms() - t0 >= 30);
  support::Argv a("prog", {"--x", "y"});
  CHECK(a.argc() == 3);
  CHECK(std::string(a.argv()[2]) == "y");
  CHECK(a.argv()[3] == nullptr);
}
