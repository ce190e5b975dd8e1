#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"

namespace fleet::storage {

// One table's rows on both sides once the copy is done.
struct TableCopy {
  std::string table{};
  int64_t source_rows{};
  int64_t target_rows{};
};

// usage_daily's figures for one month and source, on both sides.
struct MonthTotals {
  std::string month{};   // YYYY-MM
  std::string source{};  // "pull" or "push"
  int64_t source_rows{}, source_total{}, source_failed{};
  int64_t target_rows{}, target_total{}, target_failed{};
  bool equal() const {
    return source_rows == target_rows && source_total == target_total &&
           source_failed == target_failed;
  }
};

struct CopyReport {
  std::vector<TableCopy> tables{};    // in copy order
  std::vector<MonthTotals> months{};  // by month, then source
  // Every table's row count and every month's totals are equal on both sides. The copy is
  // committed only then; otherwise it was rolled back and the target is as it was.
  bool verified{};
};

struct CopyToPostgresOptions {
  std::string sqlite_path{};   // an n8n-fleet SQLite database (migrated to this version first)
  std::string postgres_url{};  // postgresql://...; its tables are created if missing
  size_t batch_rows{1000};     // rows per INSERT statement
  // Called after each batch with the rows copied so far and the rows to copy in all.
  std::function<void(int64_t copied, int64_t total)> progress{};
};

// Copies every table that holds state (registry: meta, servers, api_keys, server_api_keys,
// signing_keys, api_tokens, instance_reports; usage_daily, usage_unrecoverable; runs,
// run_attempts; local workflows: workflows, workflow_mappings) from the SQLite database into the
// PostgreSQL one, ids preserved and sealed secrets as they are (still encrypted: the same master
// key opens them), in one PostgreSQL transaction, then compares row counts and per-month usage
// totals inside that transaction and commits only when they are equal. A row whose primary key is
// already present is replaced, so a second copy leaves the same data. Identity sequences are
// advanced past the highest id. The source is read in one snapshot, a batch at a time (memory
// stays bounded whatever its size). The derived tables (data_version, work queue, schedule slots)
// are not copied; the target's triggers bump its data version. Errors: kUnavailable when
// PostgreSQL cannot be reached, kAlreadyExists when the target holds other rows under the same
// names (migrate into an empty database), kIo otherwise; messages never carry the URL's password.
Result<CopyReport> CopySqliteToPostgres(const CopyToPostgresOptions& options);

}  // namespace fleet::storage
