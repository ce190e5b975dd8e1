#pragma once

// Private to the fake fleet (fake_fleet*.cc): per-instance state, the routes, and an fd owner.

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "testing/fake_fleet.h"
#include "testing/http_wire.h"
#include "testing/n8n_rules.h"

namespace fleet::testing::fleet_impl {

// Owns a file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_{-1};
};

struct IssuedToken {
  int64_t expires_at{};  // unix seconds
  std::string role{};
};

// One fake n8n instance: only what its routes remember.
struct Instance {
  int index{};
  int port{};
  std::string url{};
  std::set<std::string> used_jtis{};
  std::unordered_map<std::string, IssuedToken> access_tokens{};
  // Insights requests since `requests_day` began: the next one's FleetFaultFor attempt.
  Day requests_day{};
  int64_t insights_requests{0};
};

// One workflow an instance keeps. Its JSON parts are kept as compact JSON text, spliced into
// answers without being parsed again.
struct StoredWorkflow {
  std::string name{};
  std::string description{"null"};
  std::string created_at{};
  std::string updated_at{};
  std::string version_id{};
  int64_t version_counter{1};
  std::string nodes{"[]"};
  std::string connections{"{}"};
  std::string settings{"{}"};
  std::string static_data{"null"};
  std::string pin_data{"null"};
  bool active{false};
  // The published version while active (n8n's activeVersion): what runs. A PUT on an active
  // workflow publishes its new version, unless it removed the last trigger (then only the draft
  // is saved).
  std::string active_version_id{};
  std::string active_nodes{};
  std::string active_connections{};
  int trigger_count{0};  // the published version's trigger nodes (0 while inactive)
};

// An instance's workflows by id: n8n lists them in id order.
using InstanceWorkflows = std::map<std::string, StoredWorkflow>;

// Every instance's workflows. Written by the loop thread only, under `mu` so that
// FakeFleet::WorkflowNames can read them from another thread. An instance without workflows has
// no entry: it costs nothing.
struct WorkflowStore {
  mutable std::mutex mu{};
  std::unordered_map<int, InstanceWorkflows> by_instance{};
  uint64_t next_serial{0};  // ids, versionIds, node ids and webhookIds
  int64_t last_millis{0};   // updatedAt strictly increases across the fleet
};

// Counters read by other threads.
struct Counters {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> exchanges{0};
  std::atomic<int64_t> exchange_failures{0};
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> max_connections{0};
  std::atomic<int64_t> workflows{0};  // the FleetStats fields of the same names
  std::atomic<int64_t> workflow_lists{0};
  std::atomic<int64_t> workflow_gets{0};
  std::atomic<int64_t> workflow_posts{0};
  std::atomic<int64_t> workflow_puts{0};
  std::atomic<int64_t> workflow_activations{0};
  std::atomic<int64_t> workflow_deletes{0};
  std::atomic<int64_t> workflows_created{0};
  std::atomic<int64_t> workflows_updated{0};
  std::atomic<int64_t> faults{0};
  std::atomic<int64_t> fault_errors{0};
  std::atomic<int64_t> fault_closes{0};
  std::atomic<int64_t> fault_hangs{0};
};

// FleetOptions::request_log: lines gathered in a bounded buffer, written when it fills, when
// Flush() is called and when the log goes. Loop thread only.
class RequestLog {
 public:
  RequestLog() = default;
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;
  ~RequestLog() { Flush(); }

  // Creates (or truncates) `path`.
  [[nodiscard]] Result<void> Open(const std::string& path);
  bool open() const { return fd_.get() >= 0; }
  // Buffers one line; writes the buffer once it holds kBufferBytes.
  void Add(int instance, std::string_view start, std::string_view end, int64_t arrival_ms,
           int status);
  void Flush();
  bool buffered() const { return !buffer_.empty(); }

 private:
  static constexpr size_t kBufferBytes = 64 * 1024;
  std::string path_{};
  UniqueFd fd_{};
  std::string buffer_{};
};

// Everything the routes use; touched only by the loop thread (counters excepted).
struct Fleet {
  FleetOptions options{};
  rules::Keyring keyring{};
  Day start_day{};  // "today" at start; figures exist for [start_day - days_back, today]
  std::vector<Instance> instances{};
  Counters counters{};
  RequestLog log{};
  WorkflowStore workflows{};
};

struct Response {
  int status{200};
  std::string body{};
  std::string extra_headers{};  // "Name: value\r\n" lines
  // A fault instead of this answer: kClose closes the connection unanswered, kHang never
  // answers it again (its requests are read and dropped until the client closes).
  FleetFault fault{FleetFault::kNone};
};

// Answers one request to instance `instance` (fake_fleet_routes.cc).
Response HandleRequest(Fleet& fleet, Instance& instance, const wire::Request& request);

// The public API's authentication: the shared X-N8N-API-KEY (the owner's) or a Bearer token
// this instance issued that has not expired. Returns the caller's role, or "" when refused.
std::string Authorize(const Fleet& fleet, const Instance& instance, const wire::Request& request);

// Whether `path` is one of the workflow routes, /api/v1/workflows[/...].
bool IsWorkflowPath(std::string_view path);

// Answers a request to a workflow route, authorized or not (fake_fleet_workflows.cc).
Response HandleWorkflowRequest(Fleet& fleet, Instance& instance, const wire::Request& request);

// FakeFleet::WorkflowNames: takes store.mu.
std::map<std::string, FleetWorkflowName> CountWorkflowNames(const WorkflowStore& store);

Response JsonResponse(int status, const rules::Json& body);
Response MessageResponse(int status, const std::string& message);

// The fleet's clock (FleetOptions::clock, else time()), unix seconds.
int64_t UnixNow(const Fleet& fleet);

}  // namespace fleet::testing::fleet_impl
