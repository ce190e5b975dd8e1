// Opening a fleet PostgreSQL store: connect, create the schema and migrate it (one migrator at a
// time per schema, whatever the number of processes opening it), and describe it for `db status`.

#include <algorithm>
#include <cctype>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "storage/migrations.h"
#include "storage/postgres_db.h"
#include "storage/postgres_store.h"
#include "storage/postgres_store_internal.h"
#include "storage/sqlite_store.h"

namespace fleet::storage {
namespace {

// Serialises the migrators of one schema (and nothing else): the transaction-scoped advisory lock
// on (this constant, the schema's hash) is released by the commit or rollback.
constexpr std::string_view kLockMigrations =
    "SELECT pg_advisory_xact_lock(hashtext('n8n-fleet schema migration'), hashtext($1))";

Result<int> ReadVersion(PgConnection& db) {
  auto rows = db.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_version", PgParams(),
                      "read schema version");
  if (!rows) return tl::unexpected(rows.error());
  return static_cast<int>((*rows)[0].Int(0));
}

[[nodiscard]] Result<void> Lock(PgConnection& db, std::string_view what) {
  auto locked = db.Exec(kLockMigrations, PgParams().Text(db.schema()), what);
  if (!locked) return tl::unexpected(locked.error());
  return {};
}

// Creates the schema (unless it exists: creating needs a privilege using one does not) and the
// schema_version table. kCorrupt for a schema that holds another application's tables.
[[nodiscard]] Result<void> PrepareSchema(PgConnection& db) {
  const std::string what = "prepare schema '" + db.schema() + "'";
  return db.Transaction([&]() -> Result<void> {
    if (auto locked = Lock(db, what); !locked) return locked;
    auto found = db.Exec(
        "SELECT (SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1), "
        "(SELECT COUNT(*) FROM pg_tables WHERE schemaname = $1), "
        "(SELECT COUNT(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'schema_version')",
        PgParams().Text(db.schema()), what);
    if (!found) return tl::unexpected(found.error());
    const PgRow row = (*found)[0];
    if (row.Int(0) == 0) {
      auto created = db.Exec("CREATE SCHEMA " + QuoteIdentifier(db.schema()), what);
      if (!created) return tl::unexpected(created.error());
    } else if (row.Int(1) > 0 && row.Int(2) == 0) {
      return MakeError(ErrorCode::kCorrupt,
                       "schema '" + db.schema() + "' of " + db.location() +
                           " holds tables but no schema_version table: it is not an n8n-fleet "
                           "schema; choose another schema or database");
    }
    auto table = db.Exec(TranslateToPostgres(SchemaVersionTableSql()), what);
    if (!table) return tl::unexpected(table.error());
    return {};
  });
}

// Applies `migration` in its own transaction unless another process did so first (the version
// is re-read under the lock).
[[nodiscard]] Result<void> Apply(PgConnection& db, const Migration& migration, int64_t now) {
  const std::string what = "apply schema migration " + std::to_string(migration.version) + " (" +
                           std::string(migration.description) + ")";
  return db.Transaction([&]() -> Result<void> {
    if (auto locked = Lock(db, what); !locked) return locked;
    auto version = ReadVersion(db);
    if (!version) return tl::unexpected(version.error());
    if (*version >= migration.version) return {};
    if (auto done = db.Exec(PostgresSql(migration), what); !done) {
      return tl::unexpected(done.error());
    }
    auto recorded =
        db.Exec("INSERT INTO schema_version (version, applied_at, description) VALUES ($1, $2, $3)",
                PgParams().Int(migration.version).Int(now).Text(migration.description), what);
    if (!recorded) return tl::unexpected(recorded.error());
    return {};
  });
}

Result<int> Migrate(PgConnection& db, int target, int64_t now) {
  if (auto prepared = PrepareSchema(db); !prepared) return tl::unexpected(prepared.error());
  auto version = ReadVersion(db);
  if (!version) return version;
  if (*version > target) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the database has schema version " + std::to_string(*version) +
                         " but this n8n-fleet knows versions up to " + std::to_string(target) +
                         "; upgrade n8n-fleet to use it");
  }
  for (const Migration& migration : FleetMigrations()) {
    if (migration.version <= *version || migration.version > target) continue;
    if (auto applied = Apply(db, migration, now); !applied) return tl::unexpected(applied.error());
  }
  return ReadVersion(db);
}

bool IsUrl(std::string_view text) { return text.find("://") != std::string_view::npos; }

// Adds the connection parameters the store wants unless the URL sets them: give up connecting
// after 10 s (libpq waits forever by default), and name the application in pg_stat_activity.
std::string WithDefaults(const std::string& url) {
  std::string out = url;
  const bool is_url = IsUrl(url);
  const auto add = [&](std::string_view key, std::string_view value) {
    if (url.find(std::string(key) + "=") != std::string::npos) return;
    if (is_url) {
      out += out.find('?') == std::string::npos ? '?' : '&';
    } else {
      out += ' ';
    }
    out += std::string(key) + "=" + std::string(value);
  };
  add("connect_timeout", "10");
  add("application_name", "n8n-fleet");
  return out;
}

bool IsPasswordKey(std::string_view key) {  // "password", and "sslpassword" (a key's passphrase)
  return key.size() >= 8 && key.substr(key.size() - 8) == "password";
}

// Where `text` spells passwords: [begin, end) of each value. A URL carries one in its user info
// (user:password@) and may carry more as query parameters; a key=value string as values of keys
// named *password (bare or in single quotes, with \' inside).
std::vector<std::pair<size_t, size_t>> PasswordSpans(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  if (const size_t scheme = text.find("://"); scheme != std::string_view::npos) {
    const size_t start = scheme + 3;
    const size_t end = std::min(text.find_first_of("/?#", start), text.size());
    const size_t at = text.substr(0, end).rfind('@');
    if (at != std::string_view::npos && at >= start) {
      const size_t colon = text.find(':', start);
      if (colon < at) spans.emplace_back(colon + 1, at);
    }
    size_t param = text.find('?', start);
    while (param != std::string_view::npos && param + 1 < text.size()) {
      const size_t begin = param + 1;
      const size_t stop = std::min(text.find_first_of("&#", begin), text.size());
      const size_t equals = text.find('=', begin);
      if (equals < stop && IsPasswordKey(text.substr(begin, equals - begin))) {
        spans.emplace_back(equals + 1, stop);
      }
      param = stop < text.size() && text[stop] == '&' ? stop : std::string_view::npos;
    }
    return spans;
  }
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t key = i;
    while (i < text.size() && text[i] != '=' && !is_space(text[i])) ++i;
    const std::string_view name = text.substr(key, i - key);
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size() || text[i] != '=') break;  // not key=value: leave the rest alone
    ++i;
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t value = i;
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\') ++i;
      }
      i = std::min(text.size(), i + 1);
    } else {
      while (i < text.size() && !is_space(text[i])) ++i;
    }
    if (IsPasswordKey(name)) spans.emplace_back(value, i);
  }
  return spans;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// `message` without the secrets of `url`: libpq quotes a URL it cannot parse whole, so every
// spelling of it and of its passwords (as written, percent-decoded) becomes the redacted form.
std::string Scrub(std::string message, const std::string& url, const std::string& conninfo) {
  const auto replace_all = [&message](const std::string& what, std::string_view with) {
    if (what.empty()) return;
    for (size_t at = message.find(what); at != std::string::npos;
         at = message.find(what, at + with.size())) {
      message.replace(at, what.size(), with);
    }
  };
  replace_all(conninfo, RedactPostgresUrl(conninfo));
  replace_all(url, RedactPostgresUrl(url));
  for (const auto& [begin, end] : PasswordSpans(url)) {
    const std::string password = url.substr(begin, end - begin);
    if (password.size() < 3) continue;  // a shorter one would blank out ordinary words
    replace_all(password, "***");
    replace_all(PercentDecode(password), "***");
  }
  return message;
}

}  // namespace

std::string RedactPostgresUrl(std::string_view url) {
  std::string out(url);
  const auto spans = PasswordSpans(url);
  for (auto span = spans.rbegin(); span != spans.rend(); ++span) {  // back to front: offsets hold
    out.replace(span->first, span->second - span->first, "***");
  }
  return out;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  if (options.url.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "no PostgreSQL URL given");
  }
  const std::string location = RedactPostgresUrl(options.url);
  const std::string schema = options.schema.empty() ? "public" : options.schema;
  const std::string conninfo = WithDefaults(options.url);
  auto db = PgConnection::Open(conninfo, schema, location);
  if (!db) {
    return MakeError(db.error().code, Scrub(db.error().message, options.url, conninfo));
  }
  auto version = Migrate(**db, CurrentSchemaVersion(), static_cast<int64_t>(std::time(nullptr)));
  if (!version) {
    return MakeError(version.error().code, Scrub("PostgreSQL " + location + " (schema '" + schema +
                                                     "'): " + version.error().message,
                                                 options.url, conninfo));
  }
  return NewPostgresStore(std::move(*db));
}

Result<StoreStatus> ReadPostgresStatus(PgConnection& db) {
  auto rows = db.Exec(
      "SELECT (SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
      "        JOIN pg_namespace n ON n.oid = c.relnamespace "
      "        WHERE n.nspname = $1 AND c.relkind = 'r'), "
      "(SELECT COALESCE(MAX(version), 0) FROM schema_version), "
      "(SELECT COUNT(*) FROM servers), (SELECT COUNT(*) FROM api_keys), "
      "(SELECT COUNT(*) FROM server_api_keys), (SELECT COUNT(*) FROM signing_keys), "
      "(SELECT COUNT(*) FROM usage_daily), (SELECT COUNT(*) FROM runs)",
      PgParams().Text(db.schema()), "read the store's status");
  if (!rows) return tl::unexpected(rows.error());
  const PgRow row = (*rows)[0];
  StoreStatus status;
  status.backend = "postgresql";
  status.location = db.location();
  status.size_bytes = row.Int(0);
  status.schema_version = static_cast<int>(row.Int(1));
  status.servers = row.Int(2);
  status.api_keys = row.Int(3);
  status.links = row.Int(4);
  status.signing_keys = row.Int(5);
  status.usage_rows = row.Int(6);
  status.runs = row.Int(7);
  return status;
}

}  // namespace fleet::storage
