#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "storage/store.h"

namespace fleet::service {

// The JSON Web Key Set n8n instances trust (`{"type":"jwks","url":".../.well-known/jwks.json"}`):
// the public halves of the active and standby signing keys (not retired), oldest first, so a
// standby key is published before it signs (rotation without downtime). Public keys only: no
// master key is needed.
Result<nlohmann::json> BuildJwks(storage::Store& store);

}  // namespace fleet::service
