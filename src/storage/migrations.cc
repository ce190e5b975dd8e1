#include "storage/migrations.h"

#include <initializer_list>
#include <string>

namespace fleet::storage {
namespace {

constexpr std::string_view kCreateSchemaVersion = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL,
  description TEXT NOT NULL
))sql";

constexpr std::string_view kRegistrySchema = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE servers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (name <> ''),
  url TEXT NOT NULL,
  customer TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  skip_tls_verify INTEGER NOT NULL DEFAULT 0,
  auth TEXT NOT NULL DEFAULT 'api-key' CHECK (auth IN ('api-key', 'token-exchange')),
  subject_email TEXT NOT NULL DEFAULT '',
  subject_role TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1,
  tracking_since TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX servers_customer ON servers (customer);
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (name <> ''),
  sealed_secret BLOB NOT NULL,
  masked TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1,
  issued_at INTEGER,
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE TABLE server_api_keys (
  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  api_key_id INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  is_primary INTEGER NOT NULL DEFAULT 0,
  linked_at INTEGER NOT NULL,
  PRIMARY KEY (server_id, api_key_id)
);
CREATE UNIQUE INDEX server_api_keys_one_primary ON server_api_keys (server_id)
  WHERE is_primary = 1;
)sql";

// Deleting a key cascades to its links and listing keys joins from the key side; without this
// index both scan the whole link table.
constexpr std::string_view kLinkKeyIndex = R"sql(
CREATE INDEX server_api_keys_by_key ON server_api_keys (api_key_id);
)sql";

// Token-exchange signing keys. The partial unique index makes a second active key a constraint
// violation, whatever the code does.
constexpr std::string_view kSigningKeys = R"sql(
CREATE TABLE signing_keys (
  id INTEGER PRIMARY KEY,
  kid TEXT NOT NULL UNIQUE CHECK (kid <> ''),
  alg TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
  issuer TEXT NOT NULL,
  sealed_private_key BLOB NOT NULL,
  public_pem TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'standby', 'retired')),
  created_at INTEGER NOT NULL,
  activated_at INTEGER,
  retired_at INTEGER
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
)sql";

// Daily usage, the days that can no longer be read, and collection runs with their attempts.
// Usage rows carry the server's name and customer at collection time (server_id goes NULL when
// the server is removed) so a removed server's history stays billable; the primary key makes a
// second row for the same (server, day, source) impossible. usage_daily_by_day is partial and
// covering: the month aggregation and the planner's CollectedDays read only the index, never
// the rows with their raw JSON (`source` is in it because SQLite 3.40 still reads an indexed
// row to check the partial index's own condition). usage_daily_by_server_id serves ON DELETE
// SET NULL when a server is removed.
constexpr std::string_view kUsage = R"sql(
CREATE TABLE usage_daily (
  server_id INTEGER REFERENCES servers (id) ON DELETE SET NULL,
  server_name TEXT NOT NULL CHECK (server_name <> ''),
  customer TEXT NOT NULL DEFAULT '',
  day TEXT NOT NULL,
  total INTEGER NOT NULL CHECK (total >= 0),
  failed INTEGER NOT NULL CHECK (failed >= 0 AND failed <= total),
  failure_rate REAL,
  time_saved_minutes REAL,
  average_run_time_ms REAL,
  raw_json TEXT,
  collected_at INTEGER NOT NULL,
  run_id INTEGER,
  n8n_version TEXT,
  source TEXT NOT NULL DEFAULT 'pull' CHECK (source IN ('pull', 'push')),
  PRIMARY KEY (server_name, day, source)
);
CREATE INDEX usage_daily_by_day
  ON usage_daily (day, server_name, customer, total, failed, source) WHERE source = 'pull';
CREATE INDEX usage_daily_by_customer ON usage_daily (customer, day);
CREATE INDEX usage_daily_by_server_id ON usage_daily (server_id);
CREATE TABLE usage_unrecoverable (
  server_name TEXT NOT NULL,
  day TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (server_name, day)
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  status TEXT NOT NULL
    CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted')),
  description TEXT NOT NULL DEFAULT '',
  servers_attempted INTEGER NOT NULL DEFAULT 0,
  servers_succeeded INTEGER NOT NULL DEFAULT 0,
  servers_failed INTEGER NOT NULL DEFAULT 0,
  days_stored INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE run_attempts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  server_name TEXT NOT NULL,
  day TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL CHECK (outcome <> ''),
  http_status INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL
);
CREATE INDEX run_attempts_by_run ON run_attempts (run_id);
)sql";

// Tokens for the service's HTTP API and instances' report tokens (server_id set: they go with
// their server), and the batches instances push (they go with their server too; the usage rows
// they carried stay, like pulled ones). Push rows live in usage_daily with source 'push':
// usage_daily_push_by_day mirrors usage_daily_by_day for them (partial and covering), so the
// monthly totals read push rows in proportion to their number and find each one's pull row in
// usage_daily_by_day. usage_daily_last_collected answers LastCollectedAt with one seek per
// server.
constexpr std::string_view kTokensAndReports = R"sql(
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (name <> ''),
  token_hash TEXT NOT NULL UNIQUE CHECK (token_hash <> ''),
  prefix TEXT NOT NULL DEFAULT '',
  read_only INTEGER NOT NULL DEFAULT 0,
  server_id INTEGER REFERENCES servers (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_tokens_by_server ON api_tokens (server_id);
CREATE TABLE instance_reports (
  id INTEGER PRIMARY KEY,
  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  batch_id TEXT NOT NULL CHECK (batch_id <> ''),
  instance_id TEXT NOT NULL DEFAULT '',
  label TEXT NOT NULL DEFAULT '',
  n8n_version TEXT NOT NULL DEFAULT '',
  received_at INTEGER NOT NULL,
  payload_json TEXT NOT NULL DEFAULT '',
  UNIQUE (server_id, batch_id)
);
CREATE INDEX instance_reports_by_server_time ON instance_reports (server_id, received_at);
CREATE INDEX instance_reports_by_time ON instance_reports (received_at);
CREATE INDEX usage_daily_push_by_day
  ON usage_daily (day, server_name, customer, total, source) WHERE source = 'push';
CREATE INDEX usage_daily_last_collected
  ON usage_daily (server_name, collected_at, source) WHERE source = 'pull';
)sql";

// A counter that changes with every committed change to what the monthly totals read (usage
// rows of any source; servers created, removed, or given another customer, active flag or
// tracking start), so readers can cache what they derived from them (Store::DataVersion). Row
// triggers bump it inside the writing transaction: a rolled-back write leaves it unchanged. It
// starts at a random 48-bit value so two databases (a restored one, say) hardly ever share a
// version.
constexpr std::string_view kDataVersion = R"sql(
CREATE TABLE data_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, random() & 281474976710655);
CREATE TRIGGER usage_daily_inserted_bumps_version AFTER INSERT ON usage_daily
BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER usage_daily_updated_bumps_version AFTER UPDATE ON usage_daily
BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER usage_daily_deleted_bumps_version AFTER DELETE ON usage_daily
BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER servers_inserted_bumps_version AFTER INSERT ON servers
BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER servers_updated_bumps_version
  AFTER UPDATE OF name, customer, active, tracking_since ON servers
BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER servers_deleted_bumps_version AFTER DELETE ON servers
BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
)sql";

// The work queue that lets several collectors share a run (Store::ClaimWork): a unit per
// (run, server) carries the lease, an item per (run, server, day) how that day ended. Slots make a
// decision (the daily run) once across processes.
constexpr std::string_view kWorkQueue = R"sql(
CREATE TABLE work_units (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'done', 'failed', 'cancelled')),
  lease_owner TEXT,
  lease_until INTEGER,
  claims INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, server_id)
);
CREATE INDEX work_units_pending ON work_units (run_id, server_id) WHERE state = 'pending';
CREATE INDEX work_units_by_owner ON work_units (lease_owner) WHERE state = 'pending';
CREATE INDEX work_units_by_server ON work_units (server_id);
CREATE TABLE work_items (
  run_id INTEGER NOT NULL,
  server_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'done', 'failed', 'unrecoverable', 'cancelled')),
  PRIMARY KEY (run_id, server_id, day),
  FOREIGN KEY (run_id, server_id) REFERENCES work_units (run_id, server_id) ON DELETE CASCADE
);
CREATE TABLE schedule_slots (
  slot TEXT PRIMARY KEY CHECK (slot <> ''),
  run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,
  claimed_at INTEGER NOT NULL
);
)sql";

// Workflows kept as local files (`wf pull` / `wf push`) and, per server, the id each has there
// (ids differ between instances). A remote workflow is one local workflow: (server_id, remote_id)
// is unique, and its index serves ON DELETE CASCADE when a server is removed (its mappings go
// with it; the local workflow stays).
constexpr std::string_view kLocalWorkflows = R"sql(
CREATE TABLE workflows (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (name <> ''),
  file TEXT NOT NULL UNIQUE CHECK (file <> ''),
  file_sha256 TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE workflow_mappings (
  workflow_id INTEGER NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  remote_id TEXT NOT NULL CHECK (remote_id <> ''),
  remote_updated_at TEXT NOT NULL DEFAULT '',
  last_action TEXT NOT NULL,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, server_id),
  UNIQUE (server_id, remote_id)
);
)sql";

// Version 6 on PostgreSQL: the same counter, bumped by statement-level triggers that look at
// their transition tables (a statement that changed no row leaves the version alone, and a bulk
// upsert bumps it once, not once per row). The functions pin the search_path of their creation
// (the store's schema), so the counter they bump is the one beside the table that fired them.
constexpr std::string_view kDataVersionPostgres = R"sql(
CREATE TABLE data_version (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, floor(random() * 281474976710656)::BIGINT);
CREATE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM changed) THEN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION data_version_bump_on_server_update() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE (o.name, o.customer, o.active, o.tracking_since)
               IS DISTINCT FROM (n.name, n.customer, n.active, n.tracking_since)) THEN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER usage_daily_inserted_bumps_version AFTER INSERT ON usage_daily
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
CREATE TRIGGER usage_daily_updated_bumps_version AFTER UPDATE ON usage_daily
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
CREATE TRIGGER usage_daily_deleted_bumps_version AFTER DELETE ON usage_daily
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
CREATE TRIGGER servers_inserted_bumps_version AFTER INSERT ON servers
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
CREATE TRIGGER servers_updated_bumps_version AFTER UPDATE ON servers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump_on_server_update();
CREATE TRIGGER servers_deleted_bumps_version AFTER DELETE ON servers
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
)sql";

constexpr Migration kMigrations[] = {
    {1, "servers, API keys, links and metadata", kRegistrySchema},
    {2, "index links by API key", kLinkKeyIndex},
    {3, "token-exchange signing keys", kSigningKeys},
    {4, "daily usage, unrecoverable days and collection runs", kUsage},
    {5, "API tokens, instance reports and usage indexes", kTokensAndReports},
    {6, "a data version bumped by every change to usage and servers", kDataVersion,
     kDataVersionPostgres},
    {7, "the work queue and schedule slots", kWorkQueue},
    {8, "local workflows and their ids on each server", kLocalWorkflows},
};

bool IsWordChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string Upper(std::string_view word) {
  std::string upper(word);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

// The words of `sql` from `pos` on, skipping whitespace: true when they are `words` (case-
// insensitively); `end` is then the position after the last one.
bool WordsAt(std::string_view sql, size_t pos, std::initializer_list<std::string_view> words,
             size_t& end) {
  for (std::string_view word : words) {
    while (pos < sql.size() && (sql[pos] == ' ' || sql[pos] == '\n' || sql[pos] == '\t')) ++pos;
    size_t stop = pos;
    while (stop < sql.size() && IsWordChar(sql[stop])) ++stop;
    if (Upper(sql.substr(pos, stop - pos)) != word) return false;
    pos = stop;
  }
  end = pos;
  return true;
}

// Applies `migration` unless another process did so first (the version is re-read inside the
// write transaction, so concurrent openers of a fresh database do not collide).
[[nodiscard]] Result<void> Apply(Database& db, const Migration& migration, int64_t now) {
  const std::string what = "apply schema migration " + std::to_string(migration.version) + " (" +
                           std::string(migration.description) + ")";
  if (auto begun = db.Exec("BEGIN IMMEDIATE", what); !begun) return begun;
  auto applied = [&]() -> Result<void> {
    auto version = ReadSchemaVersion(db);
    if (!version) return tl::unexpected(version.error());
    if (*version >= migration.version) return {};
    if (auto done = db.Exec(migration.sql, what); !done) return done;
    auto insert = db.Prepare(
        "INSERT INTO schema_version (version, applied_at, description) VALUES ($1, $2, $3)", what);
    if (!insert) return tl::unexpected(insert.error());
    return insert->BindInt(1, migration.version)
        .BindInt(2, now)
        .BindText(3, migration.description)
        .Run();
  }();
  if (!applied) {
    if (sqlite3_get_autocommit(db.get()) == 0) (void)db.Exec("ROLLBACK", what);
    return applied;
  }
  return db.Exec("COMMIT", what);
}

}  // namespace

std::span<const Migration> FleetMigrations() { return kMigrations; }

std::string_view SchemaVersionTableSql() { return kCreateSchemaVersion; }

std::string TranslateToPostgres(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + sql.size() / 4);
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a literal or quoted identifier, copied as it is
      size_t close = sql.find(c, i + 1);
      close = close == std::string_view::npos ? sql.size() : close + 1;
      out.append(sql.substr(i, close - i));
      i = close;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {  // a comment
      size_t close = sql.find('\n', i);
      close = close == std::string_view::npos ? sql.size() : close;
      out.append(sql.substr(i, close - i));
      i = close;
    } else if (IsWordChar(c)) {
      size_t stop = i;
      while (stop < sql.size() && IsWordChar(sql[stop])) ++stop;
      const std::string word = Upper(sql.substr(i, stop - i));
      size_t end = 0;
      if (word == "INTEGER" && WordsAt(sql, stop, {"PRIMARY", "KEY"}, end)) {
        out += "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
        stop = end;
      } else if (word == "INTEGER") {
        out += "BIGINT";
      } else if (word == "BLOB") {
        out += "BYTEA";
      } else if (word == "REAL") {
        out += "DOUBLE PRECISION";
      } else if (word == "TEXT") {
        out += "TEXT COLLATE \"C\"";
      } else {
        out.append(sql.substr(i, stop - i));
      }
      i = stop;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

std::string PostgresSql(const Migration& migration) {
  if (!migration.postgres_sql.empty()) return std::string(migration.postgres_sql);
  return TranslateToPostgres(migration.sql);
}

Result<int> ReadSchemaVersion(Database& db) {
  if (!db.TableExists("schema_version")) return 0;
  auto version =
      db.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_version", "read schema version");
  if (!version) return tl::unexpected(version.error());
  return static_cast<int>(*version);
}

Result<int> Migrate(Database& db, std::span<const Migration> migrations, int target, int64_t now) {
  if (auto created = db.Exec(kCreateSchemaVersion, "create the schema_version table"); !created) {
    return tl::unexpected(created.error());
  }
  auto version = ReadSchemaVersion(db);
  if (!version) return version;
  if (*version > target) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the database has schema version " + std::to_string(*version) +
                         " but this n8n-fleet knows versions up to " + std::to_string(target) +
                         "; upgrade n8n-fleet to use it");
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= *version || migration.version > target) continue;
    if (auto applied = Apply(db, migration, now); !applied) return tl::unexpected(applied.error());
  }
  return ReadSchemaVersion(db);
}

}  // namespace fleet::storage
