// Read routes: servers, usage rows, collection runs, gaps.

#include "collector/run.h"
#include "service/api_router.h"
#include "service/views.h"

namespace fleet::service::api {
namespace {

constexpr int64_t kDefaultWindowDays = 30;

nlohmann::json ServerJson(const Server& server, const std::map<std::string, int64_t>& last) {
  auto it = last.find(server.name);
  return {{"name", server.name},
          {"url", server.url},
          {"customer", server.customer},
          {"description", server.description},
          {"auth", AuthModeName(server.auth)},
          {"active", server.active},
          {"tracking_since", server.tracking_since.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(server.tracking_since)},
          {"last_collected_at",
           TimeOrNull(it == last.end() ? std::nullopt : std::optional<int64_t>(it->second))},
          {"created_at", FormatTimestamp(server.created_at)},
          {"updated_at", FormatTimestamp(server.updated_at)}};
}

void ListServers(Call& call) {
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  storage::ServerFilter filter;
  filter.customer = call.Query("customer");
  auto servers = (*store)->ListServers(filter);
  if (!servers) return SendFailure(call.res, servers.error());
  auto last = (*store)->LastCollectedAt();
  if (!last) return SendFailure(call.res, last.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& server : *servers) list.push_back(ServerJson(server, *last));
  SendJson(call.res, 200, {{"servers", std::move(list)}});
}

void GetServer(Call& call) {
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto server = (*store)->GetServer(call.path_params["name"]);
  if (!server) return SendFailure(call.res, server.error());
  auto last = (*store)->LastCollectedAt();
  if (!last) return SendFailure(call.res, last.error());
  auto keys = (*store)->ListServerKeys(server->name);
  if (!keys) return SendFailure(call.res, keys.error());
  nlohmann::json body = ServerJson(*server, *last);
  body["keys"] = nlohmann::json::array();
  for (const auto& key : *keys) {
    body["keys"].push_back(
        {{"name", key.key_name}, {"active", key.active}, {"primary", key.primary}});
  }
  SendJson(call.res, 200, body);
}

void ListUsage(Call& call) {
  Day today = DayOf(call.now);
  auto range = DayRangeParams(call, today - kDefaultWindowDays, today);
  if (!range) return;
  storage::UsageFilter filter;
  filter.server = call.Query("server");
  filter.customer = call.Query("customer");
  filter.from_day = FormatDay(range->first);
  filter.to_day = FormatDay(range->second);
  auto source = ParseUsageSource(call.req.params);
  if (!source) return SendFailure(call.res, source.error().error, source.error().parameter);
  filter.source = *source;
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto rows = (*store)->ListDailyUsage(filter);
  if (!rows) return SendFailure(call.res, rows.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& row : *rows) {
    list.push_back(
        {{"server", row.server},
         {"customer", row.customer},
         {"day", row.day},
         {"total", row.total},
         {"failed", row.failed},
         {"failure_rate", row.failure_rate},
         {"time_saved_minutes", row.time_saved_minutes},
         {"average_run_time_ms", row.average_run_time_ms},
         {"source", row.source},
         {"collected_at", FormatTimestamp(row.collected_at)},
         {"run_id", row.run_id == 0 ? nlohmann::json(nullptr) : nlohmann::json(row.run_id)}});
  }
  SendJson(call.res, 200, {{"usage", std::move(list)}});
}

void ListRuns(Call& call) {
  auto limit = ParseRunsLimit(call.req.params);
  if (!limit) return SendFailure(call.res, limit.error().error, limit.error().parameter);
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto runs = (*store)->ListRuns(*limit);
  if (!runs) return SendFailure(call.res, runs.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& run : *runs) list.push_back(RunJson(run));
  SendJson(call.res, 200, {{"runs", std::move(list)}});
}

void GetRun(Call& call) {
  const std::string& text = call.path_params["id"];
  auto id = ParsePositive(text);
  if (!id) return SendError(call.res, 400, "run id '" + text + "' is not a positive number", "id");
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto run = (*store)->GetRun(*id);
  if (!run) return SendFailure(call.res, run.error());
  auto attempts = (*store)->ListAttempts(*id);
  if (!attempts) return SendFailure(call.res, attempts.error());
  nlohmann::json body = RunJson(*run);
  body["attempts"] = nlohmann::json::array();
  for (const auto& attempt : *attempts) body["attempts"].push_back(AttemptJson(attempt));
  SendJson(call.res, 200, body);
}

void ListGaps(Call& call) {
  Day today = DayOf(call.now);
  auto range = DayRangeParams(call, today - kDefaultWindowDays, today - 1);
  if (!range) return;
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto server = call.Query("server");
  if (server) {
    if (auto found = (*store)->GetServer(*server); !found) {
      return SendFailure(call.res, found.error(), "server");
    }
  }
  auto gaps = collector::FindGaps(**store, range->first, range->second);
  if (!gaps) return SendFailure(call.res, gaps.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& gap : *gaps) {
    if (server && gap.server != *server) continue;
    list.push_back(
        {{"server", gap.server}, {"customer", gap.customer}, {"day", FormatDay(gap.day)}});
  }
  size_t count = list.size();
  SendJson(call.res, 200, {{"gaps", std::move(list)}, {"count", count}});
}

}  // namespace

void AddReadRoutes(Router& router) {
  router.Add("GET", "/api/v1/servers", Access::kApiToken, ListServers);
  router.Add("GET", "/api/v1/servers/{name}", Access::kApiToken, GetServer);
  router.Add("GET", "/api/v1/usage", Access::kApiToken, ListUsage);
  router.Add("GET", "/api/v1/runs", Access::kApiToken, ListRuns);
  router.Add("GET", "/api/v1/runs/{id}", Access::kApiToken, GetRun);
  router.Add("GET", "/api/v1/gaps", Access::kApiToken, ListGaps);
}

}  // namespace fleet::service::api
