// outbox.hpp — the outbox at work (state_files.hpp has its file format): the interactive
// session writes its unacknowledged notes there when it ends; the next `dailynet` or
// `dailynet send` to the same server sends them first, each with its original client id and
// message number, so that they are stored exactly once however often this is tried.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "options.hpp"

namespace client {

// $XDG_STATE_HOME/dailynet/outbox (or under ~/.local/state); "" when there is no state dir.
std::string outbox_path();

// Adds notes (message number, text) of one sender to the outbox. Returns the path written,
// "" with error set on failure.
std::string save_to_outbox(const std::string& server, uint64_t client_id,
                           const std::vector<std::pair<uint64_t, std::string>>& notes,
                           std::string& error);

// Sends the outbox's notes for server ("IP:PORT", as UdpSender::peer() says it) and removes
// those the server settled. say: one line per event for people (nullptr: reports on
// stderr). Returns kExitOk, or the exit status of a failure (the notes stay in the outbox).
int send_outbox(const Options& o, const std::string& server,
                const std::function<void(const std::string&)>& say);

}  // namespace client
