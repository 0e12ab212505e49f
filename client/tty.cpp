// tty.cpp — see tty.hpp. The handlers touch only async-signal-safe calls: tcsetattr, write,
// signal, raise.
#include "tty.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "terminal.hpp"

namespace client {

namespace {

constexpr char kPasteOn[] = "\x1b[?2004h";
constexpr char kPasteOff[] = "\x1b[?2004l";

int g_fd = -1;
termios g_saved{};
volatile sig_atomic_t g_installed = 0;  // handlers in place
volatile sig_atomic_t g_raw_wanted = 0;
volatile sig_atomic_t g_raw = 0;       // the terminal is in raw mode now
volatile sig_atomic_t g_events = 0;
volatile sig_atomic_t g_terminating = 0;
int g_pipe[2] = {-1, -1};

const int kCrash[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
const int kLeave[] = {SIGTERM, SIGINT, SIGHUP};
const int kOther[] = {SIGTSTP, SIGCONT, SIGWINCH};
struct sigaction g_old_crash[5], g_old_leave[3], g_old_other[3];

// Async-signal-safe.
void restore_now() {
  if (!g_raw) return;
  g_raw = 0;
  ::tcsetattr(g_fd, TCSANOW, &g_saved);
  ssize_t ignored = ::write(1, kPasteOff, sizeof kPasteOff - 1);
  (void)ignored;
}

void wake(unsigned ev) {
  g_events = g_events | static_cast<sig_atomic_t>(ev);
  int saved = errno;
  ssize_t ignored = ::write(g_pipe[1], "x", 1);
  (void)ignored;
  errno = saved;
}

void on_crash(int sig) {
  if (g_installed) {  // the shell's "Segmentation fault" and prompt on a line of their own
    ssize_t ignored = ::write(1, "\r\n", 2);
    (void)ignored;
  }
  restore_now();
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered when this handler returns: the default action, a core if wanted
}

void on_leave(int sig) {
  if (g_terminating) {  // asked twice: leave now
    restore_now();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  g_terminating = 1;
  g_interrupts = g_interrupts + 1;
  wake(Tty::kTerminate);
}

void on_other(int sig) {
  wake(sig == SIGWINCH ? Tty::kResize : sig == SIGTSTP ? Tty::kSuspend : Tty::kContinue);
}

void restore_at_exit() { restore_now(); }

template <size_t N>
void set_all(const int (&sigs)[N], void (*h)(int), struct sigaction (&old)[N], int flags) {
  for (size_t i = 0; i < N; ++i) {
    struct sigaction sa {};
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    sigaction(sigs[i], &sa, &old[i]);
  }
}

template <size_t N>
void put_back(const int (&sigs)[N], struct sigaction (&old)[N]) {
  for (size_t i = 0; i < N; ++i) sigaction(sigs[i], &old[i], nullptr);
}

}  // namespace

bool Tty::install(int fd, bool raw) {
  if (g_installed) return true;
  if (raw && ::tcgetattr(fd, &g_saved) != 0) return false;
  if (g_pipe[0] < 0 && ::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  g_fd = fd;
  g_raw_wanted = raw;
  static bool at_exit = false;
  if (!at_exit) {
    std::atexit(restore_at_exit);
    at_exit = true;
  }
  set_all(kCrash, on_crash, g_old_crash, 0);
  set_all(kLeave, on_leave, g_old_leave, 0);  // no SA_RESTART: a blocked read returns EINTR
  set_all(kOther, on_other, g_old_other, SA_RESTART);
  g_installed = 1;
  return true;
}

void Tty::uninstall() {
  if (!g_installed) return;
  leave_raw();
  put_back(kCrash, g_old_crash);
  put_back(kLeave, g_old_leave);
  put_back(kOther, g_old_other);
  g_installed = 0;
}

bool Tty::enter_raw() {
  if (!g_installed || !g_raw_wanted || g_raw) return g_raw;
  termios t = g_saved;
  t.c_iflag &= ~static_cast<tcflag_t>(BRKINT | ICRNL | INLCR | IGNCR | INPCK | ISTRIP | IXON);
  t.c_cflag |= CS8;
  t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | IEXTEN | ISIG);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  // Block the crash and leave handlers while switching, so that they see g_raw right.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  bool ok = ::tcsetattr(g_fd, TCSANOW, &t) == 0;
  if (ok) g_raw = 1;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  if (ok) write_all(1, kPasteOn);
  return ok;
}

void Tty::leave_raw(bool discard_input) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  if (discard_input && g_fd >= 0 && ::isatty(g_fd)) ::tcflush(g_fd, TCIFLUSH);
  restore_now();
  sigprocmask(SIG_SETMASK, &old, nullptr);
}

bool Tty::raw() const noexcept { return g_raw; }

int Tty::wake_fd() const noexcept { return g_pipe[0]; }

unsigned Tty::take_events() noexcept {
  char buf[64];
  while (::read(g_pipe[0], buf, sizeof buf) > 0) {
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  unsigned ev = static_cast<unsigned>(g_events);
  g_events = 0;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  return ev;
}

void Tty::suspend() {
  bool was_raw = g_raw;
  leave_raw();
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGTSTP, &dfl, &old);
  ::kill(::getpid(), SIGTSTP);  // stops here until SIGCONT (`fg`)
  sigaction(SIGTSTP, &old, nullptr);
  if (was_raw) enter_raw();
}

}  // namespace client
