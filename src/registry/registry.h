#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/types.h"
#include "crypto/sealer.h"
#include "storage/store.h"

namespace fleet::registry {

// What a user may say about a server; empty optionals keep the current value on update.
struct ServerSpec {
  std::string name{};
  std::optional<std::string> url{};
  std::optional<std::string> customer{};
  std::optional<std::string> description{};
  std::optional<bool> skip_tls_verify{};
  std::optional<AuthMode> auth{};
  std::optional<std::string> subject_email{};
  std::optional<std::string> subject_role{};
  std::optional<std::string> tracking_since{};  // YYYY-MM-DD
};

struct ImportReport {
  int64_t servers_created{};
  int64_t servers_updated{};
  int64_t servers_unchanged{};
  int64_t keys_created{};
  int64_t keys_unchanged{};
  int64_t links_created{};
  std::vector<std::string> skipped{};  // one human-readable line each: what and why
};

// The registry's rules on top of the Store: validation, sealing of secrets, key resolution.
// Every mutation validates all of its input before it changes anything.
class Registry {
 public:
  Registry(storage::Store& store, const crypto::Sealer& sealer, const Clock& clock)
      : store_(store), sealer_(sealer), clock_(clock) {}

  // Checks the master key against the value sealed in the database on first use; a database
  // sealed under another key is refused with kPermissionDenied and never written to.
  [[nodiscard]] Result<void> VerifyMasterKey();
  // Whether `store` holds a master key check, i.e. secrets may have been sealed into it: a new
  // master key must then never be generated for it.
  static Result<bool> HasMasterKeyCheck(storage::Store& store);

  Result<Server> CreateServer(const ServerSpec& spec);
  Result<Server> UpdateServer(const ServerSpec& spec);
  // Validates a spec into a full Server (for bulk import), without storing it.
  Result<Server> BuildServer(const ServerSpec& spec, const Server* existing) const;

  // Adds a key (validated: JWT shape, name); with `server`, links it as that server's key in the
  // same transaction (primary if the server has none).
  Result<ApiKey> AddApiKey(const std::string& name, const std::string& secret,
                           const std::string& description, const std::string& server);
  Result<void> RotateApiKey(const std::string& name, const std::string& secret);
  Result<std::string> RevealApiKey(const std::string& name);  // plaintext

  // The key used for calls to `server`: its primary link if active, else its only active key.
  // kFailedPrecondition with a hint when there is none (or several and no primary).
  Result<std::pair<std::string, std::string>> ResolveServerKey(const std::string& server);

  // `db import-n8n-deploy`: servers, keys (sealed on the way in) and links; idempotent.
  Result<ImportReport> ImportN8nDeploy(const std::string& path);

  storage::Store& store() { return store_; }
  const crypto::Sealer& sealer() const { return sealer_; }
  int64_t now() const { return clock_.NowUnixSeconds(); }

 private:
  storage::Store& store_;
  const crypto::Sealer& sealer_;
  const Clock& clock_;
};

// Checks a secret is an n8n API key (JWT shape) and reads its metadata.
Result<ApiKey> DescribeApiKeySecret(const std::string& secret);

}  // namespace fleet::registry
