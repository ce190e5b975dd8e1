#include "collector/store_sink.h"

#include <set>
#include <string>

namespace fleet::collector {

void StoreSink::Accept(ServerOutcome outcome) {
  if (!owner_.empty()) {
    Unit unit{outcome.server, {}};
    for (const auto& day : outcome.days) {
      std::string state = day.figures ? "done" : day.unrecoverable ? "unrecoverable" : "failed";
      unit.days.push_back({FormatDay(day.day), std::move(state)});
    }
    units_.push_back(std::move(unit));
  }
  for (auto& day : outcome.days) {
    day.attempt.run_id = run_id_;
    if (day.figures) {
      DailyUsage row;
      row.server = outcome.server;
      row.day = FormatDay(day.day);
      row.total = day.figures->total;
      row.failed = day.figures->failed;
      row.failure_rate = day.figures->failure_rate;
      row.time_saved_minutes = day.figures->time_saved_minutes;
      row.average_run_time_ms = day.figures->average_run_time_ms;
      row.raw_json = std::move(day.raw_json);
      row.collected_at = day.attempt.at;
      row.run_id = run_id_;
      rows_.push_back(std::move(row));
    } else if (day.unrecoverable) {
      unrecoverable_.push_back(
          {outcome.server, FormatDay(day.day), day.attempt.message, day.attempt.at});
    }
    attempts_.push_back(std::move(day.attempt));
  }
  if (++pending_servers_ >= batch_servers_) Flush();
}

// Drops what belongs to servers removed while they were being collected (their rows would
// fail the whole batch with kNotFound); true if anything was dropped.
bool StoreSink::DropRemovedServers() {
  std::set<std::string> names;
  for (const auto& row : rows_) names.insert(row.server);
  for (const auto& day : unrecoverable_) names.insert(day.server);
  for (const auto& unit : units_) names.insert(unit.server);
  std::set<std::string> removed;
  for (const auto& name : names) {
    auto server = store_.GetServer(name);
    if (!server && server.error().code == ErrorCode::kNotFound) removed.insert(name);
  }
  if (removed.empty()) return false;
  auto gone = [&](const std::string& name) { return removed.count(name) > 0; };
  std::erase_if(rows_, [&](const DailyUsage& row) { return gone(row.server); });
  std::erase_if(unrecoverable_, [&](const UnrecoverableDay& day) { return gone(day.server); });
  std::erase_if(units_, [&](const Unit& unit) { return gone(unit.server); });
  return true;
}

void StoreSink::Flush() {
  if (rows_.empty() && attempts_.empty() && unrecoverable_.empty() && units_.empty()) return;
  int64_t lost = 0;
  auto write = [&] {
    return store_.Transaction([&]() -> Result<void> {
      lost = 0;
      if (auto ok = store_.UpsertDailyUsage(rows_); !ok) return ok;
      for (const auto& day : unrecoverable_) {
        if (auto ok = store_.MarkUnrecoverable(day); !ok) return ok;
      }
      if (auto ok = store_.RecordAttempts(attempts_); !ok) return ok;
      for (const auto& unit : units_) {
        auto finished = store_.FinishWork(owner_, run_id_, unit.server, unit.days);
        if (finished) continue;
        if (finished.error().code != ErrorCode::kFailedPrecondition) return finished;
        ++lost;  // another collector holds it now; the figures are as good as theirs
      }
      return {};
    });
  };
  auto written = write();
  if (!written && written.error().code == ErrorCode::kNotFound && DropRemovedServers()) {
    written = write();
  }
  if (written) lost_leases_ += lost;
  if (written) {
    days_stored_ += static_cast<int64_t>(rows_.size());
    days_unrecoverable_ += static_cast<int64_t>(unrecoverable_.size());
    days_failed_ += static_cast<int64_t>(attempts_.size() - rows_.size() - unrecoverable_.size());
  } else {
    if (!write_error_) write_error_ = written.error();
    days_failed_ += static_cast<int64_t>(attempts_.size());
  }
  rows_.clear();
  attempts_.clear();
  unrecoverable_.clear();
  units_.clear();
  pending_servers_ = 0;
}

}  // namespace fleet::collector
