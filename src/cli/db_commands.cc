// `n8n-fleet db ...` and `n8n-fleet env`: the database file and the resolved settings.
#include <sys/stat.h>

#include <filesystem>

#include "cli/commands.h"
#include "core/time.h"
#include "service/config.h"
#include "storage/sqlite_store.h"

namespace fs = std::filesystem;

namespace fleet::cli {
namespace {

struct DbArgs {
  std::string path;
  bool json{false}, force{false};
};

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
    ctx.out().Json({{"database", status->location}, {"schema_version", status->schema_version}});
  } else {
    ctx.out().Success("Database ready: " + status->location + " (schema version " +
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
  if (a.json) {
    ctx.out().Json({{"backend", status->backend},
                    {"path", status->location},
                    {"size_bytes", status->size_bytes},
                    {"schema_version", status->schema_version},
                    {"servers", status->servers},
                    {"api_keys", status->api_keys},
                    {"links", status->links},
                    {"encryption", encryption},
                    {"master_key", key_source}});
    return kExitOk;
  }
  ctx.out().Table({"Setting", "Value"}, {{"Backend", status->backend},
                                         {"Path", status->location},
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
