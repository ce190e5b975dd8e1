#include "workflows/push.h"

#include "workflows/compare.h"

namespace fleet::workflows {
namespace {

using Json = nlohmann::json;

bool IsActive(const Json& remote) {
  auto it = remote.find("active");
  return it != remote.end() && it->is_boolean() && it->get<bool>();
}

// n8n 1.x+ archives instead of deleting from the editor; an archived workflow is as good as gone.
bool IsArchived(const Json& remote) {
  auto it = remote.find("isArchived");
  return it != remote.end() && it->is_boolean() && it->get<bool>();
}

// An active workflow whose latest save is not what runs (n8n 2.x keeps a published version
// apart from the draft: a save that left it without a trigger was kept as a draft only).
bool Unpublished(const Json& remote) {
  if (!IsActive(remote)) return false;
  auto published = remote.find("activeVersionId");
  auto latest = remote.find("versionId");
  return published != remote.end() && latest != remote.end() && published->is_string() &&
         latest->is_string() && *published != *latest;
}

std::string RemoteId(const Json& remote) {
  auto it = remote.find("id");
  if (it == remote.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->is_number_integer() ? it->dump() : "";
}

// `workflow` with the server's node ids (and webhookIds) for the nodes it gives none, matched by
// node name: n8n would otherwise give them new ones on every update (a webhook node's webhookId
// is part of its URL when the path is not set).
Json WithServerNodeIds(const Json& workflow, const Json& remote) {
  Json out = workflow;
  auto nodes = out.find("nodes");
  auto theirs = remote.find("nodes");
  if (nodes == out.end() || !nodes->is_array() || theirs == remote.end() || !theirs->is_array()) {
    return out;
  }
  for (Json& node : *nodes) {
    if (!node.is_object() || !node.contains("name")) continue;
    for (const Json& other : *theirs) {
      if (!other.is_object() || other.value("name", Json()) != node["name"]) continue;
      for (const char* key : {"id", "webhookId"}) {
        if (!node.contains(key) && other.contains(key)) node[key] = other[key];
      }
      break;
    }
  }
  return out;
}

PushOutcome Failed(Error error) {
  PushOutcome outcome;
  outcome.error = std::move(error);
  return outcome;
}

}  // namespace

std::string_view PushActionName(PushAction action) {
  switch (action) {
    case PushAction::kCreated:
      return "created";
    case PushAction::kUpdated:
      return "updated";
    case PushAction::kUnchanged:
      return "unchanged";
    case PushAction::kWouldCreate:
      return "would create";
    case PushAction::kWouldUpdate:
      return "would update";
    case PushAction::kFailed:
      break;
  }
  return "failed";
}

bool PushOutcome::should_record() const {
  return !remote_id.empty() && (action == PushAction::kCreated || action == PushAction::kUpdated ||
                                action == PushAction::kUnchanged);
}

std::string UpdatedAt(const Json& remote) {
  auto it = remote.find("updatedAt");
  return it != remote.end() && it->is_string() ? it->get<std::string>() : "";
}

ServerPusher::ServerPusher(n8n::HttpTransport& transport, n8n::Endpoint endpoint, n8n::ApiAuth auth,
                           std::string server_name, PushOptions options)
    : transport_(transport),
      endpoint_(std::move(endpoint)),
      auth_(std::move(auth)),
      server_name_(std::move(server_name)),
      options_(options) {}

Error ServerPusher::Named(Error error) const {
  return WithContext(std::move(error), "server '" + server_name_ + "'");
}

PushOutcome ServerPusher::Push(const Json& workflow,
                               const std::optional<WorkflowMapping>& mapping) {
  Result<Json> writable = n8n::WritableWorkflow(workflow);
  if (!writable) return Failed(writable.error());
  const std::string name = (*writable)["name"].get<std::string>();
  PushOutcome outcome;
  Result<Target> target = FindTarget(name, workflow, mapping, outcome.note);
  if (!target) return Failed(Named(target.error()));
  outcome.remote_id = target->id;
  bool same =
      !target->id.empty() && SameWorkflow(workflow, target->remote) && !Unpublished(target->remote);
  bool activate = options_.activate && !(same && IsActive(target->remote));
  if (same) {
    outcome.action = PushAction::kUnchanged;
    outcome.remote_updated_at = UpdatedAt(target->remote);
    outcome.active = IsActive(target->remote);
  }
  if (options_.dry_run) {
    if (!same)
      outcome.action = target->id.empty() ? PushAction::kWouldCreate : PushAction::kWouldUpdate;
    if (activate) outcome.note += std::string(outcome.note.empty() ? "" : "; ") + "would activate";
    return outcome;
  }
  Json written = target->remote;
  if (!same) {
    Result<Json> result = Write(*target, workflow, outcome.note);
    if (!result) {
      PushOutcome failed = Failed(Named(result.error()));
      if (std::optional<Json> draft = KeptDraft(*target, workflow, result.error())) {
        // It did change there: record it, or the next push would take our own save for someone
        // else's.
        failed.action = PushAction::kUpdated;
        failed.remote_id = target->id;
        failed.remote_updated_at = UpdatedAt(*draft);
        failed.active = IsActive(*draft);
        failed.error->message +=
            "; n8n kept the change as an unpublished draft: the previous version is still the "
            "one that runs";
      }
      return failed;
    }
    written = std::move(*result);
    outcome.action = target->id.empty() ? PushAction::kCreated : PushAction::kUpdated;
    if (RemoteId(written) != target->id) outcome.action = PushAction::kCreated;  // after a 404
    outcome.remote_id = RemoteId(written);
    if (outcome.remote_id.empty()) {
      return Failed(
          Named(Error{ErrorCode::kBadResponse, "n8n answered the write of workflow '" + name +
                                                   "' without the workflow's id"}));
    }
  }
  outcome.remote_updated_at = UpdatedAt(written);
  outcome.active = IsActive(written);
  if (activate && !outcome.active) {
    Result<Json> activated =
        n8n::ActivateWorkflow(transport_, endpoint_, auth_, outcome.remote_id, true);
    if (!activated) {
      outcome.error = Named(activated.error());
      return outcome;
    }
    outcome.active = IsActive(*activated) || activated->find("active") == activated->end();
    if (!UpdatedAt(*activated).empty()) outcome.remote_updated_at = UpdatedAt(*activated);
  }
  return outcome;
}

Result<ServerPusher::Target> ServerPusher::FindTarget(const std::string& name, const Json& workflow,
                                                      const std::optional<WorkflowMapping>& mapping,
                                                      std::string& note) {
  if (!mapping) return FindByName(name, workflow, note);
  Result<Json> remote = n8n::GetWorkflow(transport_, endpoint_, auth_, mapping->remote_id);
  if (!remote && remote.error().code != ErrorCode::kNotFound) {
    return tl::unexpected(remote.error());
  }
  if (!remote || IsArchived(*remote)) {
    note = "its workflow " + mapping->remote_id + " there was " +
           (remote ? "archived" : "deleted") + ", so it is created again";
    return Target{};
  }
  const std::string updated = UpdatedAt(*remote);
  if (!options_.force && !mapping->remote_updated_at.empty() &&
      updated != mapping->remote_updated_at && !SameWorkflow(workflow, *remote)) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "workflow '" + name + "' (id " + mapping->remote_id +
                         ") changed on the server since the last " + mapping->last_action +
                         " (updatedAt " + updated + ", last seen " + mapping->remote_updated_at +
                         "); not overwriting it: pull it and merge the changes into the file, "
                         "or push again with --force to overwrite them");
  }
  return Target{mapping->remote_id, std::move(*remote)};
}

Result<ServerPusher::Target> ServerPusher::FindByName(const std::string& name, const Json& workflow,
                                                      std::string& note) {
  if (!listed_) {
    auto list = n8n::ListWorkflows(transport_, endpoint_, auth_);
    if (!list) return tl::unexpected(list.error());
    listed_ = std::move(*list);
  }
  std::vector<std::string> ids;
  for (const auto& summary : *listed_) {
    if (summary.name == name) ids.push_back(summary.id);
  }
  if (ids.empty()) return Target{};
  if (ids.size() > 1) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    return MakeError(ErrorCode::kFailedPrecondition,
                     "it has " + std::to_string(ids.size()) + " workflows named '" + name +
                         "' (ids " + list +
                         ") and this database maps none of them to the file: pull the one you "
                         "mean first (wf pull ID --server " +
                         server_name_ + "), then push");
  }
  Result<Json> remote = n8n::GetWorkflow(transport_, endpoint_, auth_, ids.front());
  if (!remote) return tl::unexpected(remote.error());
  if (!options_.force && !SameWorkflow(workflow, *remote)) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "it already has a workflow named '" + name + "' (id " + ids.front() +
                         ") that was never pulled or pushed with this database, and it differs "
                         "from the file; not overwriting it: pull it first (wf pull " +
                         ids.front() + " --server " + server_name_ +
                         ") and merge, or push again with --force to overwrite it");
  }
  note = "adopted the server's workflow " + ids.front() + " of the same name";
  return Target{ids.front(), std::move(*remote)};
}

std::optional<Json> ServerPusher::KeptDraft(const Target& target, const Json& workflow,
                                            const Error& error) {
  if (target.id.empty() || error.code == ErrorCode::kNotFound) return std::nullopt;
  // n8n 2.x keeps a save of an active workflow that left it without a trigger as a draft, and
  // answers 400 all the same.
  Result<Json> now = n8n::GetWorkflow(transport_, endpoint_, auth_, target.id);
  if (now && SameWorkflow(workflow, *now) && Unpublished(*now)) return std::move(*now);
  return std::nullopt;
}

Result<Json> ServerPusher::Write(const Target& target, const Json& workflow, std::string& note) {
  if (!target.id.empty()) {
    Result<Json> updated = n8n::UpdateWorkflow(transport_, endpoint_, auth_, target.id,
                                               WithServerNodeIds(workflow, target.remote));
    if (updated || updated.error().code != ErrorCode::kNotFound) return updated;
    note = "its workflow " + target.id + " there was deleted meanwhile, so it is created again";
  }
  Result<Json> created = n8n::CreateWorkflow(transport_, endpoint_, auth_, workflow);
  if (created && listed_) {
    listed_->push_back(
        {RemoteId(*created), workflow.value("name", ""), false, UpdatedAt(*created)});
  }
  return created;
}

}  // namespace fleet::workflows
