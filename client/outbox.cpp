// outbox.cpp — see outbox.hpp.
#include "outbox.hpp"

#include <cstdlib>

#include "format.hpp"
#include "state_files.hpp"
#include "terminal.hpp"
#include "udp_sender.hpp"

namespace client {

std::string outbox_path() {
  std::string dir = state_dir([](const char* n) { return std::getenv(n); });
  return dir.empty() ? std::string() : dir + "/outbox";
}

std::string save_to_outbox(const std::string& server, uint64_t client_id,
                           const std::vector<std::pair<uint64_t, std::string>>& notes,
                           std::string& error) {
  std::string dir = state_dir([](const char* n) { return std::getenv(n); });
  if (!make_state_dir(dir, error)) return {};
  std::vector<OutboxEntry> add;
  for (const auto& [msg, text] : notes) add.push_back({server, client_id, msg, text});
  std::string path = dir + "/outbox";
  if (!outbox_add(path, add, error)) return {};
  return path;
}

int send_outbox(const Options& o, const std::string& server,
                const std::function<void(const std::string&)>& say) {
  std::string path = outbox_path();
  if (path.empty()) return kExitOk;
  auto tell = [&](const std::string& line) {
    if (say) say(line);
    else report(line);
  };
  int rc = kExitOk;
  for (const auto& group : outbox_for(path, server)) {
    // A run of consecutive message numbers per sender (the server takes them in order).
    size_t i = 0;
    while (i < group.size()) {
      size_t j = i + 1;
      while (j < group.size() && group[j].msg == group[j - 1].msg + 1) ++j;
      UdpSender u({8, o.timeout_s * 1000, 150, 2000, o.verbose, false});
      std::string error;
      if (!u.open(o.host, o.udp_port, error)) {
        tell(error);
        return kExitUnreachable;
      }
      u.resume(group[i].client_id, group[i].msg);
      std::vector<OutboxEntry> done;
      std::string seqs;
      size_t stored = 0;
      u.on_result = [&](const NoteResult& r) {
        const OutboxEntry& e = group[i + (r.msg - group[i].msg)];
        done.push_back(e);
        if (r.refused) {
          std::string text;
          append_terminal_safe(text, e.text.substr(0, 60));
          tell("note from the outbox refused by " + u.peer() + ": " + std::string(r.reason) +
               ": " + text);
          rc = kExitRefused;
          return;
        }
        ++stored;
        seqs += r.seq ? " #" + std::to_string(r.seq) : std::string(" (stored before)");
      };
      for (size_t k = i; k < j; ++k) {
        while (!u.add(group[k].text, k) && u.failure() == UdpSender::Failure::none) u.wait(100);
      }
      u.flush();
      while (!u.idle() && u.failure() == UdpSender::Failure::none) {
        u.wait(200);
        u.flush();
      }
      if (!done.empty() && !outbox_remove(path, done, error)) tell(error);
      if (stored)
        tell(group_thousands(stored) + (stored == 1 ? " note" : " notes") +
             " left pending by an earlier session stored:" + seqs);
      if (u.failure() != UdpSender::Failure::none) {
        tell(u.failure_message() + "; " + std::to_string(j - i - done.size()) +
             " notes stay in " + path);
        return u.failure() == UdpSender::Failure::unreachable ? kExitUnreachable : kExitNoAck;
      }
      i = j;
    }
  }
  return rc;
}

}  // namespace client
