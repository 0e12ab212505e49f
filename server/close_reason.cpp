// close_reason.cpp — see close_reason.hpp.
#include "close_reason.hpp"

#include <cerrno>

namespace {

struct Row {
  const char* text;
  StatCounter counter;
};

constexpr Row kRows[] = {
#define DAILYNET_X(id, text, counter) {text, counter},
    DAILYNET_CLOSE_REASONS(DAILYNET_X)
#undef DAILYNET_X
};

const Row& row(CloseReason r) noexcept { return kRows[static_cast<size_t>(r)]; }

}  // namespace

const char* to_string(CloseReason r) noexcept { return row(r).text; }

StatCounter close_counter(CloseReason r) noexcept { return row(r).counter; }

bool is_logged(CloseReason r) noexcept {
  return r != CloseReason::none && r != CloseReason::peer_reset;
}

ErrnoKind classify_socket_errno(int e) noexcept {
  switch (e) {
    case EINTR:
      return ErrnoKind::retry;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return ErrnoKind::again;
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case ETIMEDOUT:
    case ECONNABORTED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
      return ErrnoKind::peer_gone;
    default:
      return ErrnoKind::local;
  }
}
