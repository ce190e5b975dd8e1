// `n8n-fleet db ...` and `n8n-fleet env`: the database file and the resolved settings.
#include <sys/stat.h>

#include <filesystem>
#include <optional>

#include "cli/commands.h"
#include "cli/progress.h"
#include "core/time.h"
#include "service/config.h"
#include "storage/copy_to_postgres.h"
#include "storage/open_store.h"
#include "storage/sqlite_store.h"

namespace fs = std::filesystem;

namespace fleet::cli {
namespace {

using Backend = storage::DatabaseLocation::Backend;

struct DbArgs {
  std::string path;
  std::string to;  // db migrate --to
  bool json{false}, force{false};
};

// File-level commands work on SQLite files only; on PostgreSQL its own tools do the job.
Result<void> RequireSqlite(Context& ctx, const std::string& command, const std::string& instead) {
  auto where = ctx.location();
  if (!where) return tl::unexpected(where.error());
  if (where->backend == Backend::kSqlite) return {};
  return MakeError(ErrorCode::kFailedPrecondition,
                   "`db " + command + "` works on SQLite database files, and " + ctx.db_path() +
                       " is PostgreSQL: " + instead);
}

std::string Stamp(int64_t now) {
  std::string iso = FormatTimestamp(now);  // 2026-11-24T16:05:00Z
  std::string out;
  for (char c : iso) {
    if (c != '-' && c != ':' && c != 'Z') out.push_back(c == 'T' ? '-' : c);
  }
  return out;
}

Result<int> Init(Context& ctx, const DbArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto status = (*registry)->store().Status();
  if (!status) return tl::unexpected(status.error());
  if (a.json) {
    ctx.out().Json({{"database", ctx.db_path()}, {"schema_version", status->schema_version}});
  } else {
    ctx.out().Success("Database ready: " + ctx.db_path() + " (schema version " +
                      std::to_string(status->schema_version) + ")");
  }
  return kExitOk;
}

Result<int> Status(Context& ctx, const DbArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto status = (*registry)->store().Status();
  if (!status) return tl::unexpected(status.error());
  std::string key_source = "file " + ctx.home() + "/master.key";
  for (const auto& s : ctx.Settings()) {
    if (s.name == "master key" && s.source != "default") key_source = s.source;
  }
  std::string encryption = "API keys sealed with XSalsa20-Poly1305 (libsodium secretbox)";
  auto where = ctx.location();
  if (!where) return tl::unexpected(where.error());
  // The location as this command resolved it (a PostgreSQL URL with its password redacted).
  std::string backend(where->backend_name());
  if (a.json) {
    ctx.out().Json({{"backend", backend},
                    {"path", ctx.db_path()},
                    {"size_bytes", status->size_bytes},
                    {"schema_version", status->schema_version},
                    {"servers", status->servers},
                    {"api_keys", status->api_keys},
                    {"links", status->links},
                    {"encryption", encryption},
                    {"master_key", key_source}});
    return kExitOk;
  }
  ctx.out().Table({"Setting", "Value"},
                  {{"Backend", backend},
                   {where->backend == Backend::kSqlite ? "Path" : "URL", ctx.db_path()},
                   {"Size", std::to_string(status->size_bytes) + " bytes"},
                   {"Schema version", std::to_string(status->schema_version)},
                   {"Servers", std::to_string(status->servers)},
                   {"API keys", std::to_string(status->api_keys)},
                   {"Links", std::to_string(status->links)},
                   {"Encryption", encryption},
                   {"Master key", key_source}});
  return kExitOk;
}

Result<int> Backup(Context& ctx, const DbArgs& a) {
  if (auto ok = RequireSqlite(ctx, "backup",
                              "back it up with pg_dump (e.g. pg_dump --format=custom "
                              "--file=fleet.dump '" +
                                  ctx.db_path() + "')");
      !ok) {
    return tl::unexpected(ok.error());
  }
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  std::string destination = a.path;
  if (destination.empty()) {
    std::string dir = ctx.home() + "/backups";
    std::error_code ec;
    fs::create_directories(dir, ec);
    ::chmod(dir.c_str(), 0700);
    destination = dir + "/fleet-" + Stamp(ctx.clock().NowUnixSeconds()) + ".db";
  }
  if (auto ok = storage::BackupSqlite(ctx.db_path(), destination); !ok) {
    return tl::unexpected(ok.error());
  }
  if (a.json) {
    ctx.out().Json({{"backup", destination}});
  } else {
    ctx.out().Success("Backup written to " + destination);
  }
  return kExitOk;
}

// Validates the backup, checks that this home's master key opens it, keeps a copy of the
// current database, then swaps the file in.
Result<int> Restore(Context& ctx, const DbArgs& a) {
  if (auto ok = RequireSqlite(ctx, "restore",
                              "restore a pg_dump archive with pg_restore (e.g. pg_restore --clean "
                              "--dbname='" +
                                  ctx.db_path() + "' fleet.dump)");
      !ok) {
    return tl::unexpected(ok.error());
  }
  if (!fs::exists(a.path)) {
    return MakeError(ErrorCode::kNotFound, "no backup file at " + a.path);
  }
  auto version = storage::ValidateFleetDatabase(a.path);
  if (!version) {
    return tl::unexpected(WithContext(version.error(), "refusing to restore " + a.path));
  }
  if (*version > storage::CurrentSchemaVersion()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     a.path + " has schema version " + std::to_string(*version) +
                         ", newer than this n8n-fleet understands; upgrade n8n-fleet first");
  }
  std::string db = ctx.db_path();
  std::string staging = db + ".restoring";
  ctx.CloseStore();
  std::error_code ec;
  fs::remove(staging, ec);
  if (auto ok = storage::BackupSqlite(a.path, staging); !ok) return tl::unexpected(ok.error());
  {
    GlobalOptions staged = ctx.options();
    staged.db = staging;
    Context check(staged, ctx.out(), ctx.clock());
    if (auto ok = check.OpenRegistry(); !ok) {
      fs::remove(staging, ec);
      return tl::unexpected(WithContext(ok.error(), "refusing to restore " + a.path));
    }
  }
  std::string kept;
  if (fs::exists(db)) {
    kept = db + ".before-restore-" + Stamp(ctx.clock().NowUnixSeconds());
    if (auto ok = storage::BackupSqlite(db, kept); !ok) {
      fs::remove(staging, ec);
      return tl::unexpected(ok.error());
    }
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    fs::remove(db + suffix, ec);
    fs::remove(staging + suffix, ec);
  }
  fs::rename(staging, db, ec);
  if (ec)
    return MakeError(ErrorCode::kIo, "cannot move the restored file into place: " + ec.message());
  if (a.json) {
    ctx.out().Json({{"restored", a.path}, {"previous", kept}});
  } else {
    ctx.out().Success("Restored " + a.path + " into " + db);
    if (!kept.empty()) ctx.out().Line("The previous database was kept at " + kept);
  }
  return kExitOk;
}

Result<int> Compact(Context& ctx, const DbArgs& a) {
  if (auto ok = RequireSqlite(ctx, "compact",
                              "PostgreSQL reclaims space with VACUUM (autovacuum runs it; run "
                              "VACUUM (ANALYZE) in psql to force it)");
      !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto store = ctx.OpenStore(); !store) return tl::unexpected(store.error());
  ctx.CloseStore();
  auto sizes = storage::CompactSqlite(ctx.db_path());
  if (!sizes) return tl::unexpected(sizes.error());
  if (a.json) {
    ctx.out().Json({{"before_bytes", sizes->first}, {"after_bytes", sizes->second}});
  } else {
    ctx.out().Success("Compacted " + ctx.db_path() + ": " + std::to_string(sizes->first) + " -> " +
                      std::to_string(sizes->second) + " bytes");
  }
  return kExitOk;
}

// Copies the SQLite database (--db or the default) into the PostgreSQL one at --to, verifies
// the copy and prints what was copied. Both must open under this home's master key: secrets are
// copied sealed.
Result<int> Migrate(Context& ctx, const DbArgs& a) {
  auto configured = ctx.location();
  if (!configured) return tl::unexpected(configured.error());
  // The source is the configured database when it is SQLite. When only N8N_FLEET_DB names
  // PostgreSQL (`db migrate --to "$N8N_FLEET_DB"`), it is the home's default file.
  std::string source_path;
  if (configured->backend == Backend::kSqlite) {
    source_path = configured->target;
  } else if (ctx.options().db.empty()) {
    source_path = ctx.home() + "/fleet.db";
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     "`db migrate` copies a SQLite database into PostgreSQL, and --db names " +
                         ctx.db_path() +
                         ": give the SQLite file with --db and the PostgreSQL database with --to");
  }
  auto target = storage::ParseDatabaseLocation(a.to);
  if (!target) return tl::unexpected(target.error());
  if (target->backend != Backend::kPostgres) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--to must be a postgresql://user@host:port/database URL");
  }
  if (!fs::exists(source_path)) {
    return MakeError(ErrorCode::kNotFound,
                     "no SQLite database at " + source_path + " to migrate (give it with --db)");
  }
  // Both open under this home's master key: the source's (checked), and the target's, whose
  // tables are created and whose key check is recorded or compared, so a target sealed under
  // another key is refused before anything is copied.
  for (const auto& [db, what] : {std::pair{source_path, "refusing to migrate from "},
                                 std::pair{target->target, "refusing to migrate into "}}) {
    GlobalOptions staged = ctx.options();
    staged.db = db;
    Context check(staged, ctx.out(), ctx.clock());
    if (auto ok = check.OpenRegistry(); !ok) {
      return tl::unexpected(WithContext(ok.error(), what + check.db_path()));
    }
  }
  std::optional<ProgressBar> progress;
  storage::CopyToPostgresOptions options;
  options.sqlite_path = source_path;
  options.postgres_url = target->target;
  options.progress = [&](int64_t copied, int64_t total) {
    if (!progress) progress.emplace("migrate", total, !a.json);
    progress->Update(copied, 0);
  };
  auto report = storage::CopySqliteToPostgres(options);
  if (progress) progress->Finish();
  if (!report) {
    Error error = report.error();
    error.message = target->Scrub(error.message);
    return tl::unexpected(error);
  }
  int64_t rows = 0;
  for (const auto& t : report->tables) rows += t.source_rows;
  if (a.json) {
    nlohmann::json tables = nlohmann::json::array(), months = nlohmann::json::array();
    for (const auto& t : report->tables) {
      tables.push_back({{"table", t.table},
                        {"source_rows", t.source_rows},
                        {"target_rows", t.target_rows},
                        {"equal", t.source_rows == t.target_rows}});
    }
    for (const auto& m : report->months) {
      months.push_back({{"month", m.month},
                        {"source", m.source},
                        {"source_rows", m.source_rows},
                        {"source_total", m.source_total},
                        {"source_failed", m.source_failed},
                        {"target_rows", m.target_rows},
                        {"target_total", m.target_total},
                        {"target_failed", m.target_failed},
                        {"equal", m.equal()}});
    }
    ctx.out().Json({{"source", source_path},
                    {"target", target->display()},
                    {"rows", rows},
                    {"verified", report->verified},
                    {"committed", report->verified},
                    {"tables", tables},
                    {"months", months}});
  } else {
    auto verdict = [](bool equal) { return std::string(equal ? "ok" : "MISMATCH"); };
    std::vector<std::vector<std::string>> table_rows;
    for (const auto& t : report->tables) {
      table_rows.push_back({t.table, std::to_string(t.source_rows), std::to_string(t.target_rows),
                            verdict(t.source_rows == t.target_rows)});
    }
    ctx.out().Table({"Table", "SQLite rows", "PostgreSQL rows", "Check"}, table_rows);
    std::vector<std::vector<std::string>> month_rows;
    auto pair = [](int64_t source, int64_t target) {
      return source == target ? std::to_string(source)
                              : std::to_string(source) + " vs " + std::to_string(target);
    };
    for (const auto& m : report->months) {
      month_rows.push_back({m.month, m.source, pair(m.source_rows, m.target_rows),
                            pair(m.source_total, m.target_total),
                            pair(m.source_failed, m.target_failed), verdict(m.equal())});
    }
    if (!month_rows.empty()) {
      ctx.out().Line("");
      ctx.out().Table({"Month", "Source", "Rows", "Total", "Failed", "Check"}, month_rows);
    }
  }
  if (!report->verified) {
    return MakeError(ErrorCode::kCorrupt,
                     "the copy in " + target->display() + " does not match " + source_path +
                         " (see the MISMATCH rows); it was rolled back, nothing was committed. "
                         "Does the PostgreSQL database hold other data? Migrate into an empty one");
  }
  if (!a.json) {
    ctx.out().Success("Copied " + std::to_string(rows) + " rows from " + source_path + " into " +
                      target->display() + "; row counts and monthly totals verified");
    ctx.out().Line(
        "Point n8n-fleet at it with --db or N8N_FLEET_DB set to that URL (with its "
        "password); this home's master key opens its secrets");
  }
  return kExitOk;
}

Result<int> ImportN8nDeploy(Context& ctx, const DbArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto report = (*registry)->ImportN8nDeploy(a.path);
  if (!report) return tl::unexpected(WithContext(report.error(), "import of " + a.path));
  if (a.json) {
    ctx.out().Json(
        {{"servers",
          {{"created", report->servers_created}, {"unchanged", report->servers_unchanged}}},
         {"api_keys", {{"created", report->keys_created}, {"unchanged", report->keys_unchanged}}},
         {"links_created", report->links_created},
         {"skipped", report->skipped}});
    return kExitOk;
  }
  ctx.out().Success("Imported from " + a.path + ": " + std::to_string(report->servers_created) +
                    " servers, " + std::to_string(report->keys_created) + " API keys, " +
                    std::to_string(report->links_created) + " links (" +
                    std::to_string(report->servers_unchanged + report->keys_unchanged) +
                    " already present)");
  for (const auto& line : report->skipped) ctx.out().Warn("skipped " + line);
  return kExitOk;
}

// The CLI's settings, then the service's (`serve`): its configuration file merged with defaults.
Result<int> Env(Context& ctx, bool json, const std::string& config) {
  auto settings = ctx.Settings();
  std::string file = config.empty() ? ctx.config_path() : config;
  auto loaded = service::LoadServiceConfig(file, {});
  if (!loaded) return tl::unexpected(loaded.error());
  settings.push_back({"serve.config", file.empty() ? "(none)" : file,
                      !config.empty()                              ? "flag --config"
                      : std::getenv("N8N_FLEET_CONFIG") != nullptr ? "env N8N_FLEET_CONFIG"
                                                                   : "default",
                      false});
  for (const auto& entry : loaded->entries) {
    settings.push_back({"serve." + entry.name, entry.value, entry.source, false});
  }
  if (json) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& s : settings) out[s.name] = {{"value", s.value}, {"source", s.source}};
    ctx.out().Json(out);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : settings) rows.push_back({s.name, s.value, s.source});
  ctx.out().Table({"Setting", "Value", "Source"}, rows);
  return kExitOk;
}

}  // namespace

void AddDbCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* group = app.add_subcommand("db", "Manage the database");
  group->require_subcommand(1);
  auto a = std::make_shared<DbArgs>();
  auto bind = [&action, &ctx, a](CLI::App* cmd, auto fn) {
    cmd->callback([&action, &ctx, a, fn] { action = [&ctx, a, fn] { return fn(ctx, *a); }; });
  };
  auto* init = group->add_subcommand("init", "Create (or upgrade) the database");
  init->add_flag("--json", a->json, "JSON output");
  bind(init, Init);
  auto* status = group->add_subcommand("status", "Path, size, schema version, counts");
  status->add_flag("--json", a->json, "JSON output");
  bind(status, Status);
  auto* backup = group->add_subcommand("backup", "Consistent online copy of the database");
  backup->add_option("path", a->path, "Destination (default: <home>/backups/fleet-<time>.db)");
  backup->add_flag("--json", a->json, "JSON output");
  bind(backup, Backup);
  auto* restore = group->add_subcommand("restore", "Replace the database with a backup");
  restore->add_option("path", a->path, "Backup file")->required();
  restore->add_flag("--json", a->json, "JSON output");
  bind(restore, Restore);
  auto* compact = group->add_subcommand("compact", "Reclaim free space (VACUUM)");
  compact->add_flag("--json", a->json, "JSON output");
  bind(compact, Compact);
  auto* migrate =
      group->add_subcommand("migrate", "Copy this SQLite database into PostgreSQL and verify it");
  migrate->add_option("--to", a->to, "The PostgreSQL database: postgresql://user@host:port/db")
      ->required();
  migrate->add_flag("--json", a->json, "JSON output");
  bind(migrate, Migrate);
  auto* import = group->add_subcommand("import-n8n-deploy",
                                       "Import servers, API keys and links from n8n-deploy");
  import->add_option("path", a->path, "n8n-deploy's database file (n8n-deploy.db)")->required();
  import->add_flag("--json", a->json, "JSON output");
  bind(import, ImportN8nDeploy);
}

void AddEnvCommand(CLI::App& app, Context& ctx, Action& action) {
  auto* env = app.add_subcommand("env", "Show each setting, its value and where it came from");
  auto json = std::make_shared<bool>(false);
  auto config = std::make_shared<std::string>();
  env->add_flag("--json", *json, "JSON output");
  env->add_option("--config", *config, "The service's configuration file (as `serve --config`)");
  env->callback([&action, &ctx, json, config] {
    action = [&ctx, json, config] { return Env(ctx, *json, *config); };
  });
}

}  // namespace fleet::cli
