#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/types.h"
#include "n8n/client.h"
#include "n8n/http.h"
#include "n8n/workflows.h"

namespace fleet::workflows {

struct PushOptions {
  bool activate{false};  // activate after creating or updating (when not active yet)
  bool dry_run{false};   // read and decide, change nothing
  bool force{false};     // overwrite a workflow that changed on the server since the last sync
};

enum class PushAction { kCreated, kUpdated, kUnchanged, kWouldCreate, kWouldUpdate, kFailed };

// "created", "updated", "unchanged", "would create", "would update", "failed".
std::string_view PushActionName(PushAction action);

struct PushOutcome {
  PushAction action{PushAction::kFailed};
  std::string remote_id{};          // the workflow's id on the server ("" when it has none)
  std::string remote_updated_at{};  // its updatedAt after the push: what the mapping records
  bool active{false};
  std::string note{};            // what else happened: re-created after a 404, adopted by name...
  std::optional<Error> error{};  // what failed (the action may still be kCreated/kUpdated when
                                 // only the activation after it failed)
  bool ok() const { return !error.has_value(); }
  // Whether the database should record (server, remote_id, remote_updated_at) as the mapping:
  // the workflow exists on the server as pushed (even if its activation failed afterwards).
  // A write n8n refused but kept as a draft counts: the workflow did change there.
  bool should_record() const;
};

// Pushes local workflows onto ONE server, one blocking call at a time (run several of these on
// a bounded pool for a fleet). Per workflow:
//  - mapped (the database knows its id there): GET it. If it changed on the server since the
//    last pull or push (updatedAt differs) and differs from the file, refuse (kFailedPrecondition,
//    saying how to resolve) unless `force`. Equal content: kUnchanged, nothing sent. Otherwise
//    PUT. A 404 (deleted there, or archived) creates it again, and the mapping is fixed. An
//    active workflow whose draft is not what runs (a save n8n kept as a draft) is not equal.
//  - not mapped: the server's workflows are listed once per pusher. No workflow of that name:
//    POST (kCreated). Exactly one: it is adopted if its content equals the file's, or with
//    `force` (PUT); otherwise refused, since pushing would overwrite a workflow this database
//    never saw. Several: refused (pull the one you mean first).
//  - `activate`: then activated unless already active.
// Errors name the server.
class ServerPusher {
 public:
  ServerPusher(n8n::HttpTransport& transport, n8n::Endpoint endpoint, n8n::ApiAuth auth,
               std::string server_name, PushOptions options);

  PushOutcome Push(const nlohmann::json& workflow, const std::optional<WorkflowMapping>& mapping);

 private:
  struct Target {
    std::string id{};  // "" = create
    nlohmann::json remote{};
  };
  Result<Target> FindTarget(const std::string& name, const nlohmann::json& workflow,
                            const std::optional<WorkflowMapping>& mapping, std::string& note);
  Result<Target> FindByName(const std::string& name, const nlohmann::json& workflow,
                            std::string& note);
  Result<nlohmann::json> Write(const Target& target, const nlohmann::json& workflow,
                               std::string& note);
  // The workflow as n8n kept it after a write that failed, when it kept it all the same.
  std::optional<nlohmann::json> KeptDraft(const Target& target, const nlohmann::json& workflow,
                                          const Error& error);
  Error Named(Error error) const;

  n8n::HttpTransport& transport_;
  n8n::Endpoint endpoint_;
  n8n::ApiAuth auth_;
  std::string server_name_;
  PushOptions options_;
  std::optional<std::vector<n8n::WorkflowSummary>> listed_;
};

// n8n's updatedAt of a workflow as sent ("" when absent).
std::string UpdatedAt(const nlohmann::json& remote);

}  // namespace fleet::workflows
