#include "cli/context.h"

#include <unistd.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "core/text.h"

namespace fleet::cli {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

Context::Context(GlobalOptions options, Output& out, const Clock& clock)
    : options_(std::move(options)), out_(out), clock_(clock) {}

Context::~Context() = default;

std::string Context::home() const {
  if (!options_.home.empty()) return options_.home;
  if (auto env = Env("N8N_FLEET_HOME"); !env.empty()) return env;
  return Env("HOME") + "/.n8n-fleet";
}

std::string Context::db_text() const {
  if (!options_.db.empty()) return options_.db;
  if (auto env = Env("N8N_FLEET_DB"); !env.empty()) return env;
  return home() + "/fleet.db";
}

Result<storage::DatabaseLocation> Context::location() const {
  return storage::ParseDatabaseLocation(db_text());
}

std::string Context::db_path() const {
  if (auto parsed = location()) return parsed->display();
  std::string text = db_text();
  size_t scheme = text.find("://");  // an unsupported URL: its scheme only, never its password
  return scheme == std::string::npos ? text : text.substr(0, scheme) + "://...";
}

std::string Context::default_server_url() const { return Env("N8N_SERVER_URL"); }
std::string Context::default_api_key() const { return Env("N8N_API_KEY"); }

std::string Context::config_path() const {
  if (auto env = Env("N8N_FLEET_CONFIG"); !env.empty()) return env;
  std::string path = home() + "/config.toml";
  return ::access(path.c_str(), F_OK) == 0 ? path : "";
}

std::vector<Setting> Context::Settings() const {
  auto source = [](bool flag, const char* flag_name, const char* env_name) -> std::string {
    if (flag) return std::string("flag ") + flag_name;
    if (!Env(env_name).empty()) return std::string("env ") + env_name;
    return "default";
  };
  std::vector<Setting> settings;
  settings.push_back({"home", home(), source(!options_.home.empty(), "--home", "N8N_FLEET_HOME")});
  settings.push_back({"database", db_path(), source(!options_.db.empty(), "--db", "N8N_FLEET_DB")});
  std::string key_env = Env("N8N_FLEET_MASTER_KEY");
  settings.push_back({"master key", key_env.empty() ? home() + "/master.key" : MaskSecret(key_env),
                      key_env.empty() ? "default" : "env N8N_FLEET_MASTER_KEY", !key_env.empty()});
  std::string url = default_server_url();
  settings.push_back({"server url", url.empty() ? "(unset)" : url,
                      url.empty() ? "default" : "env N8N_SERVER_URL"});
  std::string key = default_api_key();
  settings.push_back({"api key", key.empty() ? "(unset)" : MaskSecret(key),
                      key.empty() ? "default" : "env N8N_API_KEY", !key.empty()});
  settings.push_back({"emoji", options_.no_emoji ? "off" : "on",
                      options_.no_emoji ? "flag --no-emoji" : "default"});
  return settings;
}

Result<void> Context::EnsureHome() const {
  std::string dir = home();
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return MakeError(ErrorCode::kIo, "cannot create the home directory " + dir + ": " +
                                           ec.message() + " (set --home or N8N_FLEET_HOME)");
    }
    ::chmod(dir.c_str(), 0700);
  } else if (!std::filesystem::is_directory(dir, ec)) {
    return MakeError(ErrorCode::kIo, "the home " + dir + " exists and is not a directory");
  }
  return {};
}

Result<storage::Store*> Context::OpenStore() {
  if (store_) return store_.get();
  auto where = location();
  if (!where) return tl::unexpected(where.error());
  if (auto ok = EnsureHome(); !ok) return tl::unexpected(ok.error());
  auto store = storage::OpenStore(*where, /*create=*/true);
  if (!store) return tl::unexpected(store.error());
  store_ = std::move(*store);
  return store_.get();
}

void Context::CloseStore() {
  registry_.reset();
  store_.reset();
}

Result<registry::Registry*> Context::OpenRegistry() {
  if (registry_) return registry_.get();
  if (auto ok = EnsureHome(); !ok) return tl::unexpected(ok.error());
  auto where = location();
  if (!where) return tl::unexpected(where.error());
  // A new master key is made only for a new database: for SQLite one whose file does not exist
  // yet, for PostgreSQL one that holds no master key check (nothing was sealed into it).
  bool db_existed = false;
  if (where->backend == storage::DatabaseLocation::Backend::kSqlite) {
    db_existed = std::filesystem::exists(where->target);
  } else {
    auto store = OpenStore();
    if (!store) return tl::unexpected(store.error());
    auto sealed = registry::Registry::HasMasterKeyCheck(**store);
    if (!sealed) return tl::unexpected(sealed.error());
    db_existed = *sealed;
  }
  std::string env_key = Env("N8N_FLEET_MASTER_KEY");
  auto key = crypto::LoadMasterKey(home(), env_key.empty() ? nullptr : env_key.c_str(),
                                   /*create=*/!db_existed);
  if (!key) {
    if (key.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "the master key is missing (" + home() +
                           "/master.key not found, N8N_FLEET_MASTER_KEY unset) but the database " +
                           db_path() +
                           " exists: its secrets cannot be opened without the key it was "
                           "created with. Restore master.key or set N8N_FLEET_MASTER_KEY");
    }
    return tl::unexpected(key.error());
  }
  auto sealer = crypto::Sealer::FromKey(key->bytes);
  if (!sealer) return tl::unexpected(sealer.error());
  auto store = OpenStore();
  if (!store) return tl::unexpected(store.error());
  sealer_.emplace(*sealer);
  auto registry = std::make_unique<registry::Registry>(**store, *sealer_, clock_);
  if (auto ok = registry->VerifyMasterKey(); !ok) return tl::unexpected(ok.error());
  registry_ = std::move(registry);
  return registry_.get();
}

n8n::HttpTransport& Context::transport() {
  if (!transport_) transport_ = n8n::MakeCurlTransport();
  return *transport_;
}

}  // namespace fleet::cli
