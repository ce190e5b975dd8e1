// The PostgreSQL implementation of Store: one connection, every SQL statement parameterised.
// Writes that may fail (a taken name) run in a savepoint when a transaction is open, so the
// enclosing transaction stays usable after the failure, as a failed statement leaves SQLite's.

#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "storage/migrations.h"
#include "storage/postgres_reports.h"
#include "storage/postgres_rows.h"
#include "storage/postgres_runs.h"
#include "storage/postgres_signing_keys.h"
#include "storage/postgres_store_internal.h"
#include "storage/postgres_tokens.h"
#include "storage/postgres_usage.h"
#include "storage/postgres_work.h"
#include "storage/postgres_workflows.h"
#include "storage/sqlite_reports.h"
#include "storage/sqlite_usage.h"

namespace fleet::storage {
namespace {

// One connection; not thread-safe (callers own one store per thread or serialise access).
class PostgresStore final : public Store {
 public:
  explicit PostgresStore(std::unique_ptr<PgConnection> db) : db_(std::move(db)) {}

  Result<void> Transaction(const std::function<Result<void>()>& body) override {
    return db_->Transaction(body);
  }

  // ---- servers

  Result<Server> CreateServer(const Server& server, int64_t now) override {
    return Within<Server>(Scope::kStatement, [&] { return InsertServer(server, now); });
  }

  Result<Server> GetServer(std::string_view name) override {
    auto found = FindServers({std::string(name)});
    if (!found) return tl::unexpected(found.error());
    if (found->empty()) return tl::unexpected(NoServer(name));
    return std::move(found->front());
  }

  Result<std::vector<Server>> ListServers(const ServerFilter& filter) override {
    std::string sql = "SELECT " + std::string(kServerColumns) + " FROM servers WHERE TRUE";
    PgParams params;
    if (filter.customer.has_value()) {
      sql += " AND customer = $1";
      params.Text(*filter.customer);
    }
    if (filter.active_only) sql += " AND active = 1";
    sql += " ORDER BY name";
    auto rows = db_->Exec(sql, params, "list servers");
    if (!rows) return tl::unexpected(rows.error());
    return rows->All<Server>(ServerFromRow);
  }

  Result<void> UpdateServer(const Server& server, int64_t now) override {
    return db_->Atomically([&] { return UpdateServerRow(server, now); });
  }

  Result<std::vector<std::string>> DeleteServer(std::string_view name,
                                                bool delete_exclusive_keys) override {
    const std::string what = "delete server '" + std::string(name) + "'";
    return Within<std::vector<std::string>>(
        Scope::kTransaction, [&]() -> Result<std::vector<std::string>> {
          auto server = GetServer(name);
          if (!server) return tl::unexpected(server.error());
          std::vector<std::string> deleted_keys;
          if (delete_exclusive_keys) {
            auto exclusive = ExclusiveKeys(server->id, what);
            if (!exclusive) return tl::unexpected(exclusive.error());
            deleted_keys = std::move(*exclusive);
          }
          auto done =
              db_->Exec("DELETE FROM servers WHERE id = $1", PgParams().Int(server->id), what);
          if (!done) return tl::unexpected(done.error());
          for (const std::string& key : deleted_keys) {
            if (auto removed = DeleteKeyRow(key); !removed) return tl::unexpected(removed.error());
          }
          return deleted_keys;
        });
  }

  Result<UpsertCounts> UpsertServers(const std::vector<Server>& servers, int64_t now) override {
    return Within<UpsertCounts>(Scope::kTransaction, [&]() -> Result<UpsertCounts> {
      std::vector<std::string> names;
      names.reserve(servers.size());
      for (const Server& server : servers) names.push_back(server.name);
      auto existing = FindServers(names);  // one query for the batch
      if (!existing) return tl::unexpected(existing.error());
      // Replays the batch row by row in memory (a later row sees what an earlier one did), then
      // writes the outcome with one INSERT and one UPDATE: the same rows as writing each.
      std::unordered_map<std::string, Server> stored;
      for (Server& server : *existing) stored.emplace(server.name, std::move(server));
      std::vector<std::string> created, updated;  // names, in batch order, each once
      std::unordered_set<std::string> is_new, is_updated;
      UpsertCounts counts;
      for (const Server& server : servers) {
        auto found = stored.find(server.name);
        if (found == stored.end()) {
          stored.emplace(server.name, server);
          created.push_back(server.name);
          is_new.insert(server.name);
          ++counts.created;
        } else if (SameStoredFields(found->second, server)) {
          ++counts.unchanged;
        } else {
          if (!is_new.contains(server.name) && is_updated.insert(server.name).second) {
            updated.push_back(server.name);
          }
          found->second = server;
          ++counts.updated;
        }
      }
      const auto rows = [&](const std::vector<std::string>& which) {
        std::vector<const Server*> out;
        for (const std::string& name : which) out.push_back(&stored.at(name));
        return out;
      };
      const std::string what = "upsert " + std::to_string(servers.size()) + " servers";
      if (!created.empty()) {
        PgParams params = ServerArrays(rows(created));
        auto done = db_->Exec(
            "INSERT INTO servers (name, url, customer, description, skip_tls_verify, auth, "
            "subject_email, subject_role, active, tracking_since, created_at, updated_at) "
            "SELECT name, url, customer, description, skip_tls_verify, auth, subject_email, "
            "subject_role, active, tracking_since, $11::BIGINT, $11::BIGINT FROM " +
                std::string(kServerArrays) + " ORDER BY n",
            params.Int(now), what);
        if (!done) return tl::unexpected(done.error());
      }
      if (!updated.empty()) {
        PgParams params = ServerArrays(rows(updated));
        auto done = db_->Exec(
            "UPDATE servers s SET url = u.url, customer = u.customer, description = "
            "u.description, skip_tls_verify = u.skip_tls_verify, auth = u.auth, subject_email = "
            "u.subject_email, subject_role = u.subject_role, active = u.active, tracking_since = "
            "u.tracking_since, updated_at = $11 FROM " +
                std::string(kServerArrays) + " WHERE s.name = u.name",
            params.Int(now), what);
        if (!done) return tl::unexpected(done.error());
      }
      return counts;
    });
  }

  // ---- API keys

  Result<ApiKey> CreateApiKey(const ApiKey& key, int64_t now) override {
    return Within<ApiKey>(Scope::kStatement, [&]() -> Result<ApiKey> {
      auto rows = db_->Exec(
          "INSERT INTO api_keys (name, sealed_secret, masked, description, active, issued_at, "
          "expires_at, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
          "RETURNING id",
          PgParams()
              .Text(key.name)
              .Bytes(key.sealed_secret)
              .Text(key.masked)
              .Text(key.description)
              .Bool(key.active)
              .OptionalInt(key.issued_at)
              .OptionalInt(key.expires_at)
              .Int(now)
              .OptionalInt(key.last_used_at),
          "create API key '" + key.name + "'");
      if (!rows) return tl::unexpected(NameTaken(rows.error(), "API key", key.name));
      ApiKey created = key;
      created.id = (*rows)[0].Int(0);
      created.created_at = now;
      created.servers.clear();
      return created;
    });
  }

  Result<ApiKey> GetApiKey(std::string_view name) override {
    const std::string what = "read API key '" + std::string(name) + "'";
    auto rows = db_->Exec("SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE name = $1",
                          PgParams().Text(name), what);
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) return tl::unexpected(NoKey(name));
    ApiKey key = KeyFromRow((*rows)[0]);
    auto servers = db_->Exec(
        "SELECT s.name FROM server_api_keys l JOIN servers s ON s.id = l.server_id "
        "WHERE l.api_key_id = $1 ORDER BY s.name",
        PgParams().Int(key.id), what);
    if (!servers) return tl::unexpected(servers.error());
    key.servers = servers->All<std::string>([](const PgRow& row) { return row.Text(0); });
    return key;
  }

  Result<std::vector<ApiKey>> ListApiKeys() override {
    auto rows = db_->Exec("SELECT " + std::string(kKeyColumns) + " FROM api_keys ORDER BY name",
                          PgParams(), "list API keys");
    if (!rows) return tl::unexpected(rows.error());
    std::vector<ApiKey> keys = rows->All<ApiKey>(KeyFromRow);
    std::unordered_map<int64_t, size_t> index_by_id;
    for (size_t i = 0; i < keys.size(); ++i) index_by_id[keys[i].id] = i;
    auto links = db_->Exec(
        "SELECT l.api_key_id, s.name FROM server_api_keys l JOIN servers s ON s.id = l.server_id "
        "ORDER BY s.name",
        PgParams(), "list API keys");
    if (!links) return tl::unexpected(links.error());
    for (size_t i = 0; i < links->size(); ++i) {
      const PgRow link = (*links)[i];
      auto it = index_by_id.find(link.Int(0));
      if (it != index_by_id.end()) keys[it->second].servers.push_back(link.Text(1));
    }
    return keys;
  }

  Result<void> SetApiKeyActive(std::string_view name, bool active) override {
    return UpdateKey("UPDATE api_keys SET active = $2 WHERE name = $1", name,
                     PgParams().Text(name).Bool(active));
  }

  Result<void> ReplaceApiKeySecret(const ApiKey& key) override {
    return UpdateKey(
        "UPDATE api_keys SET sealed_secret = $2, masked = $3, issued_at = $4, expires_at = $5 "
        "WHERE name = $1",
        key.name,
        PgParams()
            .Text(key.name)
            .Bytes(key.sealed_secret)
            .Text(key.masked)
            .OptionalInt(key.issued_at)
            .OptionalInt(key.expires_at));
  }

  Result<void> TouchApiKey(std::string_view name, int64_t now) override {
    return UpdateKey("UPDATE api_keys SET last_used_at = $2 WHERE name = $1", name,
                     PgParams().Text(name).Int(now));
  }

  Result<void> DeleteApiKey(std::string_view name) override {
    return db_->Atomically([&] { return DeleteKeyRow(name); });
  }

  // ---- links

  Result<void> Link(std::string_view key_name, std::string_view server_name, bool primary,
                    int64_t now) override {
    const std::string what =
        "link API key '" + std::string(key_name) + "' to server '" + std::string(server_name) + "'";
    return db_->Transaction([&]() -> Result<void> {
      auto ids = LinkIds(key_name, server_name);
      if (!ids) return tl::unexpected(ids.error());
      const auto [server_id, key_id] = *ids;
      if (primary) {
        auto clear = db_->Exec(
            "UPDATE server_api_keys SET is_primary = 0 WHERE server_id = $1 AND api_key_id <> $2",
            PgParams().Int(server_id).Int(key_id), what);
        if (!clear) return tl::unexpected(clear.error());
      }
      auto upsert = db_->Exec(
          "INSERT INTO server_api_keys (server_id, api_key_id, is_primary, linked_at) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT (server_id, api_key_id) "
          "DO UPDATE SET is_primary = excluded.is_primary",
          PgParams().Int(server_id).Int(key_id).Bool(primary).Int(now), what);
      if (!upsert) return tl::unexpected(upsert.error());
      return {};
    });
  }

  Result<void> Unlink(std::string_view key_name, std::string_view server_name) override {
    auto ids = LinkIds(key_name, server_name);
    if (!ids) return tl::unexpected(ids.error());
    auto done = db_->Exec("DELETE FROM server_api_keys WHERE server_id = $1 AND api_key_id = $2",
                          PgParams().Int(ids->first).Int(ids->second),
                          "unlink API key '" + std::string(key_name) + "' from server '" +
                              std::string(server_name) + "'");
    if (!done) return tl::unexpected(done.error());
    if (done->affected_rows() == 0) {
      return MakeError(ErrorCode::kNotFound,
                       "API key '" + std::string(key_name) + "' is not linked to server '" +
                           std::string(server_name) + "'; `n8n-fleet apikey list` shows the links");
    }
    return {};
  }

  Result<std::vector<LinkedKey>> ListServerKeys(std::string_view server_name) override {
    auto server = GetServer(server_name);
    if (!server) return tl::unexpected(server.error());
    auto rows = db_->Exec(
        "SELECT k.name, k.description, k.active, l.is_primary, l.linked_at "
        "FROM server_api_keys l JOIN api_keys k ON k.id = l.api_key_id "
        "WHERE l.server_id = $1 ORDER BY l.is_primary DESC, k.name",
        PgParams().Int(server->id), "list the API keys of server '" + server->name + "'");
    if (!rows) return tl::unexpected(rows.error());
    return rows->All<LinkedKey>([](const PgRow& row) {
      return LinkedKey{row.Text(0), row.Text(1), row.Bool(2), row.Bool(3), row.Int(4)};
    });
  }

  // ---- signing keys (the SQL is in postgres_signing_keys.cc)

  Result<SigningKey> CreateSigningKey(const SigningKey& key, int64_t now) override {
    return Within<SigningKey>(Scope::kTransaction,
                              [&] { return InsertSigningKey(*db_, key, now); });
  }

  Result<SigningKey> GetSigningKey(std::string_view kid) override {
    return SelectSigningKey(*db_, kid);
  }

  Result<std::vector<SigningKey>> ListSigningKeys() override { return SelectSigningKeys(*db_); }

  Result<SigningKey> GetActiveSigningKey() override { return SelectActiveSigningKey(*db_); }

  Result<void> ActivateSigningKey(std::string_view kid, int64_t now) override {
    return db_->Transaction([&] { return MakeSigningKeyActive(*db_, kid, now); });
  }

  Result<void> RetireSigningKey(std::string_view kid, int64_t now) override {
    return db_->Transaction([&] { return MakeSigningKeyRetired(*db_, kid, now); });
  }

  // ---- usage (the SQL is in postgres_usage.cc)

  Result<void> UpsertDailyUsage(const std::vector<DailyUsage>& rows) override {
    if (auto valid = ValidateUsage(rows); !valid) return valid;
    return db_->Transaction([&] { return UpsertUsage(*db_, rows); });
  }

  Result<std::vector<DailyUsage>> ListDailyUsage(const UsageFilter& filter) override {
    return SelectDailyUsage(*db_, filter);
  }

  Result<std::map<std::string, std::set<std::string>>> CollectedDays(
      std::string_view from_day) override {
    return SelectCollectedDays(*db_, from_day);
  }

  Result<void> MarkUnrecoverable(const UnrecoverableDay& day) override {
    return db_->Atomically([&] { return UpsertUnrecoverable(*db_, day); });
  }

  Result<std::vector<UnrecoverableDay>> ListUnrecoverable(std::string_view from_day) override {
    return SelectUnrecoverable(*db_, from_day);
  }

  Result<std::vector<MonthlyRow>> UsageTotals(std::string_view from_day, std::string_view to_day,
                                              GroupBy group_by) override {
    return SelectUsageTotals(*db_, from_day, to_day, group_by);
  }

  Result<std::map<std::string, int64_t>> LastCollectedAt() override {
    return SelectLastCollectedAt(*db_);
  }

  // ---- instance reports (the SQL is in postgres_reports.cc)

  Result<void> RecordInstanceReport(const InstanceReport& report,
                                    const std::vector<DailyUsage>& rows) override {
    auto push_rows = PushRows(report, rows);
    if (!push_rows) return tl::unexpected(push_rows.error());
    return db_->Transaction([&] { return InsertInstanceReport(*db_, report, *push_rows); });
  }

  Result<std::vector<InstanceReport>> ListInstanceReports(std::string_view server,
                                                          int limit) override {
    return SelectInstanceReports(*db_, server, limit);
  }

  // ---- API tokens (the SQL is in postgres_tokens.cc)

  Result<ApiToken> CreateApiToken(const ApiToken& token, int64_t now) override {
    return Within<ApiToken>(Scope::kTransaction, [&] { return InsertApiToken(*db_, token, now); });
  }

  Result<std::vector<ApiToken>> ListApiTokens() override { return SelectApiTokens(*db_); }

  Result<ApiToken> FindApiToken(std::string_view token_hash) override {
    return SelectApiTokenByHash(*db_, token_hash);
  }

  Result<void> RevokeApiToken(std::string_view name, int64_t now) override {
    return RevokeToken(*db_, name, now);
  }

  Result<void> TouchApiToken(int64_t id, int64_t now) override { return TouchToken(*db_, id, now); }

  // ---- collection runs (the SQL is in postgres_runs.cc)

  Result<int64_t> CreateRun(const CollectionRun& run) override { return InsertRun(*db_, run); }

  Result<void> FinishRun(const CollectionRun& run) override { return UpdateRun(*db_, run); }

  Result<void> RecordAttempts(const std::vector<FetchAttempt>& attempts) override {
    return db_->Transaction([&] { return InsertAttempts(*db_, attempts); });
  }

  Result<std::vector<CollectionRun>> ListRuns(int limit) override {
    return SelectRuns(*db_, limit);
  }

  Result<CollectionRun> GetRun(int64_t id) override { return SelectRun(*db_, id); }

  Result<std::vector<FetchAttempt>> ListAttempts(int64_t run_id) override {
    return SelectAttempts(*db_, run_id);
  }

  // ---- the work queue (the SQL is in postgres_work.cc)

  Result<void> EnqueueWork(int64_t run_id, const std::vector<WorkItem>& items) override {
    return db_->Transaction([&] { return InsertWork(*db_, run_id, items); });
  }

  Result<std::vector<WorkClaim>> ClaimWork(const ClaimRequest& request) override {
    return LeaseWork(*db_, request);
  }

  Result<int64_t> RenewWork(std::string_view owner, int64_t now, int64_t lease_seconds) override {
    return RenewLeases(*db_, owner, now, lease_seconds);
  }

  Result<void> FinishWork(std::string_view owner, int64_t run_id, std::string_view server,
                          const std::vector<WorkDayResult>& days) override {
    return db_->Transaction([&] { return FinishUnit(*db_, owner, run_id, server, days); });
  }

  Result<int64_t> ReleaseWork(std::string_view owner) override {
    return ReleaseLeases(*db_, owner);
  }

  Result<int64_t> CancelWork(int64_t run_id, int64_t now) override {
    return CancelUnits(*db_, run_id, now);
  }

  Result<WorkProgress> GetWorkProgress(int64_t run_id, int64_t now) override {
    return SelectWorkProgress(*db_, run_id, now);
  }

  Result<std::optional<CollectionRun>> CloseRunIfDone(int64_t run_id, int64_t now) override {
    return Within<std::optional<CollectionRun>>(
        Scope::kTransaction, [&] { return CloseRunWhenDone(*db_, run_id, now); });
  }

  Result<bool> ClaimSlot(std::string_view slot, int64_t run_id, int64_t now) override {
    return InsertSlot(*db_, slot, run_id, now);
  }

  // ---- local workflows (the SQL is in postgres_workflows.cc)

  Result<std::vector<LocalWorkflow>> ListLocalWorkflows() override {
    return SelectLocalWorkflows(*db_);
  }

  Result<LocalWorkflow> SaveLocalWorkflow(const LocalWorkflow& workflow, int64_t now) override {
    return Within<LocalWorkflow>(Scope::kTransaction,
                                 [&] { return WriteLocalWorkflow(*db_, workflow, now); });
  }

  Result<void> SaveWorkflowMapping(int64_t workflow_id, const WorkflowMapping& mapping) override {
    return db_->Transaction([&] { return WriteWorkflowMapping(*db_, workflow_id, mapping); });
  }

  // ---- change detection

  Result<int64_t> DataVersion() override {
    auto rows = db_->Exec("SELECT version FROM data_version WHERE id = 1", PgParams(),
                          "read the data version");
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) return MakeError(ErrorCode::kCorrupt, "the data_version row is missing");
    return (*rows)[0].Int(0);
  }

  // ---- metadata

  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    auto rows = db_->Exec("SELECT value FROM meta WHERE key = $1", PgParams().Text(key),
                          "read setting '" + std::string(key) + "'");
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) return std::optional<std::string>();
    return std::optional<std::string>((*rows)[0].Bytes(0));
  }

  Result<void> SetMeta(std::string_view key, std::string_view value) override {
    auto done = db_->Exec(
        "INSERT INTO meta (key, value) VALUES ($1, $2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        PgParams().Text(key).Bytes(value), "write setting '" + std::string(key) + "'");
    if (!done) return tl::unexpected(done.error());
    return {};
  }

  Result<StoreStatus> Status() override { return ReadPostgresStatus(*db_); }

 private:
  // How Within runs its body: as a transaction (a savepoint when nested), or as atomic as one
  // statement is (a savepoint only inside a transaction).
  enum class Scope { kTransaction, kStatement };

  // Runs `read` (returning Result<T>) in `scope` and returns what it read.
  template <class T, class Read>
  Result<T> Within(Scope scope, Read read) {
    T value{};
    const auto body = [&]() -> Result<void> {
      auto got = read();
      if (!got) return tl::unexpected(got.error());
      value = std::move(*got);
      return {};
    };
    auto done = scope == Scope::kTransaction ? db_->Transaction(body) : db_->Atomically(body);
    if (!done) return tl::unexpected(done.error());
    return value;
  }

  Result<Server> InsertServer(const Server& server, int64_t now) {
    PgParams params = ServerParams(server);
    auto rows = db_->Exec(
        "INSERT INTO servers (name, url, customer, description, skip_tls_verify, auth, "
        "subject_email, subject_role, active, tracking_since, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        params.Int(now), "create server '" + server.name + "'");
    if (!rows) return tl::unexpected(NameTaken(rows.error(), "server", server.name));
    Server created = server;
    created.id = (*rows)[0].Int(0);
    created.created_at = now;
    created.updated_at = now;
    return created;
  }

  Result<void> UpdateServerRow(const Server& server, int64_t now) {
    PgParams params = ServerParams(server);
    auto done = db_->Exec(
        "UPDATE servers SET url = $2, customer = $3, description = $4, skip_tls_verify = $5, "
        "auth = $6, subject_email = $7, subject_role = $8, active = $9, tracking_since = $10, "
        "updated_at = $11 WHERE name = $1",
        params.Int(now), "update server '" + server.name + "'");
    if (!done) return tl::unexpected(done.error());
    if (done->affected_rows() == 0) return tl::unexpected(NoServer(server.name));
    return {};
  }

  // The servers with these names (those that exist), in one query.
  Result<std::vector<Server>> FindServers(const std::vector<std::string>& names) {
    PgArray array;
    for (const std::string& name : names) array.Text(name);
    auto rows = db_->Exec(
        "SELECT " + std::string(kServerColumns) + " FROM servers WHERE name = ANY ($1::TEXT[])",
        PgParams().Array(array),
        names.size() == 1 ? "read server '" + names[0] + "'" : "read servers");
    if (!rows) return tl::unexpected(rows.error());
    return rows->All<Server>(ServerFromRow);
  }

  // Names of the keys linked to `server_id` and to no other server, by name.
  Result<std::vector<std::string>> ExclusiveKeys(int64_t server_id, const std::string& what) {
    auto rows = db_->Exec(
        "SELECT k.name FROM api_keys k JOIN server_api_keys l ON l.api_key_id = k.id "
        "WHERE l.server_id = $1 AND NOT EXISTS (SELECT 1 FROM server_api_keys o "
        "WHERE o.api_key_id = k.id AND o.server_id <> $1) ORDER BY k.name",
        PgParams().Int(server_id), what);
    if (!rows) return tl::unexpected(rows.error());
    return rows->All<std::string>([](const PgRow& row) { return row.Text(0); });
  }

  // (server id, key id), or kNotFound naming whichever is missing.
  Result<std::pair<int64_t, int64_t>> LinkIds(std::string_view key_name,
                                              std::string_view server_name) {
    auto server_id = PgServerId(*db_, server_name);
    if (!server_id) return tl::unexpected(server_id.error());
    auto rows = db_->Exec("SELECT id FROM api_keys WHERE name = $1", PgParams().Text(key_name),
                          "read API key '" + std::string(key_name) + "'");
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) return tl::unexpected(NoKey(key_name));
    return std::make_pair(*server_id, (*rows)[0].Int(0));
  }

  Result<void> DeleteKeyRow(std::string_view name) {
    return UpdateKey("DELETE FROM api_keys WHERE name = $1", name, PgParams().Text(name));
  }

  // Runs a one-row UPDATE/DELETE keyed by $1 = name; kNotFound when no row matched.
  Result<void> UpdateKey(std::string_view sql, std::string_view name, const PgParams& params) {
    auto done = db_->Exec(sql, params, "update API key '" + std::string(name) + "'");
    if (!done) return tl::unexpected(done.error());
    if (done->affected_rows() == 0) return tl::unexpected(NoKey(name));
    return {};
  }

  std::unique_ptr<PgConnection> db_{};
};

}  // namespace

std::unique_ptr<Store> NewPostgresStore(std::unique_ptr<PgConnection> db) {
  return std::make_unique<PostgresStore>(std::move(db));
}

}  // namespace fleet::storage
