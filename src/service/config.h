#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace fleet::service {

// Every option of `n8n-fleet serve`. The TOML file uses these names as its keys; flags override it.
struct ServiceConfig {
  std::string listen{"127.0.0.1:8080"};  // HOST:PORT ("[::1]:8080" for IPv6)
  std::string collect_at{"01:30"};       // HH:MM, UTC
  int concurrency{64};
  int request_timeout_seconds{30};
  std::string tls_cert{};
  std::string tls_key{};
  bool insecure_listen{false};
  int shutdown_grace_seconds{20};
  int retry_base_seconds{300};
  int retry_max_seconds{7200};
  bool backfill{true};
  std::string log_format{"auto"};  // auto, text or json
  std::string log_level{"info"};   // debug, info, warn or error
  int http_threads{8};
  int64_t max_body_bytes{1048576};
  // The work queue (several services over one PostgreSQL database): how long a claimed server
  // stays leased without renewal (a crashed service's servers are claimed again after it), how
  // many servers one claim takes, and how often an idle service looks for work.
  int lease_seconds{300};
  int claim_servers{0};  // 0 = twice `concurrency`
  int poll_seconds{2};
};

// One option as merged, for `env`: source is "default", "file PATH" or "flag --x".
struct ConfigEntry {
  std::string name{};
  std::string value{};
  std::string source{};
};

struct LoadedConfig {
  ServiceConfig config{};
  std::vector<ConfigEntry> entries{};  // every option, in declaration order
};

// Reads `file` ("" = none: defaults only) and applies `overrides` (option name -> value as typed
// on the command line). Unknown keys, wrong types and bad values are refused with a message naming
// the key, the file and its line (or the flag).
Result<LoadedConfig> LoadServiceConfig(const std::string& file,
                                       const std::map<std::string, std::string>& overrides);

// LoadServiceConfig with the file already read: `toml` is its text (nullopt: no file), `file`
// only names it in messages.
Result<LoadedConfig> ParseServiceConfig(std::optional<std::string_view> toml,
                                        const std::string& file,
                                        const std::map<std::string, std::string>& overrides);

// "HOST:PORT" -> (host, port); "[::1]:8080" -> ("::1", 8080). Port 0 asks for any free port.
Result<std::pair<std::string, int>> SplitListen(std::string_view listen);

// "HH:MM" (00:00-23:59) -> minutes since midnight; nullopt for anything else.
std::optional<int> ParseCollectAt(std::string_view text);

}  // namespace fleet::service
