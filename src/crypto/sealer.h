#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace fleet::crypto {

constexpr size_t kMasterKeyBytes = 32;

// Authenticated encryption of secrets at rest (libsodium crypto_secretbox: XSalsa20-Poly1305,
// a fresh random nonce per message). Sealed form: a version byte, the nonce, the box.
class Sealer {
 public:
  // `key` must be exactly kMasterKeyBytes raw bytes.
  static Result<Sealer> FromKey(std::string_view key);

  std::string Seal(std::string_view plaintext) const;
  // kPermissionDenied when the box does not authenticate (wrong master key or tampering);
  // kCorrupt when it is too short or of an unknown version.
  Result<std::string> Open(std::string_view sealed) const;

  Sealer(const Sealer&) = default;
  Sealer& operator=(const Sealer&) = default;
  ~Sealer();  // wipes the key

 private:
  explicit Sealer(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// Where the master key came from, for `env` and `db status`.
struct MasterKey {
  std::string bytes{};   // raw, kMasterKeyBytes
  std::string source{};  // "env N8N_FLEET_MASTER_KEY" | "file <path>" | "generated <path>"
};

// The master key: N8N_FLEET_MASTER_KEY (base64 or 64 hex digits of 32 bytes) when `env_value`
// is set, else `<home>/master.key` (base64 text, mode 0600), created with random bytes when
// missing and `create` is true. A file with wrong permissions (group/other readable) is refused.
// Errors: kInvalidArgument for a bad (or empty) env value, without echoing it; kPermissionDenied
// for a file others can access (the message says `chmod 600 <path>`); kCorrupt for a file that
// does not hold 32 bytes; kNotFound when missing and !create; kIo otherwise. The file is created
// complete or not at all (written to a private temporary file, then linked into place).
Result<MasterKey> LoadMasterKey(const std::string& home, const char* env_value, bool create);

// Cryptographically secure random bytes (libsodium randombytes_buf).
std::string RandomBytes(size_t count);

// Lower-case hex SHA-256 of `data` (libsodium).
std::string Sha256Hex(std::string_view data);

}  // namespace fleet::crypto
