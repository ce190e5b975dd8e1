#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/engine.h"
#include "core/error.h"
#include "storage/store.h"

namespace fleet::collector {

// Writes finished servers to the store in batched transactions: the day rows (upserts: a
// re-collected day replaces its row), the attempts, and the unrecoverable marks, together, so a
// crash loses at most the unflushed batch, which the next run collects again. With a work-queue
// `owner`, each server's work unit is finished in the same transaction (Store::FinishWork).
class StoreSink final : public ResultSink {
 public:
  StoreSink(storage::Store& store, int64_t run_id, size_t batch_servers = 256,
            std::string owner = "")
      : store_(store), run_id_(run_id), batch_servers_(batch_servers), owner_(std::move(owner)) {}

  void Accept(ServerOutcome outcome) override;
  // Writes what is pending. The first write error is kept (later batches are still tried).
  void Flush();

  const std::optional<Error>& write_error() const { return write_error_; }
  int64_t days_stored() const { return days_stored_; }
  int64_t days_failed() const { return days_failed_; }
  int64_t days_unrecoverable() const { return days_unrecoverable_; }
  // Servers whose unit another collector had claimed again by the time they were stored (their
  // figures are stored all the same: a day is upserted, never added).
  int64_t lost_leases() const { return lost_leases_; }

 private:
  bool DropRemovedServers();

  storage::Store& store_;
  int64_t run_id_;
  size_t batch_servers_;
  std::string owner_;
  struct Unit {
    std::string server{};
    std::vector<storage::WorkDayResult> days{};
  };
  std::vector<Unit> units_;
  size_t pending_servers_{0};
  std::vector<DailyUsage> rows_;
  std::vector<FetchAttempt> attempts_;
  std::vector<UnrecoverableDay> unrecoverable_;
  std::optional<Error> write_error_;
  int64_t days_stored_{0};
  int64_t days_failed_{0};
  int64_t days_unrecoverable_{0};
  int64_t lost_leases_{0};
};

}  // namespace fleet::collector
