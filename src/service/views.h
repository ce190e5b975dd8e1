#pragma once

#include <nlohmann/json.hpp>

#include "core/types.h"

namespace fleet::service {

// One JSON shape per record, shared by the HTTP API and the CLI's --json output
// (docs/openapi.json describes them).
nlohmann::json RunJson(const CollectionRun& run);
nlohmann::json AttemptJson(const FetchAttempt& attempt);

}  // namespace fleet::service
