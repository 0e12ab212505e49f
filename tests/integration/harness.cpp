// harness.cpp — see harness.hpp.
#include "harness.hpp"

#include "../../common/protocol.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace harness {

std::string bin_path(const std::string& name) {
  const char* d = std::getenv("BIN_DIR");
  return std::string(d && *d ? d : "bin") + "/" + name;
}

namespace {

int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

std::string token(const std::string& line, const std::string& key) {
  size_t p = line.find(key + "=");
  if (p == std::string::npos) return "";
  size_t b = p + key.size() + 1;
  size_t e = line.find_first_of(" \n", b);
  return line.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

uint16_t port_of(const std::string& endpoint) {
  size_t c = endpoint.rfind(':');
  return c == std::string::npos ? 0 : static_cast<uint16_t>(std::atoi(endpoint.c_str() + c + 1));
}

sockaddr_storage make_addr(const std::string& host, uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    len = sizeof *s4;
  } else {
    inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    len = sizeof *s6;
  }
  return ss;
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> extra, std::string data_dir,
                             ChildSetup setup) {
  std::string work = temp_dir();
  if (data_dir.empty()) {
    data_dir_ = work + "/data";
    own_dir_ = true;
  } else {
    data_dir_ = data_dir;
  }
  out_path_ = work + "/stdout";
  err_path_ = work + "/stderr";
  std::vector<std::string> args = {bin_path("dailynetd"), "--port", "0", "--data", data_dir_};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    int o = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int n = ::open("/dev/null", O_RDONLY);
    ::dup2(n, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    if (setup && !setup()) ::_exit(125);
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());
    av.push_back(nullptr);
    ::execv(av[0], av.data());
    ::_exit(127);
  }
  int64_t deadline = now_ms() + 10000;
  while (now_ms() < deadline) {
    std::string out = read_file(out_path_);
    if (out.find('\n') != std::string::npos) {
      start_line_ = out.substr(0, out.find('\n'));
      udp_port_ = port_of(token(start_line_, "udp"));
      tcp_port_ = port_of(token(start_line_, "tcp"));
      started_ = udp_port_ && tcp_port_;
      return;
    }
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exit_code_ = decode_status(st);
      pid_ = -1;
      return;
    }
    ::usleep(10000);
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
  size_t slash = out_path_.rfind('/');
  if (slash != std::string::npos) {
    std::string work = out_path_.substr(0, slash);
    if (!own_dir_ && data_dir_.rfind(work, 0) == 0) return;  // keep_data(): leave it all
    remove_tree(work);
  }
}

std::string ServerProcess::log() const { return read_file(err_path_); }

bool ServerProcess::wait_log(const std::string& text, int timeout_ms) const {
  int64_t deadline = now_ms() + timeout_ms;
  do {
    if (log().find(text) != std::string::npos) return true;
    ::usleep(10000);
  } while (now_ms() < deadline);
  return false;
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int st;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) {
    exit_code_ = decode_status(st);
    pid_ = -1;
    return false;
  }
  return true;
}

int ServerProcess::wait_exit(int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (pid_ > 0 && now_ms() < deadline) {
    if (!running()) return exit_code_;
    ::usleep(5000);
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return -1;
  }
  return exit_code_;
}

int ServerProcess::stop(int sig, int timeout_ms) {
  if (pid_ > 0) ::kill(pid_, sig);
  return wait_exit(timeout_ms);
}

Udp::Udp(uint16_t port, const std::string& host) {
  socklen_t len;
  sockaddr_storage ss = make_addr(host, port, len);
  fd_.reset(::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd_.valid() && ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fd_.reset();
}

Udp::Udp(uint16_t port, const std::string& host, const std::string& bind_ip) {
  socklen_t len, blen;
  sockaddr_storage ss = make_addr(host, port, len);
  sockaddr_storage bs = make_addr(bind_ip, 0, blen);
  fd_.reset(::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd_.valid() && (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&bs), blen) != 0 ||
                      ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0))
    fd_.reset();
}

bool Udp::send(const std::string& payload) {
  return fd_.valid() && ::send(fd_.get(), payload.data(), payload.size(), 0) ==
                            static_cast<ssize_t>(payload.size());
}

std::optional<std::string> Udp::recv(int timeout_ms) {
  pollfd p{fd_.get(), POLLIN, 0};
  if (!fd_.valid() || ::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
  char buf[70000];
  ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::optional<std::string> Udp::ask(const std::string& payload, int timeout_ms) {
  if (!send(payload)) return std::nullopt;
  return recv(timeout_ms);
}

uint16_t Udp::local_port() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  return ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                  : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

Tcp::Tcp(uint16_t port, const std::string& host) {
  socklen_t len;
  sockaddr_storage ss = make_addr(host, port, len);
  fd_.reset(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd_.valid() && ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fd_.reset();
}

Tcp::Tcp(uint16_t port, const std::string& host, const std::string& bind_ip) {
  socklen_t len, blen;
  sockaddr_storage ss = make_addr(host, port, len);
  sockaddr_storage bs = make_addr(bind_ip, 0, blen);
  fd_.reset(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd_.valid() && (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&bs), blen) != 0 ||
                      ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0))
    fd_.reset();
}

bool Tcp::send(const std::string& data) {
  size_t done = 0;
  while (fd_.valid() && done < data.size()) {
    ssize_t n = ::send(fd_.get(), data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return fd_.valid();
}

bool Tcp::fill(int timeout_ms) {
  if (!fd_.valid() || eof_) return false;
  pollfd p{fd_.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<std::string> Tcp::line(int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (true) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string l = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return l;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0 || !fill(static_cast<int>(left))) return std::nullopt;
  }
}

std::vector<std::string> Tcp::until(const std::string& end_prefix, int timeout_ms) {
  std::vector<std::string> lines;
  int64_t deadline = now_ms() + timeout_ms;
  while (true) {
    int64_t left = deadline - now_ms();
    if (left <= 0) break;
    auto l = line(static_cast<int>(left));
    if (!l) break;
    lines.push_back(*l);
    if (l->rfind(end_prefix, 0) == 0) break;
  }
  return lines;
}

std::string Tcp::read_through(const std::string& marker, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  size_t from = 0;
  while (true) {
    size_t at = buf_.find(marker, from);
    if (at != std::string::npos) {
      std::string out = buf_.substr(0, at + marker.size());
      buf_.erase(0, at + marker.size());
      return out;
    }
    from = buf_.size() >= marker.size() ? buf_.size() - marker.size() + 1 : 0;
    int64_t left = deadline - now_ms();
    if (left <= 0 || !fill(static_cast<int>(left))) return std::exchange(buf_, std::string());
  }
}

std::string Tcp::take(size_t n, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (buf_.size() < n) {
    int64_t left = deadline - now_ms();
    if (left <= 0 || !fill(static_cast<int>(left))) break;
  }
  std::string out = buf_.substr(0, std::min(n, buf_.size()));
  buf_.erase(0, out.size());
  return out;
}

bool Tcp::closed(int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (!eof_) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    if (!fill(static_cast<int>(left)) && !eof_) return false;
  }
  return true;
}

std::vector<std::string> tcp_command(uint16_t port, const std::string& command, int timeout_ms) {
  Tcp t(port);
  if (!t.send(command + "\n")) return {};
  return t.until("END", timeout_ms);
}

std::vector<std::string> split_tabs(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t t = s.find('\t', pos);
    out.push_back(s.substr(pos, t == std::string::npos ? std::string::npos : t - pos));
    if (t == std::string::npos) break;
    pos = t + 1;
  }
  return out;
}

std::vector<std::string> stored_texts(const ServerProcess& s) {
  std::vector<std::string> texts;
  for (const std::string& l : split_lines(read_file(s.store_path()))) {
    auto f = split_tabs(l);
    if (f.size() >= 4) texts.push_back(f[3]);
  }
  return texts;
}

std::string marked(uint64_t id, uint64_t floor, uint64_t first,
                   const std::vector<std::string>& notes) {
  std::vector<std::string_view> v(notes.begin(), notes.end());
  std::string out;
  append_marked(out, id, floor, first, v);
  return out;
}

std::vector<std::string> field_of(const std::vector<std::string>& lines, size_t i) {
  std::vector<std::string> out;
  for (const std::string& l : lines) {
    auto f = split_tabs(l);
    if (f.size() == 4) out.push_back(f[i]);
  }
  return out;
}

std::vector<std::string> texts_of(const std::vector<std::string>& lines) {
  return field_of(lines, 3);
}

std::vector<std::string> ask(Tcp& t, const std::string& cmd, int timeout_ms) {
  if (!t.send(cmd + "\n")) return {};
  return t.until("END", timeout_ms);
}

bool ipv6_loopback_available() {
  Fd fd(::socket(AF_INET6, SOCK_DGRAM, 0));
  if (!fd.valid()) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

int64_t cpu_ticks(pid_t pid) {
  std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
  size_t close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) stime = std::atoll(field.c_str());
  }
  return utime + stime;
}

std::string client() { return bin_path("dailynet"); }

std::vector<std::string> with_port(std::vector<std::string> args, uint16_t port) {
  args.insert(args.begin(), client());
  args.push_back("--port");
  args.push_back(std::to_string(port));
  return args;
}

RunResult run(const std::vector<std::string>& argv, const std::string& input, int timeout_ms,
              const std::vector<std::string>& env) {
  RunResult r;
  int in_p[2], out_p[2], err_p[2];
  if (::pipe2(in_p, O_CLOEXEC) || ::pipe2(out_p, O_CLOEXEC) || ::pipe2(err_p, O_CLOEXEC)) return r;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_p[0], 0);
    ::dup2(out_p[1], 1);
    ::dup2(err_p[1], 2);
    for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> av;
    for (auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    ::execv(av[0], av.data());
    ::_exit(127);
  }
  ::close(in_p[0]);
  ::close(out_p[1]);
  ::close(err_p[1]);
  ::fcntl(in_p[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (input.empty()) {
    ::close(in_p[1]);
    in_p[1] = -1;
  }
  int64_t deadline = now_ms() + timeout_ms;
  bool out_open = true, err_open = true;
  while ((out_open || err_open) && now_ms() < deadline) {
    pollfd p[3];
    int n = 0;
    if (out_open) p[n++] = {out_p[0], POLLIN, 0};
    if (err_open) p[n++] = {err_p[0], POLLIN, 0};
    if (in_p[1] >= 0) p[n++] = {in_p[1], POLLOUT, 0};
    ::poll(p, static_cast<nfds_t>(n), 50);
    for (int i = 0; i < n; ++i) {
      if (!p[i].revents) continue;
      if (p[i].fd == in_p[1]) {
        ssize_t w = ::write(in_p[1], input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = input.size();
        if (written >= input.size()) {
          ::close(in_p[1]);
          in_p[1] = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t k = ::read(p[i].fd, buf, sizeof buf);
      if (k <= 0) {
        if (p[i].fd == out_p[0]) out_open = false; else err_open = false;
        continue;
      }
      (p[i].fd == out_p[0] ? r.out : r.err).append(buf, static_cast<size_t>(k));
    }
  }
  if (in_p[1] >= 0) ::close(in_p[1]);
  ::close(out_p[0]);
  ::close(err_p[0]);
  int st = 0;
  while (now_ms() < deadline) {
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      r.code = decode_status(st);
      return r;
    }
    ::usleep(5000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
  r.code = -1;
  return r;
}

// ---- added for the server tests ----------------------------------------------------------

std::vector<std::pair<std::string, std::string>> stats_lines(uint16_t port) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& l : tcp_command(port, "STATS")) {
    if (l == "END") break;
    size_t sp = l.find(' ');
    out.emplace_back(l.substr(0, sp), sp == std::string::npos ? "" : l.substr(sp + 1));
  }
  return out;
}

int64_t stat_value(uint16_t port, const std::string& name) {
  for (auto& [k, v] : stats_lines(port))
    if (k == name) return v.empty() ? -1 : std::atoll(v.c_str());
  return -1;
}

int64_t wait_stat(uint16_t port, const std::string& name, int64_t want, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  int64_t v = -1;
  do {
    v = stat_value(port, name);
    if (v >= want) return v;
    ::usleep(20000);
  } while (now_ms() < deadline);
  return v;
}

std::vector<std::string> history_texts(uint16_t port) {
  std::vector<std::string> lines = tcp_command(port, "HISTORY");
  std::vector<std::string> texts;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    auto f = split_tabs(lines[i]);
    texts.push_back(f.size() >= 4 ? f[3] : "<not a note line>");
  }
  if (lines.empty() || lines.back() != "END " + std::to_string(texts.size()))
    texts.push_back("<bad END>");
  return texts;
}

uint64_t write_notes_log(const std::string& dir, uint64_t n, size_t text_len) {
  ::mkdir(dir.c_str(), 0755);
  std::string out;
  out.reserve(static_cast<size_t>(n) * (text_len + 50));
  for (uint64_t seq = 1; seq <= n; ++seq) {
    std::string text = "note " + std::to_string(seq) + " ";
    if (text.size() < text_len) text.append(text_len - text.size(), '.');
    out += std::to_string(seq);
    out += "\t2026-01-01T00:00:00.000Z\t127.0.0.1:";
    out += std::to_string(40000 + seq % 10);
    out += '\t';
    out += text;
    out += '\n';
  }
  write_file(dir + "/notes.log", out);
  return out.size();
}

}  // namespace harness
