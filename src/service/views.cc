#include "service/views.h"

#include "core/time.h"

namespace fleet::service {

nlohmann::json RunJson(const CollectionRun& run) {
  return {{"id", run.id},
          {"status", RunStatusName(run.status)},
          {"started_at", FormatTimestamp(run.started_at)},
          {"finished_at", run.finished_at ? nlohmann::json(FormatTimestamp(*run.finished_at))
                                          : nlohmann::json(nullptr)},
          {"description", run.description},
          {"servers_attempted", run.servers_attempted},
          {"servers_succeeded", run.servers_succeeded},
          {"servers_failed", run.servers_failed},
          {"days_stored", run.days_stored}};
}

nlohmann::json AttemptJson(const FetchAttempt& attempt) {
  return {{"server", attempt.server},           {"day", attempt.day},
          {"outcome", attempt.outcome},         {"http_status", attempt.http_status},
          {"duration_ms", attempt.duration_ms}, {"message", attempt.message}};
}

}  // namespace fleet::service
