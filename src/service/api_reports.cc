// The monthly report (JSON or CSV) and POST /api/v1/collect.

#include <memory>

#include "collector/run.h"
#include "service/api_router.h"
#include "service/reports.h"

namespace fleet::service::api {
namespace {

// Rendered reports kept per service; at most this many bytes of bodies (a month by server of a
// 10,000-server fleet renders to about 4 MB).
constexpr size_t kReportCacheBytes = 64 << 20;

void MonthlyReportRoute(Call& call, MonthlyReportCache& cache) {
  Day today = DayOf(call.now);
  auto query = ParseMonthlyReportQuery(call.req.params, call.req.get_header_value("Accept"), today);
  if (!query) return SendFailure(call.res, query.error().error, query.error().parameter);
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto report = cache.Get(**store, query->month, query->by, today);
  if (!report) return SendFailure(call.res, report.error());
  call.res.status = 200;
  call.res.set_header("Vary", "Accept");
  call.res.set_header("Cache-Control", "no-store");
  if (!query->csv) {
    call.res.set_content((*report)->json, "application/json; charset=utf-8");
    return;
  }
  call.res.set_header("Content-Disposition",
                      "attachment; filename=\"" + (*report)->filename + "\"");
  call.res.set_content((*report)->csv, "text/csv; charset=utf-8");
}

void Collect(Call& call) {
  if (call.deps.runner == nullptr) {
    return SendError(call.res, 503, "collections are not available in this service");
  }
  auto request = ParseCollectBody(call.req.body);
  if (!request) return SendFailure(call.res, request.error().error, request.error().parameter);
  auto run = call.deps.runner->Start(*request);
  if (!run) {
    std::string parameter;
    if (run.error().code == ErrorCode::kNotFound) parameter = "servers";
    if (run.error().code == ErrorCode::kInvalidArgument) parameter = "body";
    return SendFailure(call.res, run.error(), parameter);
  }
  call.res.set_header("Location", "/api/v1/runs/" + std::to_string(*run));
  SendJson(call.res, 202, {{"run", *run}, {"status", "running"}});
}

}  // namespace

void AddReportRoutes(Router& router) {
  auto cache = std::make_shared<MonthlyReportCache>(kReportCacheBytes);
  router.Add("GET", "/api/v1/reports/monthly", Access::kApiToken,
             [cache](Call& call) { MonthlyReportRoute(call, *cache); });
  router.Add("POST", "/api/v1/collect", Access::kApiToken, Collect);
}

}  // namespace fleet::service::api
