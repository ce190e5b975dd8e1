#pragma once

// Local workflows and their per-server ids in the PostgreSQL store; private to the storage
// module. The writes check before they write and expect to run inside a transaction
// (PostgresStore wraps them); a concurrent writer that gets past a check meets the unique
// constraints instead (kAlreadyExists).

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "storage/postgres_db.h"

namespace fleet::storage {

// Every local workflow by name, each with its mappings by server name.
Result<std::vector<LocalWorkflow>> SelectLocalWorkflows(PgConnection& db);
// Inserts (id 0) or updates the workflow; see Store::SaveLocalWorkflow.
Result<LocalWorkflow> WriteLocalWorkflow(PgConnection& db, const LocalWorkflow& workflow,
                                         int64_t now);
// Sets the workflow's mapping to the server and drops any other workflow's mapping to the same
// remote workflow; see Store::SaveWorkflowMapping.
[[nodiscard]] Result<void> WriteWorkflowMapping(PgConnection& db, int64_t workflow_id,
                                                const WorkflowMapping& mapping);

}  // namespace fleet::storage
