#include "testing/fake_n8n.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <set>
#include <string_view>
#include <thread>

#include "testing/fake_n8n_internal.h"

namespace fleet::testing {
namespace fake {

void SendJson(Call& call, int status, const Json& body) {
  call.res.status = status;
  call.res.set_content(body.dump(), "application/json; charset=utf-8");
}

void SendMessage(Call& call, int status, const std::string& message) {
  SendJson(call, status, Json{{"message", message}});
}

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

int64_t InstanceNow(const State& state) { return UnixNow() + state.clock_skew_seconds; }

std::optional<std::string> Authorize(State& state, Call& call) {
  std::string key = call.req.get_header_value("X-N8N-API-KEY");
  std::string authorization = call.req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  std::lock_guard lock(state.mu);
  if (!key.empty() && state.api_keys.count(key) != 0) return "global:owner";
  if (authorization.rfind(kBearer, 0) == 0) {
    auto it = state.access_tokens.find(authorization.substr(kBearer.size()));
    if (it != state.access_tokens.end() && UnixNow() < it->second.expires_at) {
      return it->second.role;
    }
  }
  SendMessage(call, 401, "unauthorized");
  return std::nullopt;
}

namespace {

constexpr int kWorkerThreads = 32;       // one per open connection (httplib keeps them)
constexpr int kKeepAliveRequests = 100;  // per connection, then httplib closes it
constexpr int kDefaultPageSize = 100;    // n8n's default ?limit=
constexpr int kMaxPageSize = 250;
constexpr char kNoTriggerMessage[] =
    "Workflow cannot be activated because it has no trigger node. At least one trigger, webhook, "
    "or polling node is required.";

using Handler = void (*)(State&, Call&);

struct Route {
  const char* method;
  const char* pattern;  // "/api/v1/workflows/:id"
  Handler handler;
};

// What the workflow routes keep beyond State (whose header the other fake_n8n*.cc files share).
// The State of every FakeN8n is a WorkflowState (FakeN8n::Impl holds one), so the workflow
// routes may downcast.
struct WorkflowState : State {
  bool n8n_ids{false};     // UseN8nWorkflowIds()
  int next_version{1};     // for versionId
  int64_t last_millis{0};  // updatedAt strictly increases, as two saves a millisecond apart do
};

WorkflowState& AsWorkflowState(State& state) { return static_cast<WorkflowState&>(state); }

// "2026-11-20T08:15:02.123Z": updatedAt as n8n sends it, later than any given before (two
// saves within a millisecond still differ, so a test never sees a change hidden by the clock).
// Needs state.mu.
std::string NowIso(State& state) {
  int64_t& last = AsWorkflowState(state).last_millis;
  int64_t millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  last = std::max(millis, last + 1);
  std::time_t seconds = static_cast<std::time_t>(last / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  char with_millis[40];
  std::snprintf(with_millis, sizeof with_millis, "%s.%03dZ", text, static_cast<int>(last % 1000));
  return with_millis;
}

// n8n's ids are 16 characters of [0-9A-Za-z] (nanoid); these are deterministic per counter.
std::string N8nStyleId(int counter) {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  uint64_t x = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(counter) + 0x2545F4914F6CDD1DULL;
  std::string id;
  for (int i = 0; i < 16; ++i) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    id += kAlphabet[(x * 0x2545F4914F6CDD1DULL >> 58) % 62];
  }
  return id;
}

// A fresh versionId (n8n: a UUID, changed by every save). Needs state.mu.
std::string NextVersionId(State& state) {
  char text[40];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d",
                AsWorkflowState(state).next_version++);
  return text;
}

// A workflow with every field n8n 2.40.7 returns, read-only ones included. Needs state.mu.
Json NewWorkflow(State& state, const std::string& name) {
  std::string now = NowIso(state);
  int counter = state.next_workflow_id++;
  std::string id = AsWorkflowState(state).n8n_ids ? N8nStyleId(counter) : std::to_string(counter);
  return Json{{"id", id},
              {"name", name},
              {"active", false},
              {"isArchived", false},
              {"createdAt", now},
              {"updatedAt", now},
              {"versionId", NextVersionId(state)},
              {"activeVersionId", nullptr},
              {"triggerCount", 0},
              {"nodes", Json::array()},
              {"connections", Json::object()},
              {"settings", Json::object()},
              {"staticData", nullptr},
              {"meta", nullptr},
              {"pinData", Json::object()},
              {"tags", Json::array()},
              {"shared", Json::array()}};
}

// The stored workflow with this id, or nullptr. Needs state.mu.
Json* FindWorkflow(State& state, const std::string& id) {
  for (Json& workflow : state.workflows) {
    if (workflow["id"] == id) return &workflow;
  }
  return nullptr;
}

// ---- Routes, as n8n 2.40.7 answers them (n8n-reference.md) ----

void HandleHealth(State&, Call& call) { SendJson(call, 200, Json{{"status", "ok"}}); }

// GET /api/v1/workflows?limit=&cursor= ; the cursor is an opaque offset here.
void HandleListWorkflows(State& state, Call& call) {
  if (!Authorize(state, call)) return;
  int limit = kDefaultPageSize;
  size_t offset = 0;
  if (call.req.has_param("limit")) {
    limit = std::atoi(call.req.get_param_value("limit").c_str());
    if (limit < 1) return SendMessage(call, 400, "request/query/limit must be >= 1");
    limit = std::min(limit, kMaxPageSize);  // n8n 2.40.7 caps silently
  }
  if (call.req.has_param("cursor")) {
    offset = std::strtoul(call.req.get_param_value("cursor").c_str(), nullptr, 10);
  }
  std::lock_guard lock(state.mu);
  Json data = Json::array();
  size_t end = std::min(state.workflows.size(), offset + static_cast<size_t>(limit));
  for (size_t i = offset; i < end; ++i) data.push_back(state.workflows[i]);
  Json next = end < state.workflows.size() ? Json(std::to_string(end)) : Json(nullptr);
  SendJson(call, 200, Json{{"data", std::move(data)}, {"nextCursor", std::move(next)}});
}

// The body of a create or an update, checked like n8n's OpenAPI validator does (the messages are
// its): an object with only the writable fields and only the writable settings. Returns the
// body, or answers 400 itself and returns nullopt.
std::optional<Json> WritableBody(Call& call, std::initializer_list<const char*> required) {
  static const std::set<std::string> kFields = {"name", "nodes", "connections", "settings",
                                                "staticData"};
  Json body = Json::parse(call.req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    SendMessage(call, 400, "request/body must be object");
    return std::nullopt;
  }
  for (const auto& [field, value] : body.items()) {
    if (kFields.count(field) == 0) {
      SendMessage(call, 400, "request/body must NOT have additional properties");
      return std::nullopt;
    }
  }
  for (const char* field : required) {
    if (!body.contains(field)) {
      SendMessage(call, 400,
                  std::string("request/body must have required property '") + field + "'");
      return std::nullopt;
    }
  }
  if (body.contains("name") && !body["name"].is_string()) {
    SendMessage(call, 400, "request/body/name must be string");
    return std::nullopt;
  }
  if (body.contains("settings") && body["settings"].is_object()) {
    for (const auto& [key, value] : body["settings"].items()) {
      if (!rules::IsWorkflowSettingKey(key)) {
        SendMessage(call, 400, "request/body/settings must NOT have additional properties");
        return std::nullopt;
      }
    }
  }
  return body;
}

// As n8n 2.40.7 stores a create or an update (tests/real_n8n/WORKFLOWS.md): settings are MERGED
// into the stored ones (a key left out keeps its value), a node without an id gets a fresh one
// (and a webhook node a webhookId) on every save, and a staticData left out is kept. Needs
// state.mu.
void CopyWritableFields(State& state, const Json& body, Json& workflow) {
  for (const char* field : {"nodes", "connections", "staticData"}) {
    if (body.contains(field)) workflow[field] = body[field];
  }
  if (body.contains("settings") && body["settings"].is_object()) {
    if (!workflow["settings"].is_object()) workflow["settings"] = Json::object();
    for (const auto& [key, value] : body["settings"].items()) workflow["settings"][key] = value;
  }
  if (!workflow["nodes"].is_array()) return;
  for (Json& node : workflow["nodes"]) {
    if (!node.is_object()) continue;
    if (!node.contains("id")) node["id"] = "fake-node-" + NextVersionId(state);
    std::string type = node.value("type", "");
    if (type == "n8n-nodes-base.webhook" && !node.contains("webhookId")) {
      node["webhookId"] = "fake-hook-" + NextVersionId(state);
    }
  }
}

// POST /api/v1/workflows: name, nodes, connections, settings, staticData; extra fields are
// rejected. n8n also requires nodes, connections and settings; the fake only the name.
void HandleCreateWorkflow(State& state, Call& call) {
  if (!Authorize(state, call)) return;
  std::optional<Json> body = WritableBody(call, {"name"});
  if (!body) return;
  std::lock_guard lock(state.mu);
  Json workflow = NewWorkflow(state, (*body)["name"].get<std::string>());
  CopyWritableFields(state, *body, workflow);
  state.workflows.push_back(workflow);
  SendJson(call, 200, workflow);
}

// The routes under /api/v1/workflows/:id answer an unknown id 404 {"message":"not found"} before
// looking at credentials, as the fake answers any unknown path (n8n checks credentials first).
// Returns true when the workflow exists and the caller is authorized.
bool KnownAndAuthorized(State& state, Call& call) {
  {
    std::lock_guard lock(state.mu);
    if (FindWorkflow(state, call.params["id"]) == nullptr) {
      SendMessage(call, 404, "not found");
      return false;
    }
  }
  return Authorize(state, call).has_value();
}

// Runs `change` on the workflow the path names, under the lock, and answers it; 404 when it was
// deleted meanwhile. `change` may answer an error itself and return false.
template <class Change>
void ChangeWorkflow(State& state, Call& call, Change change) {
  std::lock_guard lock(state.mu);
  Json* workflow = FindWorkflow(state, call.params["id"]);
  if (workflow == nullptr) return SendMessage(call, 404, "not found");
  if (!change(*workflow)) return;
  SendJson(call, 200, *workflow);
}

// GET /api/v1/workflows/:id
void HandleGetWorkflow(State& state, Call& call) {
  if (!KnownAndAuthorized(state, call)) return;
  ChangeWorkflow(state, call, [](Json&) { return true; });
}

// n8n refuses to activate a workflow without a node that can start it.
bool HasTriggerNode(const Json& workflow) {
  for (const Json& node : workflow.value("nodes", Json::array())) {
    std::string type = node.is_object() ? node.value("type", "") : "";
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (type.find("manualtrigger") != std::string::npos) continue;  // not a start n8n counts
    if (type.find("trigger") != std::string::npos || type.find("webhook") != std::string::npos) {
      return true;
    }
  }
  return false;
}

// PUT /api/v1/workflows/:id: the same body as a create, all four fields required; a new
// versionId and updatedAt. An active workflow stays active (n8n re-activates it).
void HandleUpdateWorkflow(State& state, Call& call) {
  if (!KnownAndAuthorized(state, call)) return;
  std::optional<Json> body = WritableBody(call, {"name", "nodes", "connections", "settings"});
  if (!body) return;
  ChangeWorkflow(state, call, [&](Json& workflow) {
    workflow["name"] = (*body)["name"];
    CopyWritableFields(state, *body, workflow);
    workflow["updatedAt"] = NowIso(state);
    workflow["versionId"] = NextVersionId(state);
    if (workflow["active"] != true) return true;
    // An active workflow's save is published too; one left without a trigger is saved as a
    // draft all the same, the published version keeps running, and the answer is 400.
    if (!HasTriggerNode(workflow)) {
      SendMessage(call, 400, kNoTriggerMessage);
      return false;
    }
    workflow["activeVersionId"] = workflow["versionId"];
    return true;
  });
}

// POST /api/v1/workflows/:id/activate
void HandleActivateWorkflow(State& state, Call& call) {
  if (!KnownAndAuthorized(state, call)) return;
  ChangeWorkflow(state, call, [&](Json& workflow) {
    if (!HasTriggerNode(workflow)) {
      SendMessage(call, 400, kNoTriggerMessage);
      return false;
    }
    workflow["active"] = true;  // n8n leaves updatedAt and versionId alone
    workflow["activeVersionId"] = workflow["versionId"];
    return true;
  });
}

// POST /api/v1/workflows/:id/deactivate
void HandleDeactivateWorkflow(State& state, Call& call) {
  if (!KnownAndAuthorized(state, call)) return;
  ChangeWorkflow(state, call, [&](Json& workflow) {
    workflow["active"] = false;
    workflow["activeVersionId"] = nullptr;
    return true;
  });
}

// DELETE /api/v1/workflows/:id: answers the deleted workflow.
void HandleDeleteWorkflow(State& state, Call& call) {
  if (!KnownAndAuthorized(state, call)) return;
  std::lock_guard lock(state.mu);
  auto it = std::find_if(state.workflows.begin(), state.workflows.end(),
                         [&](const Json& workflow) { return workflow["id"] == call.params["id"]; });
  if (it == state.workflows.end()) return SendMessage(call, 404, "not found");
  if ((*it)["active"] == true) {
    return SendMessage(call, 409,
                       "Cannot delete a published workflow. Unpublish it before deleting.");
  }
  Json deleted = std::move(*it);
  state.workflows.erase(it);
  SendJson(call, 200, deleted);
}

constexpr Route kRoutes[] = {
    {"GET", "/healthz", HandleHealth},
    {"GET", "/api/v1/workflows", HandleListWorkflows},
    {"POST", "/api/v1/workflows", HandleCreateWorkflow},
    {"GET", "/api/v1/workflows/:id", HandleGetWorkflow},
    {"PUT", "/api/v1/workflows/:id", HandleUpdateWorkflow},
    {"DELETE", "/api/v1/workflows/:id", HandleDeleteWorkflow},
    {"POST", "/api/v1/workflows/:id/activate", HandleActivateWorkflow},
    {"POST", "/api/v1/workflows/:id/deactivate", HandleDeactivateWorkflow},
    {"POST", kTokenExchangePath, HandleTokenExchange},
    {"GET", "/api/v1/insights/summary", HandleInsightsSummary},
};

// Matches "/a/:id/b" against "/a/7/b", filling params {"id": "7"}.
bool MatchPath(std::string_view pattern, std::string_view path, Params& params) {
  while (!pattern.empty() && !path.empty()) {
    size_t p_end = pattern.find('/', 1);
    size_t s_end = path.find('/', 1);
    std::string_view p_seg = pattern.substr(0, p_end);
    std::string_view s_seg = path.substr(0, s_end);
    if (p_seg.size() > 1 && p_seg[1] == ':') {
      if (s_seg.size() <= 1) return false;
      params[std::string(p_seg.substr(2))] = std::string(s_seg.substr(1));
    } else if (p_seg != s_seg) {
      return false;
    }
    pattern.remove_prefix(p_seg.size());
    path.remove_prefix(s_seg.size());
  }
  return pattern.empty() && path.empty();
}

// Counts a request as in flight while it is handled.
class InFlight {
 public:
  explicit InFlight(State& state) : state_(state) {
    std::lock_guard lock(state_.mu);
    state_.max_concurrent = std::max(state_.max_concurrent, ++state_.in_flight);
  }
  ~InFlight() {
    std::lock_guard lock(state_.mu);
    --state_.in_flight;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  State& state_;
};

void Record(State& state, const httplib::Request& req) {
  FakeN8n::RecordedRequest record{req.method, req.target, {}, req.body, req.remote_port};
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    record.headers.emplace_back(std::move(lower), value);
  }
  std::lock_guard lock(state.mu);
  state.requests.push_back(std::move(record));
}

constexpr int64_t kHugeBodyBytes = int64_t{1} << 30;
constexpr size_t kHugeChunkBytes = 64 * 1024;

// Waits `ms` unless the server stops meanwhile; false when it stops.
bool Pause(State& state, int ms) {
  std::unique_lock lock(state.mu);
  return !state.wake.wait_for(lock, std::chrono::milliseconds(ms), [&] { return state.stopping; });
}

// kHugeBody: {"data":"xxx...  announced as 1 GiB and generated as it goes, so the fake's memory
// stays small; it stops when the client hangs up (a write fails) or the server stops.
void SendHugeBody(State& state, Call& call) {
  call.res.status = 200;
  call.res.set_content_provider(static_cast<size_t>(kHugeBodyBytes),
                                "application/json; charset=utf-8",
                                [&state](size_t offset, size_t length, httplib::DataSink& sink) {
                                  {
                                    std::lock_guard lock(state.mu);
                                    if (state.stopping) return false;
                                  }
                                  std::string chunk(std::min(length, kHugeChunkBytes), 'x');
                                  if (offset == 0) chunk.replace(0, 9, "{\"data\":\"");
                                  if (!sink.write(chunk.data(), chunk.size())) return false;
                                  std::lock_guard lock(state.mu);
                                  state.fault_body_bytes += static_cast<int64_t>(chunk.size());
                                  return true;
                                });
}

// Applies the fault switch before the route; returns true when the fault has answered the call.
bool InjectFault(State& state, Call& call) {
  std::unique_lock lock(state.mu);
  switch (state.fault) {
    case FakeN8n::Fault::kNone:
    case FakeN8n::Fault::kResetMidBody:  // after the route: CorruptBody
    case FakeN8n::Fault::kSlowBody:
      return false;
    case FakeN8n::Fault::kHang:
      state.wake.wait_for(lock, std::chrono::milliseconds(state.hang_ms),
                          [&] { return state.stopping; });
      return false;
    case FakeN8n::Fault::kServerError:
      SendMessage(call, 500, "Internal Server Error");
      return true;
    case FakeN8n::Fault::kGarbage:
      call.res.status = 200;
      call.res.set_content("this is not json {", "text/plain");
      return true;
    case FakeN8n::Fault::kHtmlLogin:
      call.res.status = 200;
      call.res.set_content(
          "<!DOCTYPE html><html><head><title>Sign in</title></head>"
          "<body><form method=\"post\"><input name=\"password\"></form></body></html>",
          "text/html; charset=utf-8");
      return true;
    case FakeN8n::Fault::kHugeBody:
      lock.unlock();
      SendHugeBody(state, call);
      return true;
    case FakeN8n::Fault::kInvalidUtf8:
      call.res.status = 200;
      call.res.set_content(
          "{\"data\":{\"total\":{\"value\":1,\"deviation\":null,\"unit\":\"count\"},"
          "\"note\":\"caf\xE9 \xFF\xFE\"}}",
          "application/json; charset=utf-8");
      return true;
  }
  return false;
}

// kResetMidBody and kSlowBody: the route's answer goes out with its status, headers and
// Content-Length, but its body is cut in half (then the connection closes) or dribbled.
void CorruptBody(State& state, Call& call) {
  FakeN8n::Fault fault;
  int interval_ms;
  {
    std::lock_guard lock(state.mu);
    fault = state.fault;
    interval_ms = state.hang_ms > 0 ? state.hang_ms : 1000;
  }
  if (fault != FakeN8n::Fault::kResetMidBody && fault != FakeN8n::Fault::kSlowBody) return;
  std::string body = std::move(call.res.body);
  std::string type = call.res.get_header_value("Content-Type");
  call.res.body.clear();
  call.res.headers.erase("Content-Type");
  size_t size = body.size();
  if (fault == FakeN8n::Fault::kResetMidBody) {
    call.res.set_content_provider(
        size, type, [body = std::move(body)](size_t, size_t, httplib::DataSink& sink) {
          sink.write(body.data(), body.size() / 2);
          return false;  // httplib closes the connection
        });
    return;
  }
  call.res.set_content_provider(
      size, type,
      [&state, interval_ms, body = std::move(body)](size_t offset, size_t,
                                                    httplib::DataSink& sink) {
        if (!Pause(state, interval_ms) || !sink.write(body.data() + offset, 1)) return false;
        std::lock_guard lock(state.mu);
        ++state.fault_body_bytes;
        return true;
      });
}

// Every answer carries the instance's time, as n8n's (Express) do.
void SetDateHeader(State& state, Call& call) {
  std::time_t now;
  {
    std::lock_guard lock(state.mu);
    now = static_cast<std::time_t>(InstanceNow(state));
  }
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  call.res.set_header("Date", text);
}

// FailNext(): answers with the programmed status while the count lasts.
bool InjectFailNext(State& state, Call& call) {
  std::lock_guard lock(state.mu);
  if (state.fail_next <= 0) return false;
  --state.fail_next;
  if (state.fail_retry_after >= 0) {
    call.res.set_header("Retry-After", std::to_string(state.fail_retry_after));
  }
  SendMessage(call, state.fail_status,
              state.fail_status == 429 ? "Too many requests" : "Injected failure");
  return true;
}

// The internal /rest API authenticates with a browser session cookie only: a Bearer token (or
// nothing, the fake keeps no sessions) is refused, like n8n does.
bool RefuseInternalApi(Call& call) {
  if (call.req.path.rfind("/rest/", 0) != 0 || call.req.path == kTokenExchangePath) return false;
  SendJson(call, 401, Json{{"status", "error"}, {"message", "Unauthorized"}});
  return true;
}

void Answer(State& state, Call& call) {
  for (const Route& route : kRoutes) {
    call.params.clear();
    if (call.req.method == route.method && MatchPath(route.pattern, call.req.path, call.params)) {
      return route.handler(state, call);
    }
  }
  SendMessage(call, 404, "not found");
}

void Dispatch(State& state, const httplib::Request& req, httplib::Response& res) {
  Record(state, req);
  InFlight in_flight(state);
  Call call{req, res, {}};
  SetDateHeader(state, call);
  if (InjectFailNext(state, call) || InjectFault(state, call) || RefuseInternalApi(call)) return;
  Answer(state, call);
  CorruptBody(state, call);
}

}  // namespace
}  // namespace fake

using fake::State;

struct FakeN8n::Impl {
  fake::WorkflowState state;
  httplib::Server server;
  std::thread thread;
  int port{0};
};

FakeN8n::FakeN8n() : impl_(std::make_unique<Impl>()) {
  httplib::Server& server = impl_->server;
  State& state = impl_->state;
  auto dispatch = [&state](const httplib::Request& req, httplib::Response& res) {
    fake::Dispatch(state, req, res);
  };
  server.Get(".*", dispatch);
  server.Post(".*", dispatch);
  server.Put(".*", dispatch);
  server.Patch(".*", dispatch);
  server.Delete(".*", dispatch);
  server.new_task_queue = [] { return new httplib::ThreadPool(fake::kWorkerThreads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(fake::kKeepAliveRequests);
  server.set_keep_alive_timeout(1);  // bounds how long shutdown waits for idle connections
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = sock;
  });
  impl_->port = server.bind_to_any_port("127.0.0.1");
  if (impl_->port <= 0 || listen_fd < 0) {
    std::fputs("FakeN8n: cannot bind 127.0.0.1\n", stderr);
    std::abort();
  }
  server.set_socket_options(httplib::default_socket_options);
  // Debian's cpp-httplib listens with a backlog of 5: widen it (DEPENDENCIES.md).
  ::listen(listen_fd, SOMAXCONN);
  impl_->thread = std::thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeN8n::~FakeN8n() {
  {
    std::lock_guard lock(impl_->state.mu);
    impl_->state.stopping = true;
  }
  impl_->state.wake.notify_all();
  impl_->server.stop();
  impl_->thread.join();
}

int FakeN8n::port() const { return impl_->port; }

std::string FakeN8n::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

void FakeN8n::AcceptApiKey(const std::string& key) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.api_keys.insert(key);
}

void FakeN8n::SetFault(Fault fault, int hang_ms) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.fault = fault;
  impl_->state.hang_ms = hang_ms;
}

int64_t FakeN8n::FaultBodyBytesSent() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.fault_body_bytes;
}

void FakeN8n::SetClockSkew(int seconds) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.clock_skew_seconds = seconds;
}

void FakeN8n::FailNext(int n, int status, int retry_after_seconds) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.fail_next = n;
  impl_->state.fail_status = status;
  impl_->state.fail_retry_after = retry_after_seconds;
}

void FakeN8n::TrustKey(const TrustedKey& key) {
  std::lock_guard lock(impl_->state.mu);
  fake::AddTrustedKeyOrDie(impl_->state, key);
}

void FakeN8n::SetTokenExchange(TokenExchangeMode mode) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.exchange_mode = mode;
}

void FakeN8n::SetOwnerEmail(const std::string& email) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.owner_email = email;
}

void FakeN8n::SetAccessTokenTtl(int seconds) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.access_token_ttl = seconds;
}

void FakeN8n::SetExchangeRateLimit(int per_minute) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.rate_limit_per_minute = per_minute;
  impl_->state.rate_window_count = 0;
}

int FakeN8n::ExchangeCount() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.exchange_count;
}

std::vector<std::string> FakeN8n::ExchangeFailureReasons() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.exchange_failures;
}

void FakeN8n::SetDailyInsights(const std::string& day, const DailyInsights& figures) {
  Day parsed = fake::DayOrDie(day);
  std::lock_guard lock(impl_->state.mu);
  impl_->state.insights[parsed] = figures;
}

void FakeN8n::SetToday(const std::string& day) {
  Day parsed = fake::DayOrDie(day);
  std::lock_guard lock(impl_->state.mu);
  impl_->state.today = parsed;
}

void FakeN8n::SetHistoryDays(int days) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.history_days = days;
}

std::string FakeN8n::AddWorkflow(const std::string& name) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.workflows.push_back(fake::NewWorkflow(impl_->state, name));
  return impl_->state.workflows.back()["id"].get<std::string>();
}

std::string FakeN8n::SeedWorkflow(const nlohmann::json& fields) {
  std::lock_guard lock(impl_->state.mu);
  nlohmann::json workflow = fake::NewWorkflow(impl_->state, fields.value("name", "My workflow"));
  workflow.update(fields);
  impl_->state.workflows.push_back(std::move(workflow));
  return impl_->state.workflows.back()["id"].get<std::string>();
}

void FakeN8n::UseN8nWorkflowIds() {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.n8n_ids = true;
}

std::optional<nlohmann::json> FakeN8n::Workflow(const std::string& id) const {
  std::lock_guard lock(impl_->state.mu);
  const nlohmann::json* workflow = fake::FindWorkflow(impl_->state, id);
  if (workflow == nullptr) return std::nullopt;
  return *workflow;
}

std::vector<nlohmann::json> FakeN8n::Workflows() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.workflows;
}

std::vector<std::string> FakeN8n::Requests() const {
  std::lock_guard lock(impl_->state.mu);
  std::vector<std::string> lines;
  for (const auto& request : impl_->state.requests) {
    lines.push_back(request.method + " " + request.target);
  }
  return lines;
}

std::vector<FakeN8n::RecordedRequest> FakeN8n::RecordedRequests() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.requests;
}

std::string FakeN8n::RecordedRequest::Header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

int FakeN8n::MaxConcurrent() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.max_concurrent;
}

void FakeN8n::ResetStats() {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.requests.clear();
  impl_->state.max_concurrent = impl_->state.in_flight;
}

int ClosedLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fputs("ClosedLocalPort: cannot bind 127.0.0.1\n", stderr);
    std::abort();
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

nlohmann::json WebhookWorkflow(const std::string& name, const std::string& path) {
  using Json = nlohmann::json;
  return Json{{"name", name},
              {"nodes", Json::array({{{"id", "n1"},
                                      {"name", "Webhook"},
                                      {"type", "n8n-nodes-base.webhook"},
                                      {"typeVersion", 2},
                                      {"position", {0, 0}},
                                      {"webhookId", "w1"},
                                      {"parameters", {{"path", path}}}}})},
              {"connections", Json::object()},
              {"settings", {{"executionOrder", "v1"}}}};
}

}  // namespace fleet::testing
