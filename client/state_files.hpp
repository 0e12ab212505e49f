// state_files.hpp — what the client keeps between runs, in $XDG_STATE_HOME/dailynet (else
// ~/.local/state/dailynet), every file mode 0600 in a 0700 directory:
//  * history — the lines typed in the interactive session, for Up/Down recall: one per line,
//    oldest first, at most kHistoryMax (older ones dropped);
//  * outbox — notes a session had sent but not seen acknowledged when it ended. They are sent
//    first, exactly once, by the next `dailynet` or `dailynet send` to the same server: with
//    their original client id and message numbers, so that a server which had stored them
//    answers with their seqs instead of storing them again. One note per line, tab-separated:
//      SERVER \t CLIENT_ID(16 hex) \t MESSAGE_NUMBER \t TEXT
//      127.0.0.1:9527	9f3c0a5e12b4d6e8	3	bought milk
//    (a note never holds a TAB or a line end; lines starting with '#' are comments).
// Files are replaced whole (temporary file + rename); the outbox is locked (flock) while it
// is read and rewritten. Parsing and formatting are pure; the rest is file I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "options.hpp"

namespace client {

inline constexpr size_t kHistoryMax = 1000;

// The state directory; "" when neither XDG_STATE_HOME nor HOME is set (nothing is kept).
std::string state_dir(const EnvLookup& env);
// Creates it (mode 0700) with its parents; false with a reason in error.
bool make_state_dir(const std::string& dir, std::string& error);

std::vector<std::string> load_history(const std::string& path, size_t max = kHistoryMax);
bool save_history(const std::string& path, const std::vector<std::string>& entries,
                  std::string& error);

struct OutboxEntry {
  std::string server;  // "IP:PORT" of the UDP server, as the sender connected to it
  uint64_t client_id = 0;
  uint64_t msg = 0;
  std::string text;
  bool operator==(const OutboxEntry&) const = default;
};

std::string format_outbox(const std::vector<OutboxEntry>& entries);
// Malformed lines are skipped.
std::vector<OutboxEntry> parse_outbox(std::string_view text);

// Adds entries to the outbox file (created 0600).
bool outbox_add(const std::string& path, const std::vector<OutboxEntry>& add, std::string& error);
// The entries for server, grouped by client id, each group in message order.
std::vector<std::vector<OutboxEntry>> outbox_for(const std::string& path, const std::string& server);
// Removes these entries (matched by server, client id and message number).
bool outbox_remove(const std::string& path, const std::vector<OutboxEntry>& done,
                   std::string& error);

}  // namespace client
