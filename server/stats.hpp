// stats.hpp — Stats: the server's counters, reported by STATS as "name value" lines.
// Plain data; every component bumps its own counters.
#pragma once

#include <cstdint>

struct Stats {
  // UDP intake
  uint64_t udp_datagrams = 0;         // received from allowed sources
  uint64_t udp_marked_datagrams = 0;  // of which from the official client
  uint64_t udp_notes_accepted = 0;
  uint64_t udp_refused_empty = 0;
  uint64_t udp_refused_too_long = 0;
  uint64_t udp_refused_bad_utf8 = 0;
  uint64_t udp_refused_control = 0;
  uint64_t udp_refused_display = 0;
  uint64_t udp_refused_truncated = 0;
  uint64_t udp_refused_malformed = 0;
  uint64_t udp_refused_rate = 0;
  uint64_t udp_refused_store = 0;
  uint64_t udp_duplicates = 0;        // retried notes answered from the exactly-once table
  uint64_t udp_out_of_order = 0;      // marked datagrams answered WAIT
  uint64_t udp_dropped_allow = 0;     // from sources outside --allow, unanswered
  uint64_t udp_replies_dropped = 0;   // replies lost to a full send queue
  // TCP
  uint64_t tcp_accepted = 0;
  uint64_t tcp_refused_allow = 0;
  uint64_t tcp_refused_busy = 0;
  uint64_t tcp_accept_errors = 0;
  uint64_t tcp_closed_idle = 0;
  uint64_t tcp_closed_stalled = 0;    // output made no progress / follower backlog too big
  uint64_t tcp_closed_line_too_long = 0;
  uint64_t tcp_commands = 0;
  uint64_t tcp_history_bytes = 0;
  // store
  uint64_t store_commits = 0;
  uint64_t store_syncs = 0;
  uint64_t store_append_failures = 0;
};
