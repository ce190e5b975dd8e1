#include "registry/server_check.h"

#include "core/time.h"
#include "n8n/insights.h"

namespace fleet::registry {
namespace {

void Skip(n8n::KeyCheckReport& report, const char* name, const std::string& why) {
  report.steps.push_back({name, false, "skipped: " + why});
}

}  // namespace

n8n::KeyCheckReport TestServer(const Server& server, Authenticator& auth,
                               n8n::HttpTransport& transport, int64_t now) {
  n8n::KeyCheckReport report;
  n8n::Endpoint endpoint{server.url, !server.skip_tls_verify};
  const char* credential_step =
      server.auth == AuthMode::kTokenExchange ? "token exchange" : "api key";

  auto health = transport.Send(n8n::HealthRequest(endpoint));
  if (!health || health->status != 200) {
    std::string why = !health ? health.error().message
                              : "GET /healthz answered HTTP " + std::to_string(health->status);
    report.steps.push_back({"reachable", false, why});
    Skip(report, credential_step, "the server is not reachable");
    Skip(report, "authenticated", "the server is not reachable");
    Skip(report, "insights readable", "the server is not reachable");
    return report;
  }
  report.steps.push_back({"reachable", true, "GET /healthz answered 200"});

  auto credential = auth.AuthFor(server, transport);
  if (!credential) {
    report.steps.push_back({credential_step, false, credential.error().message});
    Skip(report, "authenticated", "no credential");
    Skip(report, "insights readable", "no credential");
    return report;
  }
  report.steps.push_back({credential_step, true,
                          server.auth == AuthMode::kTokenExchange
                              ? "exchanged a signed subject token for an access token"
                              : "using the server's API key"});

  auto workflows = transport.Send(n8n::ListWorkflowsRequest(endpoint, *credential, 1));
  if (!workflows || workflows->status != 200) {
    report.steps.push_back({"authenticated", false,
                            !workflows ? workflows.error().message
                                       : n8n::DescribeApiFailure(*workflows, server.name).message});
    Skip(report, "insights readable", "not authenticated");
    return report;
  }
  report.steps.push_back({"authenticated", true, "GET /api/v1/workflows answered 200"});

  Day today = DayOf(now);
  auto insights = transport.Send(
      n8n::InsightsSummaryRequest(endpoint, *credential, StartOfDay(today - 1), StartOfDay(today)));
  if (!insights) {
    report.steps.push_back({"insights readable", false, insights.error().message});
    return report;
  }
  auto summary = n8n::ParseInsightsSummary(*insights, server.name);
  if (!summary) {
    report.steps.push_back({"insights readable", false, summary.error().message});
    return report;
  }
  report.steps.push_back({"insights readable", true,
                          "yesterday (" + FormatDay(today - 1) +
                              "): " + std::to_string(summary->total) + " production executions"});
  return report;
}

}  // namespace fleet::registry
