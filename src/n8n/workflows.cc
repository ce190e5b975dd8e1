#include "n8n/workflows.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include "core/url.h"

namespace fleet::n8n {
namespace {

using Json = nlohmann::json;

constexpr char kWorkflowsPath[] = "/api/v1/workflows";
constexpr int kMaxPageSize = 250;  // n8n 2.40.7 caps ?limit= there (older ones refuse above)
// A workflow carries its nodes, pinned data and static data: far more than the transport's
// default limit is legitimate.
constexpr size_t kMaxWorkflowBytes = 64 * 1024 * 1024;

// Settings keys the public API accepts on create and update (n8n's workflowSettings schema,
// packages/cli/src/public-api/v1/handlers/workflows/spec; additionalProperties: false). Left out
// though n8n sends them: binaryMode and credentialResolverId, derived values it ignores on write.
constexpr std::array<std::string_view, 15> kWritableSettings = {
    "saveExecutionProgress",
    "saveManualExecutions",
    "saveDataErrorExecution",
    "saveDataSuccessExecution",
    "executionTimeout",
    "errorWorkflow",
    "timezone",
    "executionOrder",
    "callerPolicy",
    "callerIds",
    "timeSavedMode",
    "timeSavedPerExecution",
    "redactionPolicy",
    "availableInMCP",
    "customTelemetryTags",
};

std::string WorkflowPath(const std::string& id) {
  return std::string(kWorkflowsPath) + "/" + UrlEncode(id);
}

HttpRequest ApiRequest(const char* method, const Endpoint& endpoint, const ApiAuth& auth,
                       const std::string& path) {
  HttpRequest request;
  request.method = method;
  request.url = endpoint.base_url + path;
  request.verify_tls = endpoint.verify_tls;
  request.headers = {{"Accept", "application/json"}, {auth.header_name, auth.header_value}};
  request.max_response_bytes = kMaxWorkflowBytes;
  return request;
}

HttpRequest JsonRequest(const char* method, const Endpoint& endpoint, const ApiAuth& auth,
                        const std::string& path, const Json& body) {
  HttpRequest request = ApiRequest(method, endpoint, auth, path);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return request;
}

Error BadList(const Endpoint& endpoint, const std::string& what) {
  return Error{ErrorCode::kBadResponse, "server '" + endpoint.base_url +
                                            "' sent a workflow list that cannot be used: " + what +
                                            "; is it an n8n instance of a supported version?"};
}

// Sends `request` and returns the JSON object of a 2xx answer. `id` is the workflow the path
// names ("" for none): a 404 there means that workflow does not exist. `doing` prefixes other
// errors ("updating workflow 'x'").
Result<Json> SendForObject(HttpTransport& transport, const HttpRequest& request,
                           const Endpoint& endpoint, const std::string& id,
                           const std::string& doing) {
  Result<HttpResponse> response = transport.Send(request);
  if (!response) return tl::unexpected(WithContext(response.error(), doing));
  if (response->status == 404 && !id.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "server '" + endpoint.base_url + "' has no workflow '" + id + "' (404 on " +
                         request.method + " " + WorkflowPath(id) +
                         "): it was deleted, or the id belongs to another instance; list the "
                         "server's workflows to find it");
  }
  if (response->status < 200 || response->status >= 300) {
    return tl::unexpected(WithContext(DescribeApiFailure(*response, endpoint.base_url), doing));
  }
  Json body = Json::parse(response->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return tl::unexpected(WithContext(DescribeApiFailure(*response, endpoint.base_url), doing));
  }
  return body;
}

Result<WorkflowSummary> ParseSummary(const Json& item, const Endpoint& endpoint) {
  if (!item.is_object()) return tl::unexpected(BadList(endpoint, "an entry is not an object"));
  WorkflowSummary summary;
  auto id = item.find("id");
  if (id != item.end() && id->is_string()) {
    summary.id = id->get<std::string>();
  } else if (id != item.end() && id->is_number_integer()) {  // n8n before 1.0
    summary.id = id->dump();
  }
  if (summary.id.empty()) return tl::unexpected(BadList(endpoint, "an entry has no 'id'"));
  auto name = item.find("name");
  if (name == item.end() || !name->is_string()) {
    return tl::unexpected(BadList(endpoint, "workflow '" + summary.id + "' has no string 'name'"));
  }
  summary.name = name->get<std::string>();
  auto active = item.find("active");
  summary.active = active != item.end() && active->is_boolean() && active->get<bool>();
  auto updated = item.find("updatedAt");
  if (updated != item.end() && updated->is_string())
    summary.updated_at = updated->get<std::string>();
  return summary;
}

Result<Json> WritableSettings(const Json& workflow, const std::string& what) {
  auto settings = workflow.find("settings");
  Json writable = Json::object();
  if (settings == workflow.end() || settings->is_null()) return writable;
  if (!settings->is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, what + ": 'settings' must be a JSON object");
  }
  for (std::string_view key : kWritableSettings) {
    auto it = settings->find(key);
    if (it != settings->end()) writable[std::string(key)] = *it;
  }
  return writable;
}

}  // namespace

Result<std::vector<WorkflowSummary>> ListWorkflows(HttpTransport& transport,
                                                   const Endpoint& endpoint, const ApiAuth& auth,
                                                   int page_size) {
  page_size = std::clamp(page_size, 1, kMaxPageSize);
  std::vector<WorkflowSummary> workflows;
  std::set<std::string> seen_cursors;
  std::string cursor;
  for (int page = 0; page < kMaxWorkflowPages; ++page) {
    HttpRequest request = ListWorkflowsRequest(endpoint, auth, page_size, cursor);
    request.max_response_bytes = kMaxWorkflowBytes;
    Result<Json> body = SendForObject(transport, request, endpoint, "", "listing workflows");
    if (!body) return tl::unexpected(body.error());
    auto data = body->find("data");
    if (data == body->end() || !data->is_array()) {
      return tl::unexpected(BadList(endpoint, "'data' is missing or not an array"));
    }
    for (const Json& item : *data) {
      Result<WorkflowSummary> summary = ParseSummary(item, endpoint);
      if (!summary) return tl::unexpected(summary.error());
      workflows.push_back(std::move(*summary));
    }
    auto next = body->find("nextCursor");
    if (next == body->end() || next->is_null()) return workflows;
    if (!next->is_string()) {
      return tl::unexpected(BadList(endpoint, "'nextCursor' is neither a string nor null"));
    }
    cursor = next->get<std::string>();
    if (cursor.empty()) return workflows;
    if (!seen_cursors.insert(cursor).second) {
      return tl::unexpected(BadList(endpoint,
                                    "'nextCursor' repeated an earlier page's cursor "
                                    "after " +
                                        std::to_string(page + 1) +
                                        " pages, so the list would never end"));
    }
  }
  return tl::unexpected(BadList(endpoint, "it has more than " + std::to_string(kMaxWorkflowPages) +
                                              " pages of " + std::to_string(page_size) +
                                              " workflows"));
}

Result<Json> GetWorkflow(HttpTransport& transport, const Endpoint& endpoint, const ApiAuth& auth,
                         const std::string& id) {
  return SendForObject(transport, ApiRequest("GET", endpoint, auth, WorkflowPath(id)), endpoint, id,
                       "reading workflow '" + id + "'");
}

Result<Json> WritableWorkflow(const Json& workflow) {
  if (!workflow.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "a workflow must be a JSON object");
  }
  auto name = workflow.find("name");
  if (name == workflow.end() || !name->is_string() || name->get<std::string>().empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a workflow needs a non-empty string 'name'");
  }
  const std::string what = "workflow '" + name->get<std::string>() + "'";
  auto nodes = workflow.find("nodes");
  if (nodes == workflow.end() || !nodes->is_array()) {
    return MakeError(ErrorCode::kInvalidArgument, what + ": 'nodes' must be a JSON array");
  }
  auto connections = workflow.find("connections");
  if (connections == workflow.end() || !connections->is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, what + ": 'connections' must be a JSON object");
  }
  Result<Json> settings = WritableSettings(workflow, what);
  if (!settings) return tl::unexpected(settings.error());
  Json body = {{"name", *name},
               {"nodes", *nodes},
               {"connections", *connections},
               {"settings", std::move(*settings)}};
  auto static_data = workflow.find("staticData");
  if (static_data != workflow.end() && !static_data->is_null()) body["staticData"] = *static_data;
  return body;
}

Result<Json> CreateWorkflow(HttpTransport& transport, const Endpoint& endpoint, const ApiAuth& auth,
                            const Json& workflow) {
  Result<Json> body = WritableWorkflow(workflow);
  if (!body) return tl::unexpected(body.error());
  const std::string doing = "creating workflow '" + (*body)["name"].get<std::string>() + "'";
  return SendForObject(transport, JsonRequest("POST", endpoint, auth, kWorkflowsPath, *body),
                       endpoint, "", doing);
}

Result<Json> UpdateWorkflow(HttpTransport& transport, const Endpoint& endpoint, const ApiAuth& auth,
                            const std::string& id, const Json& workflow) {
  Result<Json> body = WritableWorkflow(workflow);
  if (!body) return tl::unexpected(body.error());
  return SendForObject(transport, JsonRequest("PUT", endpoint, auth, WorkflowPath(id), *body),
                       endpoint, id, "updating workflow '" + id + "'");
}

Result<Json> ActivateWorkflow(HttpTransport& transport, const Endpoint& endpoint,
                              const ApiAuth& auth, const std::string& id, bool active) {
  // An empty JSON object: newer n8n declares an optional JSON body here (versionId...) and
  // refuses curl's default form content type with 415.
  HttpRequest request =
      JsonRequest("POST", endpoint, auth, WorkflowPath(id) + (active ? "/activate" : "/deactivate"),
                  Json::object());
  return SendForObject(
      transport, request, endpoint, id,
      std::string(active ? "activating" : "deactivating") + " workflow '" + id + "'");
}

}  // namespace fleet::n8n
