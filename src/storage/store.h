#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

struct StoreStatus {
  std::string backend{};   // "sqlite"
  std::string location{};  // file path (or URL without password)
  int64_t size_bytes{};
  int schema_version{};
  int64_t servers{};
  int64_t api_keys{};
  int64_t links{};
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
  // Deletes the server and its links. With `delete_exclusive_keys`, also deletes the keys that
  // were linked to this server only; returns the names of deleted keys.
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

  // ---- metadata (small key/value settings, e.g. the master key check)
  virtual Result<std::optional<std::string>> GetMeta(std::string_view key) = 0;
  [[nodiscard]] virtual Result<void> SetMeta(std::string_view key, std::string_view value) = 0;

  virtual Result<StoreStatus> Status() = 0;
};

}  // namespace fleet::storage
