#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "n8n/client.h"
#include "n8n/http.h"

namespace fleet::n8n {

// Workflows through n8n's public API (n8n-reference.md section 3), one blocking request at a
// time through HttpTransport::Send. Errors name the server (its base URL) and the workflow id:
// 404 on a workflow's path -> kNotFound; others as DescribeApiFailure (401 kUnauthenticated,
// 403 kPermissionDenied, 429 kRateLimited, 5xx kUnavailable, 400 with n8n's message...).

struct WorkflowSummary {
  std::string id{};
  std::string name{};
  bool active{false};
  std::string updated_at{};  // n8n's updatedAt, e.g. "2026-11-20T08:15:02.123Z"; "" if absent
};

inline constexpr int kWorkflowPageSize = 100;  // n8n's default; it allows up to 250
inline constexpr int kMaxWorkflowPages = 10000;

// Every workflow, following nextCursor from page to page (GET /api/v1/workflows?limit=&cursor=).
// A cursor seen twice, or more than kMaxWorkflowPages pages, is kBadResponse.
Result<std::vector<WorkflowSummary>> ListWorkflows(HttpTransport& transport,
                                                   const Endpoint& endpoint, const ApiAuth& auth,
                                                   int page_size = kWorkflowPageSize);

// GET /api/v1/workflows/{id}: the workflow as n8n sends it (read-only fields included).
Result<nlohmann::json> GetWorkflow(HttpTransport& transport, const Endpoint& endpoint,
                                   const ApiAuth& auth, const std::string& id);

// The body n8n accepts for a create or an update, from a workflow as GetWorkflow returns it or
// as it is kept in a file: name, nodes, connections, settings (filtered to the keys n8n takes;
// {} when absent) and staticData when present and not null. Everything else (id, active,
// createdAt, updatedAt, versionId, tags, shared, meta, pinData, triggerCount, isArchived...) is
// left out, since n8n refuses unknown fields. kInvalidArgument when `workflow` is not an object
// or lacks a string name, an array of nodes or an object of connections.
Result<nlohmann::json> WritableWorkflow(const nlohmann::json& workflow);

// POST /api/v1/workflows with WritableWorkflow(workflow); returns the workflow n8n created
// (inactive, with its new id).
Result<nlohmann::json> CreateWorkflow(HttpTransport& transport, const Endpoint& endpoint,
                                      const ApiAuth& auth, const nlohmann::json& workflow);

// PUT /api/v1/workflows/{id} with WritableWorkflow(workflow); returns the updated workflow.
Result<nlohmann::json> UpdateWorkflow(HttpTransport& transport, const Endpoint& endpoint,
                                      const ApiAuth& auth, const std::string& id,
                                      const nlohmann::json& workflow);

// POST /api/v1/workflows/{id}/activate (active) or /deactivate with body {}; returns the
// workflow n8n sends.
Result<nlohmann::json> ActivateWorkflow(HttpTransport& transport, const Endpoint& endpoint,
                                        const ApiAuth& auth, const std::string& id, bool active);

}  // namespace fleet::n8n
