// main.cpp — dailynet client (placeholder until the client issue lands).
#include <cstdio>
int main() {
  std::fputs("dailynet: client not built yet\n", stderr);
  return 2;
}
