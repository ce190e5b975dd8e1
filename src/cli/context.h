#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/output.h"
#include "core/clock.h"
#include "core/error.h"
#include "crypto/sealer.h"
#include "n8n/http.h"
#include "registry/registry.h"
#include "storage/open_store.h"
#include "storage/store.h"

namespace fleet::cli {

// Options every command accepts, parsed once.
struct GlobalOptions {
  std::string home{};  // --home
  std::string db{};    // --db
  bool no_emoji{false};
};

// One resolved setting, for `env`.
struct Setting {
  std::string name{};
  std::string value{};
  std::string source{};  // "flag --home", "env N8N_FLEET_HOME", "default"
  bool secret{false};
};

// The composition root's state for one command: resolved settings, and the store, master key
// and registry opened on first use.
class Context {
 public:
  Context(GlobalOptions options, Output& out, const Clock& clock);
  ~Context();

  // Called once the command line is parsed (commands are registered before that).
  void set_options(GlobalOptions options) { options_ = std::move(options); }

  Output& out() { return out_; }
  const Clock& clock() const { return clock_; }
  const GlobalOptions& options() const { return options_; }

  std::string home() const;
  // The database as given (--db, env N8N_FLEET_DB, default <home>/fleet.db), parsed:
  // kInvalidArgument for an empty one or an unsupported URL scheme.
  Result<storage::DatabaseLocation> location() const;
  // The database for messages, locks and SQLite file operations: the file path, or the
  // PostgreSQL URL with its password redacted (open it with location()).
  std::string db_path() const;
  // The service's configuration file: env N8N_FLEET_CONFIG, else <home>/config.toml if it
  // exists, else "" (defaults only). `serve --config` overrides it.
  std::string config_path() const;
  std::vector<Setting> Settings() const;
  // N8N_SERVER_URL / N8N_API_KEY, honoured as n8n-deploy does; "" when unset.
  std::string default_server_url() const;
  std::string default_api_key() const;

  // Creates the home (0700) if needed, loads the master key, opens (creating) the database and
  // checks the key against it.
  Result<registry::Registry*> OpenRegistry();
  // The database only (no master key): for commands that never touch secrets.
  Result<storage::Store*> OpenStore();
  // Closes the database (before `db restore` replaces the file).
  void CloseStore();

  n8n::HttpTransport& transport();

 private:
  Result<void> EnsureHome() const;
  std::string db_text() const;  // as given, password included

  GlobalOptions options_;
  Output& out_;
  const Clock& clock_;
  std::unique_ptr<storage::Store> store_;
  std::optional<crypto::Sealer> sealer_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<n8n::HttpTransport> transport_;
};

}  // namespace fleet::cli
