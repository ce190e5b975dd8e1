// Routes without a token (health, readiness, JWKS, the dashboard) and GET /metrics.

#include "service/api_jwks.h"
#include "service/api_router.h"

namespace fleet::service::api {
namespace {

void Healthz(Call& call) { SendJson(call.res, 200, {{"status", "ok"}}); }

void Readyz(Call& call) {
  bool database = false;
  if (auto store = call.Store(); store) {
    database = (*store)->ListRuns(1).has_value();
  }
  bool scheduler = !call.deps.scheduler_alive || call.deps.scheduler_alive();
  bool ready = database && scheduler;
  SendJson(call.res, ready ? 200 : 503,
           {{"status", ready ? "ready" : "not_ready"},
            {"checks", {{"database", database}, {"scheduler", scheduler}}}});
}

void Jwks(Call& call) {
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto jwks = BuildJwks(**store);
  if (!jwks) return SendFailure(call.res, jwks.error());
  call.res.status = 200;
  // n8n takes its refresh interval from max-age (n8n-reference.md section 1).
  call.res.set_header("Cache-Control", "public, max-age=300");
  call.res.set_content(jwks->dump() + "\n", "application/jwk-set+json");
}

void MetricsText(Call& call) {
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto text = call.deps.metrics->Render(**store, call.now);
  if (!text) return SendFailure(call.res, text.error());
  call.res.status = 200;
  call.res.set_header("Cache-Control", "no-store");
  call.res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
}

void Asset(Call& call) {
  const service::Asset* asset =
      call.deps.find_asset ? call.deps.find_asset(call.req.path) : nullptr;
  if (asset == nullptr) return SendError(call.res, 404, "no such page: " + call.req.path);
  call.res.status = 200;
  // The page itself is revalidated (a new binary may serve new asset names); assets are stable.
  bool page = call.req.path == "/";
  call.res.set_header("Cache-Control", page ? "no-cache" : "public, max-age=3600");
  call.res.set_header("X-Content-Type-Options", "nosniff");
  call.res.set_content(std::string(asset->body), std::string(asset->content_type));
}

}  // namespace

void AddPublicRoutes(Router& router) {
  router.Add("GET", "/healthz", Access::kPublic, Healthz);
  router.Add("GET", "/readyz", Access::kPublic, Readyz);
  router.Add("GET", "/.well-known/jwks.json", Access::kPublic, Jwks);
  router.Add("GET", "/metrics", Access::kApiToken, MetricsText);
  router.Add("GET", "/", Access::kPublic, Asset);
  router.Add("GET", "/assets/*", Access::kPublic, Asset);
}

}  // namespace fleet::service::api
