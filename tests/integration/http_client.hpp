// http_client.hpp — a raw HTTP/1.1 client for the integration tests: it sends exactly the
// bytes a test writes and reads responses byte for byte (Content-Length, chunked, or until
// close), so every status, header and framing rule of SPEC.md "HTTP" can be checked. A thin
// layer over harness::Tcp (bounded waits; owns its connection).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace httpc {

struct Response {
  int status = 0;
  std::string version;                        // "HTTP/1.1"
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                           // de-chunked
  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class Conn {
 public:
  explicit Conn(uint16_t port) : tcp_(port) {}
  bool connected() const { return tcp_.connected(); }
  bool send(const std::string& bytes) { return tcp_.send(bytes); }
  // One response; head_only for a HEAD request (no body follows). nullopt on timeout or a
  // close before the response was complete.
  std::optional<Response> response(bool head_only = false, int timeout_ms = 8000);
  // What arrives up to and including marker (SSE events); on timeout, what came.
  std::string read_until(const std::string& marker, int timeout_ms = 8000) {
    return tcp_.read_through(marker, timeout_ms);
  }
  // True when the server closes within timeout (after any pending data).
  bool closed(int timeout_ms = 5000) { return tcp_.closed(timeout_ms); }
  int fd() const { return tcp_.fd(); }

 private:
  harness::Tcp tcp_;
};

// "METHOD path HTTP/1.1" with Host: 127.0.0.1:port and extra header lines ("Name: value").
std::string get(const std::string& path, uint16_t port, const std::vector<std::string>& extra = {},
                const std::string& method = "GET");
// A POST /notes with Content-Type: application/json, Content-Length and the body.
std::string post(const std::string& body, uint16_t port, const std::vector<std::string>& extra = {});
// One request on a new connection.
std::optional<Response> fetch(uint16_t port, const std::string& request, bool head_only = false);

}  // namespace httpc
