#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "registry/registry.h"

namespace fleet::registry {

enum class ServerFileFormat { kCsv, kJsonl };

// One server description from an import file, with where it came from.
struct ServerRow {
  int line{};
  ServerSpec spec{};
};

// Columns (CSV header row required, any order; JSONL keys): name, url, customer, description,
// auth (api-key | token-exchange), tracking_since (YYYY-MM-DD: the first day whose usage is
// collected; empty or absent keeps the current one, or today for a new server). name and url are
// required. Unknown columns are an error (a
// typo must not be silently ignored). Errors name the line.
Result<std::vector<ServerRow>> ParseServerFile(std::string_view text, ServerFileFormat format);
std::string WriteServerFile(const std::vector<Server>& servers, ServerFileFormat format);

// Validates every row (and duplicate names within the file) and then upserts them all in one
// transaction; on any bad row nothing is applied and the error names its line.
Result<storage::UpsertCounts> ImportServers(Registry& registry, const std::vector<ServerRow>& rows);

}  // namespace fleet::registry
