#include "storage/store_rules.h"

namespace fleet::storage {

std::optional<SigningKeyState> ParseSigningKeyState(std::string_view text) {
  for (SigningKeyState state :
       {SigningKeyState::kActive, SigningKeyState::kStandby, SigningKeyState::kRetired}) {
    if (SigningKeyStateName(state) == text) return state;
  }
  return std::nullopt;
}

Error NoSigningKey(std::string_view kid) {
  return Error{ErrorCode::kNotFound, "no signing key with kid '" + std::string(kid) + "'; " +
                                         std::string(kSigningKeyListHint)};
}

std::string RunName(int64_t run_id) { return "collection run " + std::to_string(run_id); }

std::string UnitName(int64_t run_id, std::string_view server) {
  return "server '" + std::string(server) + "' in " + RunName(run_id);
}

Result<void> CheckLease(std::string_view owner, int64_t lease_seconds) {
  if (owner.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a work lease needs a non-empty owner");
  }
  if (lease_seconds <= 0) {
    return MakeError(ErrorCode::kInvalidArgument, "a work lease must last at least 1 second, not " +
                                                      std::to_string(lease_seconds));
  }
  return {};
}

Result<void> CheckLocalWorkflow(const LocalWorkflow& workflow) {
  if (workflow.name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a local workflow needs a name (its file: '" + workflow.file + "')");
  }
  if (workflow.file.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "local workflow '" + workflow.name + "' needs a file to be kept in");
  }
  return {};
}

Result<void> CheckWorkflowMapping(int64_t workflow_id, const WorkflowMapping& mapping) {
  const std::string what = "the mapping of local workflow " + std::to_string(workflow_id) +
                           " to server '" + mapping.server + "'";
  if (mapping.remote_id.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, what + " needs the workflow's id on that server");
  }
  if (mapping.last_action != "pull" && mapping.last_action != "push") {
    return MakeError(
        ErrorCode::kInvalidArgument,
        what + " has last action '" + mapping.last_action + "'; it must be \"pull\" or \"push\"");
  }
  return {};
}

Error NoLocalWorkflow(int64_t id) {
  return Error{ErrorCode::kNotFound, "no local workflow with id " + std::to_string(id) +
                                         "; list the local workflows to see their ids"};
}

Error LocalWorkflowTaken(const LocalWorkflow& workflow, std::string_view other_name,
                         std::string_view other_file) {
  if (other_name == workflow.name) {
    return Error{ErrorCode::kAlreadyExists, "a local workflow named '" + workflow.name +
                                                "' is already kept in " + std::string(other_file) +
                                                "; rename one of them"};
  }
  return Error{ErrorCode::kAlreadyExists,
               "file " + workflow.file + " is already the file of local workflow '" +
                   std::string(other_name) + "'; keep '" + workflow.name + "' in another file"};
}

Error LocalWorkflowConflict(Error error, const LocalWorkflow& workflow) {
  if (error.code != ErrorCode::kAlreadyExists) return error;
  return Error{ErrorCode::kAlreadyExists, "local workflow '" + workflow.name + "' (file " +
                                              workflow.file +
                                              ") was not saved: another local workflow has "
                                              "its name or file; list them and try again"};
}

}  // namespace fleet::storage
