// store_recover.cpp — Store's recovery at open: scan (store_scan.hpp), then cut a torn tail
// or repair damage, moving every byte cut to a new side file first (store_io.hpp), and write
// a commit mark where one is missing. Nothing is deleted: a side file is written and synced
// before the bytes it holds are cut from the store.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "store.hpp"
#include "store_io.hpp"
#include "store_scan.hpp"

using store_io::errno_text;

void Store::unmap() noexcept {
  if (map_) ::munmap(const_cast<char*>(map_), map_len_);
  map_ = nullptr;
  map_len_ = 0;
  std::vector<uint64_t>().swap(rec_client_);  // "= {}" would keep the capacity (8 B a note)
  std::vector<uint64_t>().swap(rec_msg_);
}

bool Store::recover(bool repair_damage, RecoveryReport& report, std::string& error) {
  struct stat ls, cs;
  if (::fstat(log_.get(), &ls) != 0 || ::fstat(chk_.get(), &cs) != 0) {
    error = "cannot stat the store in " + dir_ + ": " + errno_text(errno);
    return false;
  }
  std::string chk;
  if (!store_io::read_file(chk_.get(), static_cast<uint64_t>(cs.st_size), chk, chk_path_,
                           error))
    return false;
  unmap();
  map_len_ = static_cast<size_t>(ls.st_size);
  if (map_len_ > 0) {
    void* m = ::mmap(nullptr, map_len_, PROT_READ, MAP_SHARED, log_.get(), 0);
    if (m == MAP_FAILED) {
      error = "cannot map " + log_path_ + ": " + errno_text(errno);
      map_len_ = 0;
      return false;
    }
    ::madvise(m, map_len_, MADV_SEQUENTIAL);
    map_ = static_cast<const char*>(m);
  }
  std::string_view log(map_, map_len_);
  ScanResult s = scan_store(log, chk);

  if (s.verdict == ScanResult::Verdict::damaged) {
    if (!repair_damage) {
      error = dir_ + "/" + s.damage_file + " is damaged at byte " +
              std::to_string(s.damage_offset) + ": " + s.damage_what +
              "; start with --repair to move the damaged bytes to a side file and keep "
              "every intact note";
      return false;
    }
    if (!repair(log, chk, report, error)) return false;
    return recover(false, report, error);  // the rewritten store must now scan clean
  }
  if (s.verdict == ScanResult::Verdict::torn && !cut_torn(s, log, chk, report, error))
    return false;

  std::string fresh;  // records to append after the kept ones
  if (s.rebuilt) {
    report.rebuilt_checks = true;
    for (size_t i = 0; i < s.offsets.size(); ++i) {
      uint64_t end = i + 1 < s.offsets.size() ? s.offsets[i + 1] : s.log_keep;
      append_record(fresh, make_record(s.seqs[i], s.offsets[i],
                                       log.substr(s.offsets[i], end - s.offsets[i]), 0, 0));
    }
  }
  if (s.needs_mark) {
    report.marked = !s.rebuilt && s.verdict == ScanResult::Verdict::clean;
    append_record(fresh, make_mark(s.log_keep, 0, s.seq_floor));
  }
  int err = 0;
  if (!fresh.empty() &&
      (!store_io::write_all_at(chk_.get(), fresh.data(), fresh.size(), s.chk_keep, err) ||
       ::fdatasync(chk_.get()) != 0)) {
    error = "cannot write " + chk_path_ + ": " + errno_text(err ? err : errno);
    return false;
  }
  chk_size_ = s.chk_keep + fresh.size();
  log_size_ = s.log_keep;
  offsets_.assign(s.offsets);
  seqs_.assign(s.seqs);
  rec_client_ = std::move(s.client_ids);
  rec_msg_ = std::move(s.msgs);
  last_seq_ = std::max(s.seq_floor, seqs_.empty() ? 0 : seqs_.back());
  return true;
}

bool Store::cut_torn(const ScanResult& s, std::string_view log, std::string_view chk,
                     RecoveryReport& report, std::string& error) {
  report.torn_offset = s.log_keep;
  report.torn_bytes = log.size() - s.log_keep;
  report.torn_records = (chk.size() - s.chk_keep + kRecordSize - 1) / kRecordSize;
  if (report.torn_bytes &&
      !store_io::write_side_file(dir_, "notes.log", "torn", log.substr(s.log_keep),
                                 report.torn_log_to, error))
    return false;
  if (report.torn_records &&
      !store_io::write_side_file(dir_, "notes.chk", "torn", chk.substr(s.chk_keep),
                                 report.torn_chk_to, error))
    return false;
  if (::ftruncate(log_.get(), static_cast<off_t>(s.log_keep)) != 0 ||
      ::ftruncate(chk_.get(), static_cast<off_t>(s.chk_keep)) != 0 ||
      ::fdatasync(log_.get()) != 0 || ::fdatasync(chk_.get()) != 0) {
    error = "cannot cut the torn tail of the store in " + dir_ + ": " + errno_text(errno);
    return false;
  }
  return true;
}

bool Store::repair(std::string_view log, std::string_view chk, RecoveryReport& report,
                   std::string& error) {
  RepairResult r = repair_store(log, chk);
  report.repaired_bytes = r.damaged.size();
  if (!r.damaged.empty() &&
      !store_io::write_side_file(dir_, "notes.log", "damaged", r.damaged, report.repaired_to,
                                 error))
    return false;
  // The old records are replaced by new ones: keep them whole, as found.
  if (!chk.empty() && !store_io::write_side_file(dir_, "notes.chk", "damaged", chk,
                                                 report.repaired_chk_to, error))
    return false;
  return rewrite(r.log, r.chk, error);
}

bool Store::rewrite(const std::string& log, const std::string& chk, std::string& error) {
  // A crash between the two renames leaves the new notes.log beside the old notes.chk: the
  // next start finds them mismatched (damage) and --repair does the same again, with the
  // seq floor of the old marks intact. (Never a missing notes.chk: that would lose it.)
  std::string log_tmp = log_path_ + ".tmp", chk_tmp = chk_path_ + ".tmp";
  if (!store_io::write_file(log_tmp, log, error) || !store_io::write_file(chk_tmp, chk, error))
    return false;
  unmap();
  if (::rename(log_tmp.c_str(), log_path_.c_str()) != 0 ||
      ::rename(chk_tmp.c_str(), chk_path_.c_str()) != 0) {
    error = "cannot replace the store files in " + dir_ + ": " + errno_text(errno);
    return false;
  }
  store_io::fsync_dir(dir_);
  log_.reset(::open(log_path_.c_str(), O_RDWR | O_CLOEXEC));
  chk_.reset(::open(chk_path_.c_str(), O_RDWR | O_CLOEXEC));
  if (!log_.valid() || !chk_.valid()) {
    error = "cannot reopen the store in " + dir_ + ": " + errno_text(errno);
    return false;
  }
  return true;
}

std::vector<std::string> describe_recovery(const RecoveryReport& r, const std::string& log_path,
                                           size_t count) {
  std::vector<std::string> out;
  const std::string dir = log_path.substr(0, log_path.rfind('/'));
  if (r.stale_lock_pid)
    out.push_back(dir + "/LOCK named pid " + std::to_string(r.stale_lock_pid) +
                  ", a server that ended without stopping (killed or crashed): taking it");
  if (r.torn_bytes || r.torn_records) {
    std::string line = log_path + ": torn tail cut at byte " + std::to_string(r.torn_offset) +
                       ": " + std::to_string(r.torn_bytes) + " bytes";
    if (!r.torn_log_to.empty()) line += " moved to " + r.torn_log_to;
    if (r.torn_records)
      line += ", " + std::to_string(r.torn_records) + " check records moved to " +
              r.torn_chk_to;
    out.push_back(line + " (after the last complete group commit: a crash mid-write, never "
                         "acknowledged)");
  }
  if (r.rebuilt_checks)
    out.push_back("notes.chk was missing: rebuilt from " + log_path +
                  " (retries of notes sent before cannot be recognised)");
  if (r.marked)
    out.push_back("notes.chk: commit mark added (a store written before commit marks)");
  if (!r.repaired_to.empty() || !r.repaired_chk_to.empty())
    out.push_back("repair: moved " + std::to_string(r.repaired_bytes) + " damaged bytes of " +
                  log_path + (r.repaired_to.empty() ? "" : " to " + r.repaired_to) +
                  (r.repaired_chk_to.empty() ? "" : " and the old notes.chk to " +
                                                        r.repaired_chk_to) +
                  "; kept " + std::to_string(count) + " intact notes");
  return out;
}
