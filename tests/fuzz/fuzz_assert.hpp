// fuzz_assert.hpp — FUZZ_ASSERT(cond): the fuzz targets' check. Active in every build (unlike
// assert, which NDEBUG would remove): on failure one line naming file, line and condition on
// stderr, then abort(), which libFuzzer reports as a crash and saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_ASSERT(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
