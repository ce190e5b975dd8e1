#pragma once

#include <cstdint>

#include "core/types.h"
#include "n8n/client.h"
#include "n8n/http.h"
#include "registry/authenticator.h"

namespace fleet::registry {

// `server test`: reachable (GET /healthz), credentials (the API key it will use, or a token
// exchange), authenticated (GET /api/v1/workflows?limit=1), insights readable (yesterday's
// summary, which needs the insights:read scope). Every step is reported; steps after a failed
// one are reported as skipped.
n8n::KeyCheckReport TestServer(const Server& server, Authenticator& auth,
                               n8n::HttpTransport& transport, int64_t now);

}  // namespace fleet::registry
