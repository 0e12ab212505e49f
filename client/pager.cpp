// pager.cpp — the pager of the interactive session (interactive.hpp): $PAGER or less, fed
// through a pipe like git log does, opened at the newest note when it is less (`less +G`);
// the tail of what it was given is kept, for a pager that could not run or starts at the top.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "interactive.hpp"
#include "terminal.hpp"

namespace client {

std::string pager_command() {
  const char* p = std::getenv("PAGER");
  if (!p) return "less";
  std::string s = trim_blanks(p);
  if (s.empty() || s == "cat") return "";
  return s;
}

std::string pager_at_newest(const std::string& command) {
  size_t end = command.find_first_of(" \t");
  std::string program = command.substr(0, end);
  size_t slash = program.rfind('/');
  if (slash != std::string::npos) program.erase(0, slash + 1);
  return program == "less" ? command + " +G" : command;
}

std::string_view last_lines(std::string_view text, size_t n) noexcept {
  if (n == 0) return {};
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;  // the last line's own end
  size_t from = end;
  for (size_t lines = 0; from > 0; --from) {
    if (text[from - 1] == '\n' && ++lines == n) break;
  }
  return text.substr(from);
}

bool Pager::start(const std::string& command) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::dup2(fds[0], 0);
    if (!std::getenv("LESS")) ::setenv("LESS", "FRX", 1);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  pid_ = pid;
  fd_ = fds[1];
  broken_ = false;
  kept_.clear();
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old_int_);
  sigaction(SIGPIPE, &ign, &old_pipe_);
  return true;
}

void Pager::write(std::string_view text) {
  if (text.size() >= kKeepBytes) {
    kept_.assign(text.substr(text.size() - kKeepBytes));
  } else {
    if (kept_.size() + text.size() > 2 * kKeepBytes) kept_.erase(0, kept_.size() - kKeepBytes);
    kept_.append(text);
  }
  if (fd_ < 0 || broken_) return;
  if (!write_all(fd_, text)) broken_ = true;  // EPIPE: the pager was quit early
}

bool Pager::finish() {
  if (pid_ <= 0) return true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGPIPE, &old_pipe_, nullptr);
  return !(WIFEXITED(st) && WEXITSTATUS(st) == 127);
}

}  // namespace client
