// The SQLite implementation of Store: one connection, every SQL statement parameterised.

#include <unordered_map>
#include <utility>

#include "storage/migrations.h"
#include "storage/sqlite_reports.h"
#include "storage/sqlite_rows.h"
#include "storage/sqlite_runs.h"
#include "storage/sqlite_signing_keys.h"
#include "storage/sqlite_store_internal.h"
#include "storage/sqlite_tokens.h"
#include "storage/sqlite_usage.h"
#include "storage/sqlite_work.h"
#include "storage/sqlite_workflows.h"

namespace fleet::storage {
namespace {

// One connection; not thread-safe (callers own one store per thread or serialise access).
class SqliteStore final : public Store {
 public:
  SqliteStore(Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  Result<void> Transaction(const std::function<Result<void>()>& body) override {
    const bool outermost = depth_ == 0;
    const std::string savepoint = "fleet_" + std::to_string(depth_);
    if (auto begun = db_.Exec(outermost ? "BEGIN IMMEDIATE" : "SAVEPOINT " + savepoint,
                              "begin a transaction");
        !begun) {
      return begun;
    }
    ++depth_;
    Result<void> result = body();
    --depth_;
    if (result) {
      result = db_.Exec(outermost ? "COMMIT" : "RELEASE " + savepoint, "commit a transaction");
    }
    if (!result && sqlite3_get_autocommit(db_.get()) == 0) {
      (void)db_.Exec(outermost ? "ROLLBACK" : "ROLLBACK TO " + savepoint + "; RELEASE " + savepoint,
                     "roll back a transaction");
    }
    return result;
  }

  // ---- servers

  Result<Server> CreateServer(const Server& server, int64_t now) override {
    auto stmt = db_.Prepare(
        "INSERT INTO servers (name, url, customer, description, skip_tls_verify, auth, "
        "subject_email, subject_role, active, tracking_since, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        "create server '" + server.name + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    BindServer(*stmt, server).BindInt(11, now);
    auto row = stmt->Step();
    if (!row) return tl::unexpected(NameTaken(row.error(), "server", server.name));
    Server created = server;
    created.id = stmt->ColumnInt(0);
    created.created_at = now;
    created.updated_at = now;
    if (auto done = stmt->Run(); !done) return tl::unexpected(done.error());
    return created;
  }

  Result<Server> GetServer(std::string_view name) override {
    auto found = FindServer(name);
    if (!found) return tl::unexpected(found.error());
    if (!found->has_value()) return tl::unexpected(NoServer(name));
    return std::move(**found);
  }

  Result<std::vector<Server>> ListServers(const ServerFilter& filter) override {
    std::string sql = "SELECT " + std::string(kServerColumns) + " FROM servers WHERE 1 = 1";
    if (filter.customer.has_value()) sql += " AND customer = $1";
    if (filter.active_only) sql += " AND active = 1";
    sql += " ORDER BY name";
    auto stmt = db_.Prepare(sql, "list servers");
    if (!stmt) return tl::unexpected(stmt.error());
    if (filter.customer.has_value()) stmt->BindText(1, *filter.customer);
    std::vector<Server> servers;
    while (true) {
      auto row = stmt->Step();
      if (!row) return tl::unexpected(row.error());
      if (!*row) return servers;
      servers.push_back(ReadServer(*stmt));
    }
  }

  Result<void> UpdateServer(const Server& server, int64_t now) override {
    auto stmt = db_.Prepare(
        "UPDATE servers SET url = $2, customer = $3, description = $4, skip_tls_verify = $5, "
        "auth = $6, subject_email = $7, subject_role = $8, active = $9, tracking_since = $10, "
        "updated_at = $11 WHERE name = $1",
        "update server '" + server.name + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    if (auto done = BindServer(*stmt, server).BindInt(11, now).Run(); !done) return done;
    if (db_.Changes() == 0) return tl::unexpected(NoServer(server.name));
    return {};
  }

  Result<std::vector<std::string>> DeleteServer(std::string_view name,
                                                bool delete_exclusive_keys) override {
    std::vector<std::string> deleted_keys;
    const std::string what = "delete server '" + std::string(name) + "'";
    auto done = Transaction([&]() -> Result<void> {
      auto server = GetServer(name);
      if (!server) return tl::unexpected(server.error());
      if (delete_exclusive_keys) {
        auto exclusive = ExclusiveKeys(server->id, what);
        if (!exclusive) return tl::unexpected(exclusive.error());
        deleted_keys = std::move(*exclusive);
      }
      auto stmt = db_.Prepare("DELETE FROM servers WHERE id = $1", what);
      if (!stmt) return tl::unexpected(stmt.error());
      if (auto run = stmt->BindInt(1, server->id).Run(); !run) return run;
      for (const std::string& key : deleted_keys) {
        if (auto removed = DeleteApiKey(key); !removed) return removed;
      }
      return {};
    });
    if (!done) return tl::unexpected(done.error());
    return deleted_keys;
  }

  Result<UpsertCounts> UpsertServers(const std::vector<Server>& servers, int64_t now) override {
    UpsertCounts counts;
    auto done = Transaction([&]() -> Result<void> {
      for (const Server& server : servers) {
        auto found = FindServer(server.name);
        if (!found) return tl::unexpected(found.error());
        if (!found->has_value()) {
          auto created = CreateServer(server, now);
          if (!created) return tl::unexpected(created.error());
          ++counts.created;
        } else if (SameStoredFields(**found, server)) {
          ++counts.unchanged;
        } else {
          if (auto updated = UpdateServer(server, now); !updated) return updated;
          ++counts.updated;
        }
      }
      return {};
    });
    if (!done) return tl::unexpected(done.error());
    return counts;
  }

  // ---- API keys

  Result<ApiKey> CreateApiKey(const ApiKey& key, int64_t now) override {
    auto stmt = db_.Prepare(
        "INSERT INTO api_keys (name, sealed_secret, masked, description, active, issued_at, "
        "expires_at, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "RETURNING id",
        "create API key '" + key.name + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    stmt->BindText(1, key.name)
        .BindBlob(2, key.sealed_secret)
        .BindText(3, key.masked)
        .BindText(4, key.description)
        .BindBool(5, key.active)
        .BindOptionalInt(6, key.issued_at)
        .BindOptionalInt(7, key.expires_at)
        .BindInt(8, now)
        .BindOptionalInt(9, key.last_used_at);
    auto row = stmt->Step();
    if (!row) return tl::unexpected(NameTaken(row.error(), "API key", key.name));
    ApiKey created = key;
    created.id = stmt->ColumnInt(0);
    created.created_at = now;
    created.servers.clear();
    if (auto done = stmt->Run(); !done) return tl::unexpected(done.error());
    return created;
  }

  Result<ApiKey> GetApiKey(std::string_view name) override {
    const std::string what = "read API key '" + std::string(name) + "'";
    auto stmt =
        db_.Prepare("SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE name = $1", what);
    if (!stmt) return tl::unexpected(stmt.error());
    auto row = stmt->BindText(1, name).Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return tl::unexpected(NoKey(name));
    ApiKey key = ReadKey(*stmt);
    auto servers = db_.Prepare(
        "SELECT s.name FROM server_api_keys l JOIN servers s ON s.id = l.server_id "
        "WHERE l.api_key_id = $1 ORDER BY s.name",
        what);
    if (!servers) return tl::unexpected(servers.error());
    servers->BindInt(1, key.id);
    while (true) {
      auto next = servers->Step();
      if (!next) return tl::unexpected(next.error());
      if (!*next) return key;
      key.servers.push_back(servers->ColumnText(0));
    }
  }

  Result<std::vector<ApiKey>> ListApiKeys() override {
    auto stmt = db_.Prepare("SELECT " + std::string(kKeyColumns) + " FROM api_keys ORDER BY name",
                            "list API keys");
    if (!stmt) return tl::unexpected(stmt.error());
    std::vector<ApiKey> keys;
    std::unordered_map<int64_t, size_t> index_by_id;
    while (true) {
      auto row = stmt->Step();
      if (!row) return tl::unexpected(row.error());
      if (!*row) break;
      keys.push_back(ReadKey(*stmt));
      index_by_id[keys.back().id] = keys.size() - 1;
    }
    auto links = db_.Prepare(
        "SELECT l.api_key_id, s.name FROM server_api_keys l JOIN servers s ON s.id = l.server_id "
        "ORDER BY s.name",
        "list API keys");
    if (!links) return tl::unexpected(links.error());
    while (true) {
      auto row = links->Step();
      if (!row) return tl::unexpected(row.error());
      if (!*row) return keys;
      auto it = index_by_id.find(links->ColumnInt(0));
      if (it != index_by_id.end()) keys[it->second].servers.push_back(links->ColumnText(1));
    }
  }

  Result<void> SetApiKeyActive(std::string_view name, bool active) override {
    return UpdateKey("UPDATE api_keys SET active = $2 WHERE name = $1", name,
                     [&](Statement& stmt) { stmt.BindBool(2, active); });
  }

  Result<void> ReplaceApiKeySecret(const ApiKey& key) override {
    return UpdateKey(
        "UPDATE api_keys SET sealed_secret = $2, masked = $3, issued_at = $4, expires_at = $5 "
        "WHERE name = $1",
        key.name, [&](Statement& stmt) {
          stmt.BindBlob(2, key.sealed_secret)
              .BindText(3, key.masked)
              .BindOptionalInt(4, key.issued_at)
              .BindOptionalInt(5, key.expires_at);
        });
  }

  Result<void> TouchApiKey(std::string_view name, int64_t now) override {
    return UpdateKey("UPDATE api_keys SET last_used_at = $2 WHERE name = $1", name,
                     [&](Statement& stmt) { stmt.BindInt(2, now); });
  }

  Result<void> DeleteApiKey(std::string_view name) override {
    return UpdateKey("DELETE FROM api_keys WHERE name = $1", name, [](Statement&) {});
  }

  // ---- links

  Result<void> Link(std::string_view key_name, std::string_view server_name, bool primary,
                    int64_t now) override {
    const std::string what =
        "link API key '" + std::string(key_name) + "' to server '" + std::string(server_name) + "'";
    return Transaction([&]() -> Result<void> {
      auto ids = LinkIds(key_name, server_name);
      if (!ids) return tl::unexpected(ids.error());
      const auto [server_id, key_id] = *ids;
      if (primary) {
        auto clear = db_.Prepare(
            "UPDATE server_api_keys SET is_primary = 0 WHERE server_id = $1 AND api_key_id <> $2",
            what);
        if (!clear) return tl::unexpected(clear.error());
        if (auto done = clear->BindInt(1, server_id).BindInt(2, key_id).Run(); !done) return done;
      }
      auto upsert = db_.Prepare(
          "INSERT INTO server_api_keys (server_id, api_key_id, is_primary, linked_at) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT (server_id, api_key_id) "
          "DO UPDATE SET is_primary = excluded.is_primary",
          what);
      if (!upsert) return tl::unexpected(upsert.error());
      return upsert->BindInt(1, server_id)
          .BindInt(2, key_id)
          .BindBool(3, primary)
          .BindInt(4, now)
          .Run();
    });
  }

  Result<void> Unlink(std::string_view key_name, std::string_view server_name) override {
    auto ids = LinkIds(key_name, server_name);
    if (!ids) return tl::unexpected(ids.error());
    auto stmt = db_.Prepare("DELETE FROM server_api_keys WHERE server_id = $1 AND api_key_id = $2",
                            "unlink API key '" + std::string(key_name) + "' from server '" +
                                std::string(server_name) + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    if (auto done = stmt->BindInt(1, ids->first).BindInt(2, ids->second).Run(); !done) return done;
    if (db_.Changes() == 0) {
      return MakeError(ErrorCode::kNotFound,
                       "API key '" + std::string(key_name) + "' is not linked to server '" +
                           std::string(server_name) + "'; `n8n-fleet apikey list` shows the links");
    }
    return {};
  }

  Result<std::vector<LinkedKey>> ListServerKeys(std::string_view server_name) override {
    auto server = GetServer(server_name);
    if (!server) return tl::unexpected(server.error());
    auto stmt = db_.Prepare(
        "SELECT k.name, k.description, k.active, l.is_primary, l.linked_at "
        "FROM server_api_keys l JOIN api_keys k ON k.id = l.api_key_id "
        "WHERE l.server_id = $1 ORDER BY l.is_primary DESC, k.name",
        "list the API keys of server '" + server->name + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    stmt->BindInt(1, server->id);
    std::vector<LinkedKey> keys;
    while (true) {
      auto row = stmt->Step();
      if (!row) return tl::unexpected(row.error());
      if (!*row) return keys;
      keys.push_back(LinkedKey{stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnBool(2),
                               stmt->ColumnBool(3), stmt->ColumnInt(4)});
    }
  }

  // ---- signing keys (the SQL is in sqlite_signing_keys.cc)

  Result<SigningKey> CreateSigningKey(const SigningKey& key, int64_t now) override {
    SigningKey created;
    auto done = Transaction([&]() -> Result<void> {
      auto inserted = InsertSigningKey(db_, key, now);
      if (!inserted) return tl::unexpected(inserted.error());
      created = std::move(*inserted);
      return {};
    });
    if (!done) return tl::unexpected(done.error());
    return created;
  }

  Result<SigningKey> GetSigningKey(std::string_view kid) override {
    return SelectSigningKey(db_, kid);
  }

  Result<std::vector<SigningKey>> ListSigningKeys() override { return SelectSigningKeys(db_); }

  Result<SigningKey> GetActiveSigningKey() override { return SelectActiveSigningKey(db_); }

  Result<void> ActivateSigningKey(std::string_view kid, int64_t now) override {
    return Transaction([&] { return MakeSigningKeyActive(db_, kid, now); });
  }

  Result<void> RetireSigningKey(std::string_view kid, int64_t now) override {
    return Transaction([&] { return MakeSigningKeyRetired(db_, kid, now); });
  }

  // ---- usage (the SQL is in sqlite_usage.cc)

  Result<void> UpsertDailyUsage(const std::vector<DailyUsage>& rows) override {
    if (auto valid = ValidateUsage(rows); !valid) return valid;
    return Transaction([&] { return UpsertUsage(db_, rows); });
  }

  Result<std::vector<DailyUsage>> ListDailyUsage(const UsageFilter& filter) override {
    return SelectDailyUsage(db_, filter);
  }

  Result<std::map<std::string, std::set<std::string>>> CollectedDays(
      std::string_view from_day) override {
    return SelectCollectedDays(db_, from_day);
  }

  Result<void> MarkUnrecoverable(const UnrecoverableDay& day) override {
    return UpsertUnrecoverable(db_, day);
  }

  Result<std::vector<UnrecoverableDay>> ListUnrecoverable(std::string_view from_day) override {
    return SelectUnrecoverable(db_, from_day);
  }

  Result<std::vector<MonthlyRow>> UsageTotals(std::string_view from_day, std::string_view to_day,
                                              GroupBy group_by) override {
    return SelectUsageTotals(db_, from_day, to_day, group_by);
  }

  Result<std::map<std::string, int64_t>> LastCollectedAt() override {
    return SelectLastCollectedAt(db_);
  }

  // ---- instance reports (the SQL is in sqlite_reports.cc)

  Result<void> RecordInstanceReport(const InstanceReport& report,
                                    const std::vector<DailyUsage>& rows) override {
    auto push_rows = PushRows(report, rows);
    if (!push_rows) return tl::unexpected(push_rows.error());
    return Transaction([&] { return InsertInstanceReport(db_, report, *push_rows); });
  }

  Result<std::vector<InstanceReport>> ListInstanceReports(std::string_view server,
                                                          int limit) override {
    return SelectInstanceReports(db_, server, limit);
  }

  // ---- API tokens (the SQL is in sqlite_tokens.cc)

  Result<ApiToken> CreateApiToken(const ApiToken& token, int64_t now) override {
    ApiToken created;
    auto done = Transaction([&]() -> Result<void> {
      auto inserted = InsertApiToken(db_, token, now);
      if (!inserted) return tl::unexpected(inserted.error());
      created = std::move(*inserted);
      return {};
    });
    if (!done) return tl::unexpected(done.error());
    return created;
  }

  Result<std::vector<ApiToken>> ListApiTokens() override { return SelectApiTokens(db_); }

  Result<ApiToken> FindApiToken(std::string_view token_hash) override {
    return SelectApiTokenByHash(db_, token_hash);
  }

  Result<void> RevokeApiToken(std::string_view name, int64_t now) override {
    return RevokeToken(db_, name, now);
  }

  Result<void> TouchApiToken(int64_t id, int64_t now) override { return TouchToken(db_, id, now); }

  // ---- collection runs (the SQL is in sqlite_runs.cc)

  Result<int64_t> CreateRun(const CollectionRun& run) override { return InsertRun(db_, run); }

  Result<void> FinishRun(const CollectionRun& run) override { return UpdateRun(db_, run); }

  Result<void> RecordAttempts(const std::vector<FetchAttempt>& attempts) override {
    return Transaction([&] { return InsertAttempts(db_, attempts); });
  }

  Result<std::vector<CollectionRun>> ListRuns(int limit) override { return SelectRuns(db_, limit); }

  Result<CollectionRun> GetRun(int64_t id) override { return SelectRun(db_, id); }

  Result<std::vector<FetchAttempt>> ListAttempts(int64_t run_id) override {
    return SelectAttempts(db_, run_id);
  }

  // ---- the work queue (the SQL is in sqlite_work.cc)

  Result<void> EnqueueWork(int64_t run_id, const std::vector<WorkItem>& items) override {
    return Transaction([&] { return InsertWork(db_, run_id, items); });
  }

  // BEGIN IMMEDIATE takes the write lock before the claimable units are read, so another
  // connection on the same file can never lease them too.
  Result<std::vector<WorkClaim>> ClaimWork(const ClaimRequest& request) override {
    return InTransaction([&] { return LeaseWork(db_, request); });
  }

  Result<int64_t> RenewWork(std::string_view owner, int64_t now, int64_t lease_seconds) override {
    return RenewLeases(db_, owner, now, lease_seconds);
  }

  Result<void> FinishWork(std::string_view owner, int64_t run_id, std::string_view server,
                          const std::vector<WorkDayResult>& days) override {
    return Transaction([&] { return FinishUnit(db_, owner, run_id, server, days); });
  }

  Result<int64_t> ReleaseWork(std::string_view owner) override { return ReleaseLeases(db_, owner); }

  Result<int64_t> CancelWork(int64_t run_id, int64_t now) override {
    return InTransaction([&] { return CancelUnits(db_, run_id, now); });
  }

  Result<WorkProgress> GetWorkProgress(int64_t run_id, int64_t now) override {
    return SelectWorkProgress(db_, run_id, now);
  }

  Result<std::optional<CollectionRun>> CloseRunIfDone(int64_t run_id, int64_t now) override {
    return InTransaction([&] { return CloseRunWhenDone(db_, run_id, now); });
  }

  Result<bool> ClaimSlot(std::string_view slot, int64_t run_id, int64_t now) override {
    return InTransaction([&] { return InsertSlot(db_, slot, run_id, now); });
  }

  // ---- local workflows (the SQL is in sqlite_workflows.cc)

  Result<std::vector<LocalWorkflow>> ListLocalWorkflows() override {
    return SelectLocalWorkflows(db_);
  }

  Result<LocalWorkflow> SaveLocalWorkflow(const LocalWorkflow& workflow, int64_t now) override {
    return InTransaction([&] { return WriteLocalWorkflow(db_, workflow, now); });
  }

  Result<void> SaveWorkflowMapping(int64_t workflow_id, const WorkflowMapping& mapping) override {
    return Transaction([&] { return WriteWorkflowMapping(db_, workflow_id, mapping); });
  }

  // ---- change detection

  Result<int64_t> DataVersion() override {
    return db_.QueryInt("SELECT version FROM data_version WHERE id = 1", "read the data version");
  }

  // ---- metadata

  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    auto stmt = db_.Prepare("SELECT value FROM meta WHERE key = $1",
                            "read setting '" + std::string(key) + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    auto row = stmt->BindText(1, key).Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(stmt->ColumnBlob(0));
  }

  Result<void> SetMeta(std::string_view key, std::string_view value) override {
    auto stmt = db_.Prepare(
        "INSERT INTO meta (key, value) VALUES ($1, $2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        "write setting '" + std::string(key) + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    return stmt->BindText(1, key).BindBlob(2, value).Run();
  }

  Result<StoreStatus> Status() override {
    StoreStatus status;
    status.backend = "sqlite";
    status.location = path_;
    if (path_ == ":memory:") {
      auto pages = db_.QueryInt("PRAGMA page_count", "read the database size");
      auto page_size = db_.QueryInt("PRAGMA page_size", "read the database size");
      if (!pages) return tl::unexpected(pages.error());
      if (!page_size) return tl::unexpected(page_size.error());
      status.size_bytes = *pages * *page_size;
    } else {
      status.size_bytes = DatabaseSizeOnDisk(path_);
    }
    auto version = ReadSchemaVersion(db_);
    if (!version) return tl::unexpected(version.error());
    status.schema_version = *version;
    const std::pair<std::string_view, int64_t*> counts[] = {
        {"SELECT COUNT(*) FROM servers", &status.servers},
        {"SELECT COUNT(*) FROM api_keys", &status.api_keys},
        {"SELECT COUNT(*) FROM server_api_keys", &status.links},
        {"SELECT COUNT(*) FROM signing_keys", &status.signing_keys},
        {"SELECT COUNT(*) FROM usage_daily", &status.usage_rows},
        {"SELECT COUNT(*) FROM runs", &status.runs},
    };
    for (const auto& [sql, out] : counts) {
      auto count = db_.QueryInt(sql, "count rows for the status");
      if (!count) return tl::unexpected(count.error());
      *out = *count;
    }
    return status;
  }

 private:
  // Transaction() for a body that returns a value.
  template <class Body>
  auto InTransaction(Body body) -> decltype(body()) {
    std::optional<typename decltype(body())::value_type> value;
    auto done = Transaction([&]() -> Result<void> {
      auto result = body();
      if (!result) return tl::unexpected(result.error());
      value = std::move(*result);
      return {};
    });
    if (!done) return tl::unexpected(done.error());
    return std::move(*value);
  }

  Result<std::optional<Server>> FindServer(std::string_view name) {
    auto stmt =
        db_.Prepare("SELECT " + std::string(kServerColumns) + " FROM servers WHERE name = $1",
                    "read server '" + std::string(name) + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    auto row = stmt->BindText(1, name).Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return std::optional<Server>();
    return std::optional<Server>(ReadServer(*stmt));
  }

  // Names of the keys linked to `server_id` and to no other server, by name.
  Result<std::vector<std::string>> ExclusiveKeys(int64_t server_id, const std::string& what) {
    auto stmt = db_.Prepare(
        "SELECT k.name FROM api_keys k JOIN server_api_keys l ON l.api_key_id = k.id "
        "WHERE l.server_id = $1 AND NOT EXISTS (SELECT 1 FROM server_api_keys o "
        "WHERE o.api_key_id = k.id AND o.server_id <> $1) ORDER BY k.name",
        what);
    if (!stmt) return tl::unexpected(stmt.error());
    stmt->BindInt(1, server_id);
    std::vector<std::string> names;
    while (true) {
      auto row = stmt->Step();
      if (!row) return tl::unexpected(row.error());
      if (!*row) return names;
      names.push_back(stmt->ColumnText(0));
    }
  }

  // (server id, key id), or kNotFound naming whichever is missing.
  Result<std::pair<int64_t, int64_t>> LinkIds(std::string_view key_name,
                                              std::string_view server_name) {
    auto server = GetServer(server_name);
    if (!server) return tl::unexpected(server.error());
    auto stmt = db_.Prepare("SELECT id FROM api_keys WHERE name = $1",
                            "read API key '" + std::string(key_name) + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    auto row = stmt->BindText(1, key_name).Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return tl::unexpected(NoKey(key_name));
    return std::make_pair(server->id, stmt->ColumnInt(0));
  }

  // Runs a one-row UPDATE/DELETE keyed by $1 = name; kNotFound when no row matched.
  template <class BindRest>
  Result<void> UpdateKey(std::string_view sql, std::string_view name, BindRest bind_rest) {
    auto stmt = db_.Prepare(sql, "update API key '" + std::string(name) + "'");
    if (!stmt) return tl::unexpected(stmt.error());
    stmt->BindText(1, name);
    bind_rest(*stmt);
    if (auto done = stmt->Run(); !done) return done;
    if (db_.Changes() == 0) return tl::unexpected(NoKey(name));
    return {};
  }

  Database db_;
  std::string path_;
  int depth_{0};
};

}  // namespace

std::unique_ptr<Store> NewSqliteStore(Database db, std::string path) {
  return std::make_unique<SqliteStore>(std::move(db), std::move(path));
}

}  // namespace fleet::storage
