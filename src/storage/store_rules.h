#pragma once

// What both Store backends say and check the same way, whatever their SQL: names in messages,
// argument checks, and the columns they read a row from. Keeping one copy keeps the backends'
// errors identical (the contract suite compares them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/types.h"

namespace fleet::storage {

// ---- signing keys
inline constexpr std::string_view kSigningKeyColumns =
    "id, kid, alg, issuer, sealed_private_key, public_pem, state, created_at, activated_at, "
    "retired_at";
inline constexpr std::string_view kSigningKeyListHint = "`n8n-fleet key list` shows the keys";
std::optional<SigningKeyState> ParseSigningKeyState(std::string_view text);
Error NoSigningKey(std::string_view kid);  // kNotFound, pointing to `key list`

// ---- the work queue
std::string RunName(int64_t run_id);                            // "collection run 7"
std::string UnitName(int64_t run_id, std::string_view server);  // "server 'a' in collection run 7"
// kInvalidArgument for an empty owner or a lease shorter than a second.
[[nodiscard]] Result<void> CheckLease(std::string_view owner, int64_t lease_seconds);

// ---- local workflows
// Both backends list them with one query over `workflows w LEFT JOIN workflow_mappings m LEFT
// JOIN servers s`, reading kLocalWorkflowColumns then kWorkflowMappingColumns (NULL without a
// mapping).
inline constexpr std::string_view kLocalWorkflowColumns =
    "w.id, w.name, w.file, w.file_sha256, w.created_at, w.updated_at";
inline constexpr std::string_view kWorkflowMappingColumns =
    "s.name, m.remote_id, m.remote_updated_at, m.last_action, m.last_at";
// kInvalidArgument for an empty name or file.
[[nodiscard]] Result<void> CheckLocalWorkflow(const LocalWorkflow& workflow);
// kInvalidArgument for an empty remote_id or a last_action other than "pull" or "push".
[[nodiscard]] Result<void> CheckWorkflowMapping(int64_t workflow_id,
                                                const WorkflowMapping& mapping);
Error NoLocalWorkflow(int64_t id);  // kNotFound
// kAlreadyExists naming `other`, which has `workflow`'s name (else its file).
Error LocalWorkflowTaken(const LocalWorkflow& workflow, std::string_view other_name,
                         std::string_view other_file);
// A unique violation that got past the check (a concurrent writer): kAlreadyExists naming the
// workflow's name and file. Other errors pass through.
Error LocalWorkflowConflict(Error error, const LocalWorkflow& workflow);

}  // namespace fleet::storage
