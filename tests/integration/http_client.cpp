// http_client.cpp — see http_client.hpp.
#include "http_client.hpp"

#include <cctype>
#include <cstdint>
#include <cstdlib>

namespace httpc {

std::optional<Response> Conn::response(bool head_only, int timeout_ms) {
  const int64_t deadline = harness::now_ms() + timeout_ms;
  auto left = [&]() { return static_cast<int>(std::max<int64_t>(0, deadline - harness::now_ms())); };
  std::string head = tcp_.read_through("\r\n\r\n", timeout_ms);
  if (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) return std::nullopt;
  head.resize(head.size() - 2);  // every line now ends in "\r\n"
  Response r;
  size_t pos = head.find("\r\n");
  std::string status_line = head.substr(0, pos);
  r.version = status_line.substr(0, status_line.find(' '));
  r.status = std::atoi(status_line.c_str() + std::min(status_line.size(), r.version.size() + 1));
  for (pos += 2; pos < head.size();) {
    size_t next = head.find("\r\n", pos);
    std::string line = head.substr(pos, next - pos);
    pos = next + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = line.find_first_not_of(' ', colon + 1);
    r.headers[name] = v == std::string::npos ? "" : line.substr(v);
  }
  if (head_only) return r;
  if (r.has("content-length")) {
    size_t n = std::stoul(r.header("content-length"));
    r.body = tcp_.take(n, left());
    if (r.body.size() != n) return std::nullopt;
  } else if (r.header("transfer-encoding") == "chunked") {
    for (;;) {
      std::string size_line = tcp_.read_through("\r\n", left());
      if (size_line.size() < 3 || size_line.back() != '\n') return std::nullopt;
      size_t n = std::stoul(size_line, nullptr, 16);
      std::string chunk = tcp_.take(n + 2, left());
      if (chunk.size() != n + 2) return std::nullopt;
      r.body += chunk.substr(0, n);
      if (n == 0) break;
    }
  } else {
    r.body = tcp_.take(SIZE_MAX, left());
    if (!tcp_.at_eof()) return std::nullopt;  // timed out before the close ended the body
  }
  return r;
}

std::string get(const std::string& path, uint16_t port, const std::vector<std::string>& extra,
                const std::string& method) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const std::string& h : extra) r += h + "\r\n";
  return r + "\r\n";
}

std::string post(const std::string& body, uint16_t port, const std::vector<std::string>& extra) {
  std::vector<std::string> h = {"Content-Type: application/json",
                                "Content-Length: " + std::to_string(body.size())};
  h.insert(h.end(), extra.begin(), extra.end());
  return get("/notes", port, h, "POST") + body;
}

std::optional<Response> fetch(uint16_t port, const std::string& request, bool head_only) {
  Conn c(port);
  if (!c.send(request)) return std::nullopt;
  return c.response(head_only);
}

}  // namespace httpc
