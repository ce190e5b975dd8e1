#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fleet {

// How the service authenticates to an instance.
enum class AuthMode {
  kApiKey,         // X-N8N-API-KEY with the server's primary (or only active) linked key
  kTokenExchange,  // RFC 8693: a signed subject JWT swapped for a bearer token
};

std::string_view AuthModeName(AuthMode mode);  // "api-key" | "token-exchange"
std::optional<AuthMode> ParseAuthMode(std::string_view text);

// An n8n instance, belonging to a customer (the billing account).
struct Server {
  int64_t id{};
  std::string name{};         // unique, UTF-8
  std::string url{};          // base URL, validated, without trailing slash
  std::string customer{};     // may be empty
  std::string description{};  // may be empty
  bool skip_tls_verify{false};
  AuthMode auth{AuthMode::kApiKey};
  std::string subject_email{};  // token exchange: the service identity's email ("" = default)
  std::string subject_role{};   // token exchange: role for the identity ("" = default)
  bool active{true};
  std::string tracking_since{};  // YYYY-MM-DD, first day whose usage is tracked
  int64_t created_at{};          // unix seconds, UTC
  int64_t updated_at{};
};

// An n8n API key kept under a name. The secret is only ever held sealed here; the registry
// module seals and opens it.
struct ApiKey {
  int64_t id{};
  std::string name{};
  std::string sealed_secret{};  // crypto::Sealer output (binary)
  std::string masked{};         // e.g. "eyJhbG…Y_Yw": safe to print
  std::string description{};
  bool active{true};
  std::optional<int64_t> issued_at{};   // the JWT's iat, if any
  std::optional<int64_t> expires_at{};  // the JWT's exp, if any
  int64_t created_at{};                 // when it was added here
  std::optional<int64_t> last_used_at{};
  std::vector<std::string> servers{};  // names of linked servers (filled by list/get)
};

// A key as seen from one server it is linked to.
struct LinkedKey {
  std::string key_name{};
  std::string description{};
  bool active{true};
  bool primary{false};
  int64_t linked_at{};
};

}  // namespace fleet
