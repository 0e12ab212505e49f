// close_reason_test.cpp — server/close_reason: the errno classifier (peer gone vs local errors,
// EINTR and EAGAIN), each reason's log text and STATS counter, which closes are logged.
#include <doctest/doctest.h>

#include <cerrno>
#include <set>
#include <string>

#include "../../server/close_reason.hpp"

namespace {

constexpr CloseReason kAll[] = {
#define DAILYNET_X(id, text, counter) CloseReason::id,
    DAILYNET_CLOSE_REASONS(DAILYNET_X)
#undef DAILYNET_X
};

}  // namespace

TEST_CASE("close reason: the errno classifier sorts retry, again, the peer's and local errors") {
  CHECK(classify_socket_errno(EINTR) == ErrnoKind::retry);
  CHECK(classify_socket_errno(EAGAIN) == ErrnoKind::again);
  CHECK(classify_socket_errno(EWOULDBLOCK) == ErrnoKind::again);
  for (int e : {ECONNRESET, EPIPE, ENOTCONN, ETIMEDOUT, ECONNABORTED, EHOSTUNREACH, ENETUNREACH,
                ENETDOWN}) {
    INFO("errno " << e);
    CHECK(classify_socket_errno(e) == ErrnoKind::peer_gone);
  }
  // Not the peer's doing: a bug (EBADF, EFAULT, EINVAL, ENOTSOCK), memory (ENOMEM, ENOBUFS),
  // the disk under sendfile (EIO), and anything unknown.
  for (int e : {EBADF, EFAULT, EINVAL, ENOTSOCK, ENOMEM, ENOBUFS, EIO, EMSGSIZE, EACCES, 0,
                99999}) {
    INFO("errno " << e);
    CHECK(classify_socket_errno(e) == ErrnoKind::local);
  }
}

TEST_CASE("close reason: one text each; the peer's and the protocol's closes are quiet") {
  std::set<std::string> texts;
  for (CloseReason r : kAll) {
    INFO(to_string(r));
    CHECK(texts.insert(to_string(r)).second);
    CHECK(std::string(to_string(r)).size() > 3);
    const bool quiet = r == CloseReason::none || r == CloseReason::peer_reset;
    CHECK(is_logged(r) == !quiet);
    // Every logged close is counted somewhere in STATS; quiet ones nowhere.
    CHECK((close_counter(r) != nullptr) == !quiet);
  }
  // The texts the log has always used (tests and operators grep for them).
  CHECK(std::string(to_string(CloseReason::peer_reset)) == "connection reset by peer");
  CHECK(std::string(to_string(CloseReason::idle)) == "idle");
  CHECK(std::string(to_string(CloseReason::output_stalled)) == "output stalled");
  CHECK(std::string(to_string(CloseReason::follower_backlog)) == "follower backlog over 16 MiB");
  CHECK(std::string(to_string(CloseReason::events_backlog)) ==
        "event stream backlog over 16 MiB");
  CHECK(std::string(to_string(CloseReason::line_too_long)) == "line too long");
}

TEST_CASE("close reason: each counted close bumps the counter README documents for it") {
  CHECK(close_counter(CloseReason::idle) == &Stats::tcp_closed_idle);
  CHECK(close_counter(CloseReason::line_too_long) == &Stats::tcp_closed_line_too_long);
  for (CloseReason r : {CloseReason::output_stalled, CloseReason::follower_backlog,
                        CloseReason::events_backlog, CloseReason::request_incomplete,
                        CloseReason::closing_stalled})
    CHECK(close_counter(r) == &Stats::tcp_closed_stalled);
  CHECK(close_counter(CloseReason::socket_error) == &Stats::tcp_closed_error);
  CHECK(close_counter(CloseReason::store_read_failed) == &Stats::tcp_closed_error);
}
