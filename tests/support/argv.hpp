// argv.hpp — an argv for the option parsers under test: Argv a{"dailynet", {"send", "x"}};
// then parse(a.argc(), a.argv()). Owns the strings; argv()[argc()] is nullptr as getopt wants.
#pragma once

#include <string>
#include <vector>

namespace support {

class Argv {
 public:
  Argv(std::string program, std::vector<std::string> args) : strings_(std::move(args)) {
    strings_.insert(strings_.begin(), std::move(program));
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  Argv(const Argv&) = delete;
  Argv& operator=(const Argv&) = delete;
  int argc() const noexcept { return static_cast<int>(strings_.size()); }
  char** argv() noexcept { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

}  // namespace support
