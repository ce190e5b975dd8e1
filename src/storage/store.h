#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"

namespace fleet::storage {

struct ServerFilter {
  std::optional<std::string> customer{};
  bool active_only{false};
};

// What a bulk upsert did, row by row.
struct UpsertCounts {
  int64_t created{};
  int64_t updated{};
  int64_t unchanged{};
};

struct UsageFilter {
  std::optional<std::string> server{};
  std::optional<std::string> customer{};
  std::string from_day{};      // inclusive, "" = open
  std::string to_day{};        // inclusive, "" = open
  std::string source{"pull"};  // "pull", "push" or "" (both)
};

enum class GroupBy { kCustomer, kServer };

struct MonthlyRow {
  std::string group{};     // customer name ("" = none) or server name
  std::string customer{};  // the customer (same as group when grouping by customer)
  int64_t servers{};       // servers contributing
  int64_t total{};
  int64_t failed{};
  int64_t days_collected{};  // (server, day) rows present
  int64_t days_expected{};   // (server, day) pairs that should be present
  // Instance-reported (push) figures for the same group and range, beside the pulled ones.
  int64_t push_total{};
  int64_t push_days{};      // (server, day) push rows present
  int64_t disagreements{};  // (server, day) with both a pull and a push row whose totals differ
};

// ---- the work queue (several collectors over one database)

// One (server, day) to collect in a run.
struct WorkItem {
  std::string server{};  // name
  std::string day{};     // YYYY-MM-DD
};

// A server whose pending days of a run were leased to one collector.
struct WorkClaim {
  int64_t run_id{};
  Server server{};                  // as stored now
  std::vector<std::string> days{};  // its pending days in that run, ascending
};

struct ClaimRequest {
  std::string owner{};  // who claims: unique per process (host, pid, random)
  int64_t run_id{};     // only this run's work; 0 = any run still running, oldest run first
  int64_t now{};
  int64_t lease_seconds{300};
  int max_servers{64};
};

// How a day ended: "done" (stored), "unrecoverable" (beyond the instance's history), "failed".
struct WorkDayResult {
  std::string day{};
  std::string state{};
};

// A run's work, by server (the lease unit) and by (server, day).
struct WorkProgress {
  int64_t servers_total{};
  int64_t servers_pending{};  // not finished (leased or not)
  int64_t servers_leased{};   // pending with a lease that has not expired at `now`
  int64_t servers_done{};     // every day done or unrecoverable
  int64_t servers_failed{};   // finished with at least one failed day
  int64_t servers_cancelled{};
  int64_t days_done{};
  int64_t days_failed{};
  int64_t days_unrecoverable{};
};

struct StoreStatus {
  std::string backend{};   // "sqlite" or "postgresql"
  std::string location{};  // file path (or URL without password)
  int64_t size_bytes{};
  int schema_version{};
  int64_t servers{};
  int64_t api_keys{};
  int64_t links{};
  int64_t signing_keys{};
  int64_t usage_rows{};  // usage_daily rows, every source
  int64_t runs{};
};

// The registry's persistence. Implementations: SQLite (sqlite_store.h); PostgreSQL later, behind
// the same contract test suite. Names are compared exactly (byte-wise). Times are unix seconds.
// Errors: kNotFound for a missing name, kAlreadyExists for a taken one, kIo for database
// failures (message names the operation), kCorrupt for a file that is not a database.
class Store {
 public:
  virtual ~Store() = default;

  // Runs `body` atomically: every change it makes through this store lands, or none does (the
  // body returning an error rolls back). Nests (savepoints).
  [[nodiscard]] virtual Result<void> Transaction(const std::function<Result<void>()>& body) = 0;

  // ---- servers
  // Fills id, created_at, updated_at from the store (created_at = updated_at = `now`).
  virtual Result<Server> CreateServer(const Server& server, int64_t now) = 0;
  virtual Result<Server> GetServer(std::string_view name) = 0;
  virtual Result<std::vector<Server>> ListServers(const ServerFilter& filter) = 0;  // by name
  // Replaces every column but id/name/created_at of the server named `server.name`.
  [[nodiscard]] virtual Result<void> UpdateServer(const Server& server, int64_t now) = 0;
  // Deletes the server, its links, its report tokens, its instance reports and its workflow
  // mappings (its usage rows, pulled and pushed, stay). With `delete_exclusive_keys`, also
  // deletes the keys that were linked to this server only; returns the names of deleted keys.
  virtual Result<std::vector<std::string>> DeleteServer(std::string_view name,
                                                        bool delete_exclusive_keys) = 0;
  // Creates or updates servers by name in one transaction; all or nothing.
  virtual Result<UpsertCounts> UpsertServers(const std::vector<Server>& servers, int64_t now) = 0;

  // ---- API keys (secrets arrive sealed; the store never sees plaintext)
  virtual Result<ApiKey> CreateApiKey(const ApiKey& key, int64_t now) = 0;
  virtual Result<ApiKey> GetApiKey(std::string_view name) = 0;  // with `servers` filled
  virtual Result<std::vector<ApiKey>> ListApiKeys() = 0;        // by name, `servers` filled
  [[nodiscard]] virtual Result<void> SetApiKeyActive(std::string_view name, bool active) = 0;
  // Replaces sealed_secret, masked, issued_at, expires_at; keeps links and the rest.
  [[nodiscard]] virtual Result<void> ReplaceApiKeySecret(const ApiKey& key) = 0;
  [[nodiscard]] virtual Result<void> TouchApiKey(std::string_view name, int64_t now) = 0;
  [[nodiscard]] virtual Result<void> DeleteApiKey(std::string_view name) = 0;  // and its links

  // ---- links (many-to-many; at most one primary key per server)
  // Links or re-links; `primary` makes it the server's only primary link.
  [[nodiscard]] virtual Result<void> Link(std::string_view key_name, std::string_view server_name,
                                          bool primary, int64_t now) = 0;
  // kNotFound if the link is absent.
  [[nodiscard]] virtual Result<void> Unlink(std::string_view key_name,
                                            std::string_view server_name) = 0;
  virtual Result<std::vector<LinkedKey>> ListServerKeys(std::string_view server_name) = 0;

  // ---- signing keys (token exchange)
  // Stores a new key in the state it carries (kAlreadyExists for a taken kid). Creating it
  // kActive demotes the current active key to kStandby in the same transaction.
  virtual Result<SigningKey> CreateSigningKey(const SigningKey& key, int64_t now) = 0;
  virtual Result<SigningKey> GetSigningKey(std::string_view kid) = 0;
  virtual Result<std::vector<SigningKey>> ListSigningKeys() = 0;  // oldest first
  // kNotFound (with `n8n-fleet key generate` as the hint) when no key is active.
  virtual Result<SigningKey> GetActiveSigningKey() = 0;
  // Makes `kid` the active key and the previous active one kStandby, atomically. A retired key
  // cannot come back (kFailedPrecondition).
  [[nodiscard]] virtual Result<void> ActivateSigningKey(std::string_view kid, int64_t now) = 0;
  // Retires `kid` (no longer signs nor published). Retiring the active key leaves none active.
  [[nodiscard]] virtual Result<void> RetireSigningKey(std::string_view kid, int64_t now) = 0;

  // ---- usage (issue: usage tracking)
  // Inserts or replaces each (server, day, source) row, all in one transaction: re-collecting a
  // day replaces its figures, never adds to them (a later row in the same batch wins). Rows are
  // checked first: a day that is not YYYY-MM-DD, a source other than pull/push, or failed
  // outside [0, total] fails the whole batch with kInvalidArgument; a row naming an unknown
  // server fails it with kNotFound. Nothing of a failed batch is stored. The row's `customer` is
  // ignored: the server's current customer is stored with it (and kept if the server is later
  // removed, so its history stays billable). Storing a pulled day clears its unrecoverable mark
  // (a pushed one leaves it).
  //
  // The reads below consider source "pull" (the Insights figures) unless they say otherwise.
  // Rows pushed by instances are stored beside them, never summed with them.
  [[nodiscard]] virtual Result<void> UpsertDailyUsage(const std::vector<DailyUsage>& rows) = 0;
  // Rows of filter.source with day in [from, to] (inclusive, YYYY-MM-DD; empty = open), ordered
  // by day, server name, then source (pull first); `customer` is the one at collection time.
  // kInvalidArgument for a malformed day or a source other than "pull", "push" or "".
  virtual Result<std::vector<DailyUsage>> ListDailyUsage(const UsageFilter& filter) = 0;
  // Per server name, the days (YYYY-MM-DD) >= `from_day` ("" = all) that have a stored row: one
  // query for the whole fleet, for planning what is due. Removed servers' names appear too.
  virtual Result<std::map<std::string, std::set<std::string>>> CollectedDays(
      std::string_view from_day) = 0;
  // Inserts or replaces the mark (reason, recorded_at). kNotFound for an unknown server.
  [[nodiscard]] virtual Result<void> MarkUnrecoverable(const UnrecoverableDay& day) = 0;
  // Marks with day >= `from_day` ("" = all), ordered by day then server name.
  virtual Result<std::vector<UnrecoverableDay>> ListUnrecoverable(std::string_view from_day) = 0;
  // Per-month aggregation for billing, ordered by group. For each group (the customer a row was
  // collected under, or the server name): `servers` with at least one row in [from, to], the sums
  // of total and failed, the (server, day) rows present, and the number expected: each ACTIVE
  // server's days in [max(from, tracking_since), to] (an empty tracking_since counts from
  // `from`; 0 when it is after `to`), grouped by its current customer or name. A group with rows
  // but nothing expected (a removed or inactive server) and one expected without rows both
  // appear. By server, `customer` is the server's current one (for a removed server: that of its
  // latest row in range). push_total, push_days and disagreements count push rows in range by
  // the customer of the push row; a group with push rows only appears too (servers 0). By
  // server, a removed server without pull rows takes the customer of its latest push row.
  // kInvalidArgument unless from <= to are both YYYY-MM-DD days.
  virtual Result<std::vector<MonthlyRow>> UsageTotals(std::string_view from_day,
                                                      std::string_view to_day,
                                                      GroupBy group_by) = 0;
  // Per server name, the collected_at of its newest pull row (servers without rows are absent,
  // and so are removed servers).
  virtual Result<std::map<std::string, int64_t>> LastCollectedAt() = 0;

  // ---- instance reports (push)
  // Stores the batch and upserts its rows (stored with source "push" whatever they carry; rows
  // of other servers are refused with kInvalidArgument) in one transaction. kAlreadyExists,
  // storing nothing, when the server already sent this batch_id; kNotFound for an unknown
  // server; kInvalidArgument for an empty batch_id or rows UpsertDailyUsage would refuse.
  [[nodiscard]] virtual Result<void> RecordInstanceReport(const InstanceReport& report,
                                                          const std::vector<DailyUsage>& rows) = 0;
  // Newest first (received_at); `server` "" = every server, else kNotFound for an unknown
  // one; `limit` <= 0 = all.
  virtual Result<std::vector<InstanceReport>> ListInstanceReports(std::string_view server,
                                                                  int limit) = 0;

  // ---- API tokens (only hashes are stored)
  // Fills id and created_at. kAlreadyExists for a taken name (revoked tokens keep theirs);
  // kNotFound when `server` names an unknown server.
  virtual Result<ApiToken> CreateApiToken(const ApiToken& token, int64_t now) = 0;
  virtual Result<std::vector<ApiToken>> ListApiTokens() = 0;  // by name, revoked ones too
  // The token with this hash, revoked or not; kNotFound when none has it.
  virtual Result<ApiToken> FindApiToken(std::string_view token_hash) = 0;
  // kNotFound for an unknown name; revoking twice keeps the first revoked_at.
  [[nodiscard]] virtual Result<void> RevokeApiToken(std::string_view name, int64_t now) = 0;
  [[nodiscard]] virtual Result<void> TouchApiToken(int64_t id, int64_t now) = 0;

  // ---- collection runs
  virtual Result<int64_t> CreateRun(const CollectionRun& run) = 0;  // returns the id
  // Replaces every field but id and started_at of the run `run.id`; kNotFound if absent.
  [[nodiscard]] virtual Result<void> FinishRun(const CollectionRun& run) = 0;
  // All in one transaction; kNotFound (nothing stored) when an attempt names an unknown run.
  [[nodiscard]] virtual Result<void> RecordAttempts(const std::vector<FetchAttempt>& attempts) = 0;
  // Most recently created first; `limit` <= 0 lists them all.
  virtual Result<std::vector<CollectionRun>> ListRuns(int limit) = 0;
  virtual Result<CollectionRun> GetRun(int64_t id) = 0;  // kNotFound if absent
  // In the order they were recorded; kNotFound for an unknown run.
  virtual Result<std::vector<FetchAttempt>> ListAttempts(int64_t run_id) = 0;

  // ---- the work queue
  // A run's work is one item per (server, day), leased per (run, server): a collector claims all
  // of a server's pending days of a run at once, so two collectors never fetch the same server's
  // windows while a lease runs. A lease expires at its `lease_until`; an expired lease is
  // claimable again (its collector crashed or stalled), and each claim counts in `claims`.
  // Queues `items` for run `run_id` (status running). kNotFound for an unknown run or server;
  // kInvalidArgument for a malformed day. An item already queued for the run is left as it is.
  [[nodiscard]] virtual Result<void> EnqueueWork(int64_t run_id,
                                                 const std::vector<WorkItem>& items) = 0;
  // Claims up to `max_servers` (run, server) units that have pending days and no live lease (none
  // yet, or lease_until <= now), in runs whose status is running, for `owner` until
  // now + lease_seconds. On PostgreSQL concurrent claimers skip each other's locked rows
  // (SELECT ... FOR UPDATE SKIP LOCKED); a unit goes to exactly one of them. Ordered by run then
  // server name.
  virtual Result<std::vector<WorkClaim>> ClaimWork(const ClaimRequest& request) = 0;
  // Extends to now + lease_seconds every unfinished lease `owner` still holds; returns how many.
  virtual Result<int64_t> RenewWork(std::string_view owner, int64_t now, int64_t lease_seconds) = 0;
  // Records how each of a claimed server's days ended and finishes the unit (failed if any day
  // failed, else done). kFailedPrecondition (nothing changed) when `owner` no longer holds the
  // unit: its lease expired and another collector claimed it. A day not in `days` stays pending
  // and the unit is released for another claim instead of finished.
  [[nodiscard]] virtual Result<void> FinishWork(std::string_view owner, int64_t run_id,
                                                std::string_view server,
                                                const std::vector<WorkDayResult>& days) = 0;
  // Gives up every unfinished lease of `owner` (shutting down): the units are claimable at once.
  virtual Result<int64_t> ReleaseWork(std::string_view owner) = 0;
  // Cancels the run's units that are pending and not leased by a live lease at `now` (e.g. the
  // run was interrupted); returns how many.
  virtual Result<int64_t> CancelWork(int64_t run_id, int64_t now) = 0;
  // kNotFound for an unknown run.
  virtual Result<WorkProgress> GetWorkProgress(int64_t run_id, int64_t now) = 0;
  // Closes run `run_id` when it is still running and has no pending unit: status from its units
  // (every unit done: succeeded; some failed: partial; all failed: failed; any cancelled:
  // interrupted), the counters, finished_at = now. Returns the closed run to exactly one caller
  // (nullopt to every other, and while units are pending). kNotFound for an unknown run.
  virtual Result<std::optional<CollectionRun>> CloseRunIfDone(int64_t run_id, int64_t now) = 0;
  // Records that `slot` (e.g. "daily:2026-11-24") was taken by run `run_id`; false when it was
  // already taken (by anyone) by a run that is running or ended succeeded or partial. A slot
  // whose run was interrupted, failed or deleted is taken over (today's run again after a
  // shutdown). Decisions that must be taken once across processes (the daily run) claim a slot
  // in the transaction that creates their run.
  virtual Result<bool> ClaimSlot(std::string_view slot, int64_t run_id, int64_t now) = 0;

  // ---- local workflows and their per-server ids (`wf`)
  // Every local workflow by name, `mappings` filled (by server name).
  virtual Result<std::vector<LocalWorkflow>> ListLocalWorkflows() = 0;
  // Inserts (id 0: created_at = updated_at = `now`) or updates (name, file, file_sha256,
  // updated_at = `now`; its mappings stay) a local workflow and returns it with its id
  // (`mappings` left empty, whatever it carried: they are saved one by one below).
  // kAlreadyExists naming the other workflow when another one has the name or the file (a name
  // clash is the one reported); kNotFound for an unknown id; kInvalidArgument for an empty name
  // or file.
  virtual Result<LocalWorkflow> SaveLocalWorkflow(const LocalWorkflow& workflow, int64_t now) = 0;
  // Sets the mapping of (workflow_id, mapping.server), replacing the one it had; any other local
  // workflow's mapping to the same (server, remote_id) is removed (one remote workflow is one
  // local workflow). kNotFound for an unknown workflow or server; kInvalidArgument for an empty
  // remote_id or a last_action other than "pull" or "push". A server's mappings go with the
  // server (DeleteServer); the local workflows stay.
  [[nodiscard]] virtual Result<void> SaveWorkflowMapping(int64_t workflow_id,
                                                         const WorkflowMapping& mapping) = 0;

  // ---- change detection
  // A number that changes with every committed change to what UsageTotals reads: usage rows of
  // any source (stored, replaced, deleted) and servers (created, removed, or given another
  // customer, active flag or tracking_since). It only grows, so an equal version means the same
  // totals and callers may cache what they derived from those reads under it (read the version
  // first: what is read after it is then never older than it). Reads leave it unchanged, and so
  // do writes that are rolled back.
  virtual Result<int64_t> DataVersion() = 0;

  // ---- metadata (small key/value settings, e.g. the master key check)
  virtual Result<std::optional<std::string>> GetMeta(std::string_view key) = 0;
  [[nodiscard]] virtual Result<void> SetMeta(std::string_view key, std::string_view value) = 0;

  virtual Result<StoreStatus> Status() = 0;
};

}  // namespace fleet::storage
