// crc32c_test.cpp — the check value against the standard test vector.
#include <doctest/doctest.h>

#include <cstring>

#include "../../common/crc32c.hpp"

TEST_CASE("crc32c of the standard check string") {
  const char* s = "123456789";
  CHECK(crc32c(0, s, std::strlen(s)) == 0xE3069283u);
  // continuing a crc equals computing it in one go
  CHECK(crc32c(crc32c(0, s, 4), s + 4, 5) == 0xE3069283u);
  CHECK(crc32c(0, "", 0) == 0u);
}
