// test_main.cpp — doctest's main, alone so it compiles once.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
