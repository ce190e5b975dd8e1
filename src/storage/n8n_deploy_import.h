#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace fleet::storage {

// Rows read from an n8n-deploy SQLite database (tables servers, api_keys, server_api_keys).
// Columns missing in older n8n-deploy versions read as their defaults.
struct N8nDeployServer {
  int64_t id{};
  std::string name{};
  std::string url{};
  std::string description{};
  bool active{true};
  bool skip_ssl_verify{false};
};
struct N8nDeployKey {
  int64_t id{};
  std::string name{};
  std::string api_key{};  // plaintext, as n8n-deploy stores it
  std::string description{};
  bool active{true};
};
struct N8nDeployLink {
  int64_t server_id{};
  int64_t api_key_id{};
  bool primary{false};
};
struct N8nDeployData {
  std::vector<N8nDeployServer> servers{};
  std::vector<N8nDeployKey> keys{};
  std::vector<N8nDeployLink> links{};
};

// Opens `path` read-only and reads it. kNotFound if missing, kCorrupt if it is not SQLite or
// lacks the api_keys table (servers and server_api_keys are optional: old versions lack them).
Result<N8nDeployData> ReadN8nDeployDatabase(const std::string& path);

}  // namespace fleet::storage
