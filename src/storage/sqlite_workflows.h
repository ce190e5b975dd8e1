#pragma once

// Local workflows and their per-server ids in the SQLite store; private to the storage module.
// The writes check before they write and expect to run inside a transaction (SqliteStore wraps
// them), so what they checked still holds when they write.

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/sqlite_db.h"

namespace fleet::storage {

// Every local workflow by name, each with its mappings by server name.
Result<std::vector<LocalWorkflow>> SelectLocalWorkflows(Database& db);
// Inserts (id 0) or updates the workflow; see Store::SaveLocalWorkflow.
Result<LocalWorkflow> WriteLocalWorkflow(Database& db, const LocalWorkflow& workflow, int64_t now);
// Sets the workflow's mapping to the server and drops any other workflow's mapping to the same
// remote workflow; see Store::SaveWorkflowMapping.
[[nodiscard]] Result<void> WriteWorkflowMapping(Database& db, int64_t workflow_id,
                                                const WorkflowMapping& mapping);

}  // namespace fleet::storage
