// close_reason.hpp — why the server ends a TCP connection (line protocol or HTTP), sorted in
// one place: the reasons, their log text, the STATS counter each one bumps, and the errno
// classifier for a connected socket (as muduo's SocketsOps sorts errno once). Pure: no I/O.
// TcpSession records the reason; Server::close_finished logs and counts it when the session
// goes. To add a reason: one line in DAILYNET_CLOSE_REASONS (tests/unit/close_reason_test.cpp
// checks that each has a text and a counter unless it is a peer's or the protocol's doing).
#pragma once

#include <cstdint>

#include "stats.hpp"

// X(id, "log text", counter): counter is the Stats field the close bumps, or nullptr. Every
// reason except none and peer_reset is logged ("closed PEER: text[: detail]").
#define DAILYNET_CLOSE_REASONS(X)                                                           \
  /* The protocol ended it: the peer's EOF, QUIT/BYE, an HTTP close, the server's stop. */ \
  X(none, "closed", nullptr)                                                               \
  /* The peer is gone: recv/send/sendfile said so (classify_socket_errno: peer_gone). */   \
  X(peer_reset, "connection reset by peer", nullptr)                                       \
  X(idle, "idle", &Stats::tcp_closed_idle)                                                 \
  X(line_too_long, "line too long", &Stats::tcp_closed_line_too_long)                      \
  X(output_stalled, "output stalled", &Stats::tcp_closed_stalled)                          \
  X(follower_backlog, "follower backlog over 16 MiB", &Stats::tcp_closed_stalled)          \
  X(events_backlog, "event stream backlog over 16 MiB", &Stats::tcp_closed_stalled)        \
  X(request_incomplete, "request not complete within --idle-timeout",                      \
    &Stats::tcp_closed_stalled)                                                            \
  X(closing_stalled, "last output not taken within 2 s of closing",                        \
    &Stats::tcp_closed_stalled)                                                            \
  /* recv/send failed with an errno that is not the peer's doing (classify: local). */     \
  X(socket_error, "socket error", &Stats::tcp_closed_error)                                \
  /* notes.log could not give a FOLLOW or a cut HISTORY line its bytes. */                 \
  X(store_read_failed, "store read failed", &Stats::tcp_closed_error)

enum class CloseReason : uint8_t {
#define DAILYNET_X(id, text, counter) id,
  DAILYNET_CLOSE_REASONS(DAILYNET_X)
#undef DAILYNET_X
};

// The log text of r ("output stalled"); never nullptr.
const char* to_string(CloseReason r) noexcept;

// The Stats counter a close for r bumps (++(stats.*close_counter(r))), or nullptr (none,
// peer_reset).
using StatCounter = uint64_t Stats::*;
StatCounter close_counter(CloseReason r) noexcept;

// True when a close for r gets a log line: everything but none and peer_reset.
bool is_logged(CloseReason r) noexcept;

// What an errno from recv/send/sendfile on a connected socket means (the one errno switch):
//   retry      EINTR: call again;
//   again      EAGAIN/EWOULDBLOCK: nothing now, wait for readiness;
//   peer_gone  ECONNRESET, EPIPE, ENOTCONN, ETIMEDOUT, ECONNABORTED, EHOSTUNREACH,
//              ENETUNREACH, ENETDOWN: the peer or the path to it is gone — close quietly;
//   local      anything else (ENOMEM, ENOBUFS, EBADF, EFAULT, EINVAL, EIO, ...): not the
//              peer's doing — close, log with the errno text, count.
enum class ErrnoKind : uint8_t { retry, again, peer_gone, local };
ErrnoKind classify_socket_errno(int e) noexcept;
