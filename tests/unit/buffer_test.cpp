// buffer_test.cpp — common/buffer.hpp: exact byte counts through append, consume, tail and
// compaction, checked against a plain std::string model.
#include <doctest/doctest.h>

#include <string>

#include "../../common/buffer.hpp"

TEST_CASE("buffer: append and consume") {
  Buffer b;
  CHECK(b.empty());
  CHECK(b.size() == 0);
  CHECK(b.view() == "");
  b.append("hello");
  CHECK(b.size() == 5);
  CHECK_FALSE(b.empty());
  CHECK(b.view() == "hello");
  b.append(" world");
  CHECK(b.size() == 11);
  CHECK(b.view() == "hello world");
  CHECK(std::string(b.data(), b.size()) == "hello world");
  b.consume(6);
  CHECK(b.size() == 5);
  CHECK(b.view() == "world");
  b.append("!");  // compacts (6 consumed >= 11/2) then appends
  CHECK(b.size() == 6);
  CHECK(b.view() == "world!");
  b.consume(0);
  CHECK(b.view() == "world!");
  b.consume(6);
  CHECK(b.empty());
  CHECK(b.view() == "");
  b.append("x");
  CHECK(b.view() == "x");
}

TEST_CASE("buffer: consuming more than is there empties it") {
  Buffer b;
  b.append("abc");
  b.consume(10);
  CHECK(b.empty());
  CHECK(b.size() == 0);
  b.append("de");
  CHECK(b.view() == "de");
  b.clear();
  CHECK(b.empty());
}

TEST_CASE("buffer: binary bytes are kept as they are") {
  Buffer b;
  std::string bin("a\0b\xff\n", 5);
  b.append(bin);
  CHECK(b.size() == 5);
  CHECK(b.view() == bin);
}

TEST_CASE("buffer: append compacts a mostly consumed buffer") {
  Buffer b;
  b.append("0123456789");
  const char* start = b.data();
  b.consume(8);  // 8 >= 10/2: the next append drops the consumed front
  CHECK(b.view() == "89");
  b.append("ab");
  CHECK(b.data() == start);  // the readable bytes now start the storage
  CHECK(b.size() == 4);
  CHECK(b.view() == "89ab");
}

TEST_CASE("buffer: append keeps a little consumed front in place") {
  Buffer b;
  b.append("0123456789");
  const char* before = b.data();
  b.consume(2);  // 2 < 10/2: no compaction
  CHECK(b.data() == before + 2);
  b.append("xyz");
  CHECK(b.size() == 11);
  CHECK(b.view() == "23456789xyz");
}

TEST_CASE("buffer: tail appends in place after compaction") {
  Buffer b;
  b.append("abcdef");
  b.consume(3);
  b.tail().append("gh");  // compacts (3 >= 6/2) first
  CHECK(b.size() == 5);
  CHECK(b.view() == "defgh");
  b.consume(1);
  b.tail() += "i";  // 1 < 5/2: consumed byte stays, view unaffected
  CHECK(b.view() == "efghi");
  CHECK(b.size() == 5);
}

TEST_CASE("buffer: a steady stream reuses the same memory") {
  Buffer b;
  std::string chunk(100, 'c');
  b.append(chunk);
  b.consume(100);
  b.append(chunk);
  const char* first = b.data();
  for (int i = 0; i < 1000; ++i) {
    b.consume(100);
    CHECK(b.empty());
    b.append(chunk);
    if (b.data() != first) {
      FAIL_CHECK("storage moved at round " << i);
      break;
    }
  }
  // half-consumed rounds: the buffer never holds more than it must
  Buffer h;
  for (int i = 0; i < 200; ++i) {
    h.append(std::string(60, 'a'));
    h.consume(55);
  }
  CHECK(h.size() == 200 * 5);
}

TEST_CASE("buffer: random operations match a string model") {
  Buffer b;
  std::string model;
  uint32_t x = 12345;
  auto rnd = [&](uint32_t n) {
    x = x * 1103515245u + 12345u;
    return (x >> 8) % n;
  };
  int mismatches = 0;
  for (int step = 0; step < 20000; ++step) {
    switch (rnd(5)) {
      case 0: {
        std::string s(rnd(300), static_cast<char>('a' + rnd(26)));
        b.append(s);
        model += s;
        break;
      }
      case 1: {
        size_t n = rnd(400);
        b.consume(n);
        model.erase(0, n);
        break;
      }
      case 2: {
        std::string s;
        for (size_t i = 0, used = rnd(200); i < used; ++i)
          s += static_cast<char>('A' + (step + i) % 26);
        b.append(s);
        model += s;
        break;
      }
      case 3: {
        std::string s(rnd(50), 'T');
        b.tail() += s;
        model += s;
        break;
      }
      case 4:
        if (rnd(50) == 0) {
          b.consume(b.size());
          model.clear();
          b.shrink();
        }
        break;
    }
    if (b.size() != model.size() || b.view() != model) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK(b.view() == model);
}
