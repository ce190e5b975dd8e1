// The fake fleet's workflow routes, per instance and in memory, answered as n8n 2.40.7 answers
// them (tests/real_n8n/WORKFLOWS.md, whose section numbers are cited below) and with FakeN8n's
// rules: unknown fields refused, settings merged on update, node ids added, updatedAt strictly
// increasing millisecond ISO strings, activation only with a trigger and without touching
// updatedAt, 16-character ids. Loop thread only; the store is written under its mutex so that
// FakeFleet::WorkflowNames can read it from another thread.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <set>
#include <string_view>

#include "core/jwt.h"
#include "testing/fake_fleet_internal.h"

namespace fleet::testing::fleet_impl {
namespace {

using Json = rules::Json;

constexpr std::string_view kWorkflowsPath = "/api/v1/workflows";
constexpr int64_t kDefaultPageSize = 100;
constexpr int64_t kMaxPageSize = 250;  // larger limits are capped, not refused (7)
constexpr size_t kMaxNameLength = 128;
constexpr char kNoTrigger[] =
    "Workflow cannot be activated because it has no trigger node. At least one trigger, webhook, "
    "or polling node is required.";

std::string NoPermission(std::string_view verb) {
  return "You do not have permission to " + std::string(verb) +
         " this workflow. Ask the owner to share it with you.";
}

std::string Quoted(const std::string& text) { return Json(text).dump(); }

// splitmix64: a bijection, so distinct serials give distinct values.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// 16 characters of [0-9A-Za-z], like n8n's nanoid ids; unique on the instance.
std::string NewWorkflowId(WorkflowStore& store, const InstanceWorkflows& existing) {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (;;) {
    uint64_t halves[2] = {Mix(++store.next_serial), Mix(store.next_serial ^ 0x5A5A5A5AULL)};
    std::string id;
    for (int i = 0; i < 16; ++i) {
      uint64_t& half = halves[i / 8];
      id += kAlphabet[half % 62];
      half /= 62;
    }
    if (existing.count(id) == 0) return id;
  }
}

// A UUID v4 in form (versionIds, node ids, webhookIds).
std::string NewUuid(WorkflowStore& store) {
  uint64_t a = Mix(++store.next_serial);
  uint64_t b = Mix(a);
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xFFFF),
                static_cast<unsigned long long>(a & 0xFFF),
                static_cast<unsigned long long>(0x8000 | ((b >> 48) & 0x3FFF)),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return text;
}

// "2026-11-25T01:48:09.284Z", later than any given before on the fleet (two saves within one
// millisecond still differ, so no change hides behind the clock).
std::string NowIso(WorkflowStore& store) {
  int64_t millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  store.last_millis = std::max(millis, store.last_millis + 1);
  std::time_t seconds = static_cast<std::time_t>(store.last_millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char text[48];
  std::snprintf(text, sizeof text, "%s.%03dZ", date, static_cast<int>(store.last_millis % 1000));
  return text;
}

// Standard base64 with padding, as n8n's cursors are.
std::string Base64(std::string_view bytes) {
  std::string text = Base64UrlEncode(bytes);
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  while (text.size() % 4 != 0) text += '=';
  return text;
}

std::string Cursor(int64_t limit, int64_t offset) {
  return Base64(Json{{"limit", limit}, {"offset", offset}}.dump());
}

struct Page {
  int64_t limit{kDefaultPageSize};
  int64_t offset{0};
};

// A cursor's limit and offset; nullopt when it is not one of ours.
std::optional<Page> ParseCursor(std::string text) {
  std::replace(text.begin(), text.end(), ' ', '+');  // an unencoded '+' reads as a space
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  while (!text.empty() && text.back() == '=') text.pop_back();
  std::optional<std::string> decoded = Base64UrlDecode(text);
  if (!decoded) return std::nullopt;
  Json json = Json::parse(*decoded, nullptr, false);
  if (!json.is_object() || !json.contains("limit") || !json.contains("offset") ||
      !json["limit"].is_number_integer() || !json["offset"].is_number_integer()) {
    return std::nullopt;
  }
  Page page{json["limit"].get<int64_t>(), json["offset"].get<int64_t>()};
  if (page.limit < 0 || page.offset < 0) return std::nullopt;
  return page;
}

// zod's names for a value's type, as in "Expected object, received null".
std::string TypeName(const Json& value) {
  if (value.is_null()) return "null";
  if (value.is_array()) return "array";
  if (value.is_object()) return "object";
  if (value.is_string()) return "string";
  if (value.is_boolean()) return "boolean";
  return "number";
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Enabled nodes that can start the workflow: a trigger, poller or webhook by type. A Manual
// Trigger alone does not count (5).
int TriggerNodes(const Json& nodes) {
  int count = 0;
  for (const Json& node : nodes) {
    if (!node.is_object() || node.value("disabled", false) == true) continue;
    std::string type = Lower(node.value("type", ""));
    if (type.find("manualtrigger") != std::string::npos) continue;
    if (type.find("trigger") != std::string::npos || type.find("webhook") != std::string::npos) {
      ++count;
    }
  }
  return count;
}

Response Refuse(const std::string& message) { return MessageResponse(400, message); }

// A setting's value as the validator checks it (1): null is refused for every key, the types
// below and redactionPolicy's values are checked.
std::optional<Response> CheckSetting(const std::string& key, const Json& value) {
  if (!rules::IsWorkflowSettingKey(key)) {
    return Refuse("request/body/settings Unrecognized key(s) in object: '" + key + "'");
  }
  bool numeric = key == "executionTimeout" || key == "timeSavedPerExecution";
  bool boolean =
      key == "saveExecutionProgress" || key == "saveManualExecutions" || key == "availableInMCP";
  std::string expected = numeric ? "number" : boolean ? "boolean" : "string";
  if (key == "customTelemetryTags") expected = "array";
  bool checked = numeric || boolean || key == "timezone" || key == "errorWorkflow";
  if (value.is_null() || (checked && TypeName(value) != expected)) {
    return Refuse("request/body/settings/" + key + " Expected " + expected + ", received " +
                  TypeName(value));
  }
  static const std::set<std::string, std::less<>> kPolicies = {"none", "non-manual", "manual-only",
                                                               "all"};
  if (key == "redactionPolicy" &&
      (!value.is_string() || kPolicies.count(value.get<std::string>()) == 0)) {
    return Refuse(
        "request/body/settings/redactionPolicy Invalid enum value. Expected 'none' | "
        "'non-manual' | 'manual-only' | 'all', received '" +
        (value.is_string() ? value.get<std::string>() : value.dump()) + "'");
  }
  return std::nullopt;
}

// The nodes' structure as n8n checks it on save (4): objects with a position, unique ids, and
// connections only from nodes that exist.
std::optional<Response> CheckStructure(const Json& nodes, const Json& connections) {
  std::set<std::string> names;
  std::map<std::string, std::string> ids;  // id -> node name
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Json& node = nodes[i];
    const std::string at = "nodes[" + std::to_string(i) + "]";
    if (!node.is_object()) {
      return Refuse("request/body/nodes/" + std::to_string(i) + " Expected object, received " +
                    TypeName(node));
    }
    if (!node.contains("position")) {
      return Refuse("Workflow structure is invalid. " + at + ".position (invalid_type): Required");
    }
    std::string name = node.value("name", "");
    names.insert(name);
    if (!node.contains("id") || !node["id"].is_string()) continue;
    auto [other, fresh] = ids.emplace(node["id"].get<std::string>(), name);
    if (!fresh) {
      return Refuse("Workflow structure is invalid. " + at + ".id (duplicate_node_id): Nodes \"" +
                    other->second + "\" and \"" + name + "\" share the node ID \"" + other->first +
                    "\"");
    }
  }
  for (const auto& [source, outputs] : connections.items()) {
    if (names.count(source) == 0) {
      return Refuse("Workflow structure is invalid. connections." + source +
                    " (unknown_connection_source): no node is named \"" + source + "\"");
    }
  }
  return std::nullopt;
}

// The body of a create or an update, checked as n8n's validator checks it, with its messages
// (1, 2): only the FIRST offending field is named.
std::optional<Response> CheckBody(const Json& body, bool update) {
  if (!body.is_object()) return Refuse("request/body Expected object, received " + TypeName(body));
  static const std::set<std::string, std::less<>> kReadOnly = {
      "id",        "active",    "tags",       "meta",         "versionId",
      "createdAt", "updatedAt", "isArchived", "triggerCount", "activeVersion"};
  static const std::set<std::string, std::less<>> kAccepted = {
      "name",    "nodes",      "connections",    "settings", "staticData",
      "pinData", "nodeGroups", "parentFolderId", "shared"};
  for (const auto& [key, value] : body.items()) {
    if (kReadOnly.count(key) != 0) return Refuse("request/body/" + key + " is read-only");
    if (kAccepted.count(key) == 0 && !(update && key == "description")) {
      return Refuse("request/body Unrecognized key(s) in object: '" + key + "'");
    }
  }
  for (const char* field : {"name", "nodes", "settings"}) {
    if (!body.contains(field)) {
      return Refuse(std::string("request/body must have required property '") + field + "'");
    }
  }
  const Json& name = body["name"];
  if (!name.is_string())
    return Refuse("request/body/name Expected string, received " + TypeName(name));
  if (name.get<std::string>().empty() || name.get<std::string>().size() > kMaxNameLength) {
    return Refuse("Workflow name must be 1 to 128 characters long.");
  }
  if (!body["nodes"].is_array()) {
    return Refuse("request/body/nodes Expected array, received " + TypeName(body["nodes"]));
  }
  if (!body.contains("connections") || !body["connections"].is_object()) {
    return Refuse("request/body/connections must be object");
  }
  const Json& settings = body["settings"];
  if (!settings.is_object()) {
    return Refuse("request/body/settings Expected object, received " + TypeName(settings));
  }
  for (const auto& [key, value] : settings.items()) {
    if (auto refused = CheckSetting(key, value)) return refused;
  }
  if (body.contains("staticData")) {
    const Json& data = body["staticData"];
    if (data.is_string() && !Json::parse(data.get<std::string>(), nullptr, false).is_object()) {
      return Refuse("request/body/staticData must be a JSON string");
    }
    if (!data.is_string() && !data.is_object() && !data.is_null()) {
      return Refuse("request/body/staticData Invalid input");
    }
  }
  if (body.contains("pinData") && !body["pinData"].is_object() && !body["pinData"].is_null()) {
    return Refuse("request/body/pinData Expected object, received " + TypeName(body["pinData"]));
  }
  if (body.contains("description") && !body["description"].is_string()) {
    return Refuse("request/body/description Expected string, received " +
                  TypeName(body["description"]));
  }
  return CheckStructure(body["nodes"], body["connections"]);
}

// Settings as n8n stores them (1, 3): the unlicensed redactionPolicy and the derived binaryMode
// and credentialResolverId are dropped; an update merges into the stored ones, and there the
// "default" sentinels remove their key.
Json StoredSettings(const Json& sent, const Json* stored) {
  Json settings = stored != nullptr ? *stored : Json::object();
  for (const auto& [key, value] : sent.items()) {
    if (key == "redactionPolicy" || key == "binaryMode" || key == "credentialResolverId") continue;
    settings[key] = value;
  }
  if (stored != nullptr) {
    for (const char* key : {"timezone", "errorWorkflow"}) {
      if (settings.contains(key) && settings[key] == "DEFAULT") settings.erase(key);
    }
    if (settings.contains("executionTimeout") && settings["executionTimeout"] == -1) {
      settings.erase("executionTimeout");
    }
  }
  return settings;
}

// Saves a checked create or update body into `workflow` (1, 3, 4).
void Save(WorkflowStore& store, const Json& body, StoredWorkflow& workflow, bool update) {
  workflow.name = body["name"].get<std::string>();
  Json nodes = body["nodes"];
  for (Json& node : nodes) {  // every save gives nodes without an id new ones
    if (!node.contains("id")) node["id"] = NewUuid(store);
    if (node.value("type", "") == "n8n-nodes-base.webhook" && !node.contains("webhookId")) {
      node["webhookId"] = NewUuid(store);
    }
  }
  workflow.nodes = nodes.dump();
  workflow.connections = body["connections"].dump();
  Json stored = update ? Json::parse(workflow.settings) : Json();
  workflow.settings = StoredSettings(body["settings"], update ? &stored : nullptr).dump();
  if (body.contains("staticData")) {
    const Json& data = body["staticData"];
    workflow.static_data =
        data.is_string() ? Json::parse(data.get<std::string>()).dump() : data.dump();
  }
  if (body.contains("pinData") && !(update && body["pinData"].empty())) {
    workflow.pin_data = body["pinData"].dump();  // on update, {} keeps the old pin data
  }
  if (body.contains("description")) workflow.description = body["description"].dump();
}

void Publish(StoredWorkflow& workflow, int triggers) {
  workflow.active = true;
  workflow.active_version_id = workflow.version_id;
  workflow.active_nodes = workflow.nodes;
  workflow.active_connections = workflow.connections;
  workflow.trigger_count = triggers;
}

// Which answer a workflow appears in: the fields differ slightly (1, 3, 5, 8).
enum class View { kList, kGet, kWrite, kActivate };

void AppendWorkflow(std::string& out, const std::string& id, const StoredWorkflow& w, View view,
                    bool with_pin_data) {
  out += "{\"id\":" + Quoted(id) + ",\"name\":" + Quoted(w.name);
  if (view != View::kList) out += ",\"description\":" + w.description;
  out += std::string(",\"active\":") + (w.active ? "true" : "false");
  out += ",\"activeVersionId\":" + (w.active ? Quoted(w.active_version_id) : "null");
  out += ",\"createdAt\":" + Quoted(w.created_at) + ",\"updatedAt\":" + Quoted(w.updated_at);
  out += ",\"isArchived\":false,\"versionId\":" + Quoted(w.version_id);
  if (view != View::kList) {
    out +=
        ",\"versionCounter\":" + std::to_string(w.version_counter) + ",\"sourceWorkflowId\":null";
  }
  out += ",\"triggerCount\":" + std::to_string(w.trigger_count);
  out += ",\"nodes\":" + w.nodes + ",\"connections\":" + w.connections;
  out += ",\"nodeGroups\":[],\"settings\":" + w.settings + ",\"staticData\":" + w.static_data;
  out += ",\"meta\":null";
  if (with_pin_data) out += ",\"pinData\":" + w.pin_data;
  if (view != View::kActivate) out += ",\"tags\":[]";
  if (view == View::kList || view == View::kGet) {
    out += ",\"shared\":[{\"role\":\"workflow:owner\",\"workflowId\":" + Quoted(id) + "}]";
  }
  out += ",\"activeVersion\":";
  if (w.active) {
    out += "{\"versionId\":" + Quoted(w.active_version_id) + ",\"workflowId\":" + Quoted(id) +
           ",\"nodes\":" + w.active_nodes + ",\"connections\":" + w.active_connections + "}";
  } else {
    out += "null";
  }
  out += ",\"parentFolder\":null}";
}

Response One(const std::string& id, const StoredWorkflow& workflow, View view,
             bool with_pin_data = true) {
  Response response;
  AppendWorkflow(response.body, id, workflow, view, with_pin_data);
  return response;
}

// The ?limit= value (7): default 100, capped at 250, 0 = all.
std::optional<int64_t> Limit(const wire::Request& request, Response& refusal) {
  std::optional<std::string> text = wire::QueryParam(request.query, "limit");
  if (!text) return kDefaultPageSize;
  std::string_view digits = *text;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    refusal = Refuse("request/query/limit Param `limit` must be a valid integer");
    return std::nullopt;
  }
  if (negative && digits.find_first_not_of('0') != std::string_view::npos) {
    refusal = Refuse("request/query/limit Param `limit` must be a non-negative integer");
    return std::nullopt;
  }
  if (digits.size() > 6) return kMaxPageSize;
  return std::min<int64_t>(std::stoll(std::string(digits)), kMaxPageSize);
}

// GET /api/v1/workflows?limit=&cursor=&active=&name=&excludePinnedData= (7, 8): by id, offset
// cursors whose limit wins over ?limit=.
Response List(const InstanceWorkflows* workflows, const wire::Request& request) {
  Response refusal;
  std::optional<int64_t> limit = Limit(request, refusal);
  if (!limit) return refusal;
  Page page{*limit, 0};
  if (std::optional<std::string> cursor = wire::QueryParam(request.query, "cursor")) {
    std::optional<Page> parsed = ParseCursor(*cursor);
    if (!parsed) return Refuse("An invalid cursor was provided");
    page = *parsed;
  }
  std::optional<std::string> active = wire::QueryParam(request.query, "active");
  std::optional<std::string> name = wire::QueryParam(request.query, "name");
  bool with_pin_data = wire::QueryParam(request.query, "excludePinnedData") != "true";
  Response response;
  std::string& out = response.body;
  out = "{\"data\":[";
  int64_t matching = 0;
  int64_t listed = 0;
  if (workflows != nullptr) {
    for (const auto& [id, workflow] : *workflows) {
      if (active && *active != (workflow.active ? "true" : "false")) continue;
      if (name && *name != workflow.name) continue;
      int64_t position = matching++;
      if (position < page.offset || (page.limit > 0 && position >= page.offset + page.limit)) {
        continue;
      }
      if (listed++ > 0) out += ',';
      AppendWorkflow(out, id, workflow, View::kList, with_pin_data);
    }
  }
  out += "],\"nextCursor\":";
  if (page.limit == 0) {  // everything, and a cursor that would repeat forever, as n8n does
    out += Quoted(Cursor(0, 0));
  } else if (page.offset + page.limit < matching) {
    out += Quoted(Cursor(page.limit, page.offset + page.limit));
  } else {
    out += "null";
  }
  out += '}';
  return response;
}

Response Create(Fleet& fleet, Instance& instance, const Json& body) {
  if (auto refused = CheckBody(body, false)) return *refused;
  WorkflowStore& store = fleet.workflows;
  StoredWorkflow workflow;
  Save(store, body, workflow, false);
  workflow.created_at = workflow.updated_at = NowIso(store);
  workflow.version_id = NewUuid(store);
  InstanceWorkflows& mine = store.by_instance[instance.index];
  std::string id = NewWorkflowId(store, mine);
  Response created = One(id, mine.emplace(id, std::move(workflow)).first->second, View::kGet);
  fleet.counters.workflows.fetch_add(1, std::memory_order_relaxed);
  fleet.counters.workflows_created.fetch_add(1, std::memory_order_relaxed);
  return created;
}

// PUT (3, 5): every save is a new version; an active workflow publishes it unless it lost its
// last trigger (then 400, with the draft saved) or ?publishIfActive=false.
Response Update(Fleet& fleet, const std::string& id, StoredWorkflow& stored, const Json& body,
                const wire::Request& request) {
  WorkflowStore& store = fleet.workflows;
  StoredWorkflow saved = stored;
  Save(store, body, saved, true);
  StoredWorkflow& workflow = stored = std::move(saved);
  workflow.updated_at = NowIso(store);
  workflow.version_id = NewUuid(store);
  ++workflow.version_counter;
  fleet.counters.workflows_updated.fetch_add(1, std::memory_order_relaxed);
  if (workflow.active && wire::QueryParam(request.query, "publishIfActive") != "false") {
    int triggers = TriggerNodes(Json::parse(workflow.nodes));
    if (triggers == 0) return Refuse(kNoTrigger);
    Publish(workflow, triggers);
  }
  return One(id, workflow, View::kWrite);
}

Response Activate(const std::string& id, StoredWorkflow& workflow, bool active) {
  if (!active) {
    workflow.active = false;
    workflow.active_version_id.clear();
    workflow.active_nodes.clear();
    workflow.active_connections.clear();
    workflow.trigger_count = 0;
  } else if (!workflow.active) {
    int triggers = TriggerNodes(Json::parse(workflow.nodes));
    if (triggers == 0) return Refuse(kNoTrigger);
    Publish(workflow, triggers);  // updatedAt and versionId stay (5)
  }
  return One(id, workflow, View::kActivate);
}

// Routes an authorized request; store.mu is held.
Response Route(Fleet& fleet, Instance& instance, const wire::Request& request,
               std::string_view rest) {
  WorkflowStore& store = fleet.workflows;
  auto mine = store.by_instance.find(instance.index);
  InstanceWorkflows* workflows = mine == store.by_instance.end() ? nullptr : &mine->second;
  const std::string& method = request.method;
  if (rest.empty() && method == "GET") return List(workflows, request);

  std::optional<Json> body;
  if (method == "POST" || method == "PUT") {
    std::string_view type = request.Header("content-type");
    bool json_type = Lower(std::string(type)).rfind("application/json", 0) == 0;
    if (!type.empty() && !json_type) {
      return MessageResponse(415, "unsupported media type " + std::string(type));
    }
    if (rest.empty() || method == "PUT") {  // (de)activation ignores its body (5)
      body = Json::parse(request.body, nullptr, false);
      if (body->is_discarded()) return MessageResponse(500, "Failed to parse request body");
    }
  }
  if (rest.empty() && method == "POST") return Create(fleet, instance, *body);
  if (rest.empty()) return MessageResponse(404, "not found");

  std::string_view tail = rest.substr(1);  // after '/'
  std::string_view action;
  if (size_t slash = tail.find('/'); slash != std::string_view::npos) {
    action = tail.substr(slash + 1);
    tail = tail.substr(0, slash);
  }
  const std::string id(tail);
  StoredWorkflow* workflow = nullptr;
  if (workflows != nullptr) {
    auto it = workflows->find(id);
    if (it != workflows->end()) workflow = &it->second;
  }
  if (action.empty() && method == "GET") {
    if (workflow == nullptr) return MessageResponse(404, "Not Found");
    return One(id, *workflow, View::kGet,
               wire::QueryParam(request.query, "excludePinnedData") != "true");
  }
  if (action.empty() && method == "PUT") {
    if (auto refused = CheckBody(*body, true)) return *refused;  // before the id (3)
    if (workflow == nullptr) return MessageResponse(404, NoPermission("update"));
    return Update(fleet, id, *workflow, *body, request);
  }
  if (action.empty() && method == "DELETE") {  // a hard delete (6)
    if (workflow == nullptr) return MessageResponse(404, "Not Found");
    if (workflow->active) {
      return MessageResponse(409,
                             "Cannot delete a published workflow. Unpublish it before deleting.");
    }
    Response deleted = One(id, *workflow, View::kGet);
    workflows->erase(id);
    if (workflows->empty()) store.by_instance.erase(mine);  // it costs nothing again
    fleet.counters.workflows.fetch_sub(1, std::memory_order_relaxed);
    return deleted;
  }
  if (method == "POST" && (action == "activate" || action == "deactivate")) {
    if (workflow == nullptr) return MessageResponse(404, NoPermission(action));
    return Activate(id, *workflow, action == "activate");
  }
  return MessageResponse(404, "not found");
}

void CountRequest(Counters& c, const std::string& method, std::string_view rest) {
  bool item = !rest.empty();
  bool action = item && rest.find('/', 1) != std::string_view::npos;
  if (method == "GET") (item ? c.workflow_gets : c.workflow_lists).fetch_add(1);
  if (method == "POST") (action ? c.workflow_activations : c.workflow_posts).fetch_add(1);
  if (method == "PUT") c.workflow_puts.fetch_add(1);
  if (method == "DELETE") c.workflow_deletes.fetch_add(1);
}

}  // namespace

bool IsWorkflowPath(std::string_view path) {
  if (path.substr(0, kWorkflowsPath.size()) != kWorkflowsPath) return false;
  return path.size() == kWorkflowsPath.size() ||
         (path[kWorkflowsPath.size()] == '/' && path.size() > kWorkflowsPath.size() + 1);
}

Response HandleWorkflowRequest(Fleet& fleet, Instance& instance, const wire::Request& request) {
  std::string_view rest = std::string_view(request.path).substr(kWorkflowsPath.size());
  CountRequest(fleet.counters, request.method, rest);
  if (Authorize(fleet, instance, request).empty()) return MessageResponse(401, "unauthorized");
  std::lock_guard lock(fleet.workflows.mu);
  try {
    return Route(fleet, instance, request, rest);
  } catch (const Json::exception& e) {  // never let a body take the loop down
    return MessageResponse(500, std::string("fake fleet: ") + e.what());
  }
}

std::map<std::string, FleetWorkflowName> CountWorkflowNames(const WorkflowStore& store) {
  std::map<std::string, FleetWorkflowName> names;
  std::lock_guard lock(store.mu);
  for (const auto& [index, workflows] : store.by_instance) {
    std::set<std::string_view> seen;
    for (const auto& [id, workflow] : workflows) {
      FleetWorkflowName& counts = names[workflow.name];
      ++counts.workflows;
      if (seen.insert(workflow.name).second) ++counts.instances;
    }
  }
  return names;
}

}  // namespace fleet::testing::fleet_impl
