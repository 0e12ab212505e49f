// session.hpp — Session: the interactive `dailynet` on a terminal. Every past note first
// (through a pager opened at the newest when longer than the screen), then one poll() loop
// over the keyboard, the UDP sender, a FOLLOW connection and the signal pipe (tty.hpp):
//  * keys go through the pure line editor (line_editor.hpp); pasted text — bracketed paste,
//    or several lines in one read — is notes, one per line, never commands;
//  * notes go through one UdpSender that never gives up: one not acknowledged for a moment
//    shows as "N pending" in the prompt and is retried with its original marking; one still
//    pending is written to the outbox (outbox.hpp) at once — write-ahead, so that a kill -9
//    or a crash loses nothing — and removed from it when acknowledged; the next run sends
//    what is left there first;
//  * a refused note comes back on the line with the reason above it;
//  * notes stored by others (FOLLOW, resumed after a drop) appear above the prompt and the
//    line being typed is drawn again intact;
//  * long command output goes through the pager.
// With TERM unset or dumb, plain lines are read (no editing) and the other rules hold.
// session.cpp: start, loop, keys; session_io.cpp: drawing, sending, commands;
// session_follow.cpp: live notes (FOLLOW).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "../common/filters.hpp"
#include "format.hpp"
#include "interactive.hpp"
#include "line_editor.hpp"
#include "options.hpp"
#include "tcp_client.hpp"
#include "tty.hpp"
#include "udp_sender.hpp"

namespace client {

extern const char kSessionHelp[];
// The ADDR field of a note line "SEQ\tTIME\tADDR\tTEXT" (empty when it has none).
std::string_view note_addr(std::string_view line) noexcept;
// "1 note", "1,024 notes"
std::string counted_notes(size_t n);

class Session {
 public:
  explicit Session(const Options& o);
  int run();

 private:
  // session.cpp
  int show_history();
  int loop();
  bool wait_and_dispatch();
  void on_signals(unsigned events);
  void on_terminal_input();
  void on_key(const Key& k);
  void on_enter();
  void on_paste(const std::string& text);
  void answer_paste_question(bool yes);
  void send_lines(std::vector<std::string> lines);
  void run_command(const ReplInput& in, const std::string& line);
  int finish();

  // session_io.cpp
  std::string prompt(int& width) const;
  void draw();
  void commit_line();
  void clear_line(std::string& out);
  void above(const std::string& text);
  void report_above(const std::string& message);
  void show_output(const std::string& text);
  bool open_sender();
  std::string dim_text(std::string_view safe) const;
  void send_note(const std::string& text);
  void pump_queue();
  void on_result(const NoteResult& r);
  void flush_acks();
  size_t pending_visible() const;
  void journal_pending(bool add_pending);
  // session_follow.cpp
  void open_follow();
  void follow_retry();
  void on_follow_event(short revents);
  void on_follow_connected();
  void on_probe_end();
  void on_follow_readable();
  Filters after_shown() const;
  void sync();
  void who();
  void notes_from(const std::string& addr);
  void find(const std::string& text, bool today);
  void save_recall();

  const Options& o_;
  bool editor_;       // line editor (a terminal that is not dumb); else plain lines
  bool tty_out_;
  bool color_;
  bool utf8_;
  int rows_ = 0, cols_ = 0;
  Tty tty_;
  InputDecoder decoder_;
  LineBuffer line_;
  Recall recall_;
  std::string recall_path_;
  int cursor_row_ = 0;
  bool dirty_ = false;  // keys changed the line since it was drawn  // where the last draw left the cursor, rows below the prompt's first
  std::string plain_in_;  // plain mode: bytes of an unfinished line
  bool plain_prompt_shown_ = false;  // plain mode: the prompt is on the current line

  NotePrinter printer_;
  uint64_t last_shown_ = 0;  // the newest seq shown (or seen by FOLLOW)
  std::unique_ptr<UdpSender> sender_;
  std::string own_addr_;     // our UDP address as the server sees it: live display skips it
  std::deque<std::string> queue_;     // notes waiting for room in the sender's window
  std::deque<int64_t> sent_at_ms_;    // when each unsettled note was handed to the sender
  std::vector<uint64_t> acks_;        // seqs acknowledged this turn, shown in one line
  // Write-ahead outbox (issue 12: nothing typed is lost, even by kill -9): every note with a
  // message number below journaled_below_ that was unsettled when written is in the outbox;
  // journal_settled_: those of them settled since (removed next turn).
  uint64_t journaled_below_ = 0;
  std::vector<uint64_t> journal_settled_;
  bool journal_failed_said_ = false;
  size_t max_note_ = UdpSender::kMaxNote;  // learnt from the server's "note too long"
  std::vector<std::string> ask_lines_;     // a long paste waiting for y/N

  // Live notes: off (waiting to retry), connecting (non-blocking connect pending), probing
  // (HISTORY LAST 1 sent: is it still the store we showed?), following, or dead (refused).
  enum class FollowState { off, connecting, probing, following, dead };
  TcpClient follow_;
  FollowState follow_state_ = FollowState::off;
  std::vector<SockAddr> follow_addrs_;  // resolved once
  bool follow_lost_said_ = false;
  int64_t follow_retry_ms_ = 0, follow_deadline_ms_ = 0;
  int follow_backoff_ms_ = 100;
  uint64_t probe_newest_ = 0;  // the server's newest seq, as the probe said it

  bool leaving_ = false;
  int worst_ = kExitOk;
};

}  // namespace client
