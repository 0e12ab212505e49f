// http_client.cpp — see http_client.hpp.
#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "harness.hpp"

namespace httpc {

Conn::Conn(uint16_t port, const std::string& host) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd_.valid() && ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    fd_.reset();
}

bool Conn::send(const std::string& bytes) {
  size_t done = 0;
  while (fd_.valid() && done < bytes.size()) {
    ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return fd_.valid();
}

bool Conn::fill(int timeout_ms) {
  if (!fd_.valid() || eof_) return false;
  pollfd p{fd_.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms) <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<Response> Conn::response(bool head_only, int timeout_ms) {
  const int64_t deadline = harness::now_ms() + timeout_ms;
  auto more = [&]() { return fill(static_cast<int>(deadline - harness::now_ms())); };
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
    if (!more()) return std::nullopt;
  Response r;
  std::string head = buf_.substr(0, end);
  buf_.erase(0, end + 4);
  size_t pos = head.find("\r\n");
  std::string status_line = head.substr(0, pos);
  r.version = status_line.substr(0, status_line.find(' '));
  r.status = std::atoi(status_line.c_str() + r.version.size() + 1);
  while (pos != std::string::npos) {
    size_t next = head.find("\r\n", pos + 2);
    std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    pos = next;
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
    while (buf_.size() < n)
      if (!more()) return std::nullopt;
    r.body = buf_.substr(0, n);
    buf_.erase(0, n);
  } else if (r.header("transfer-encoding") == "chunked") {
    for (;;) {
      size_t crlf;
      while ((crlf = buf_.find("\r\n")) == std::string::npos)
        if (!more()) return std::nullopt;
      size_t n = std::stoul(buf_.substr(0, crlf), nullptr, 16);
      while (buf_.size() < crlf + 2 + n + 2)
        if (!more()) return std::nullopt;
      r.body += buf_.substr(crlf + 2, n);
      buf_.erase(0, crlf + 2 + n + 2);
      if (n == 0) break;
    }
  } else {
    while (more()) {
    }
    if (!eof_) return std::nullopt;  // timed out before the close ended the body
    r.body = std::move(buf_);
    buf_.clear();
  }
  return r;
}

std::string Conn::read_until(const std::string& marker, int timeout_ms) {
  const int64_t deadline = harness::now_ms() + timeout_ms;
  while (buf_.find(marker) == std::string::npos)
    if (!fill(static_cast<int>(deadline - harness::now_ms()))) break;
  size_t at = buf_.find(marker);
  std::string out = at == std::string::npos ? buf_ : buf_.substr(0, at + marker.size());
  buf_.erase(0, out.size());
  return out;
}

bool Conn::closed(int timeout_ms) {
  const int64_t deadline = harness::now_ms() + timeout_ms;
  while (!eof_) {
    int64_t left = deadline - harness::now_ms();
    if (left <= 0) return false;
    if (!fill(static_cast<int>(left)) && !eof_) return false;
    buf_.clear();
  }
  return true;
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
