#include "storage/postgres_workflows.h"

#include <string>

#include "storage/postgres_rows.h"
#include "storage/store_rules.h"

namespace fleet::storage {
namespace {

// The name of local workflow `id`; NoLocalWorkflow when there is none.
Result<std::string> SelectWorkflowName(PgConnection& db, int64_t id, const std::string& what) {
  auto rows = db.Exec("SELECT name FROM workflows WHERE id = $1", PgParams().Int(id), what);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return tl::unexpected(NoLocalWorkflow(id));
  return (*rows)[0].Text(0);
}

// kAlreadyExists (LocalWorkflowTaken) when a workflow other than `workflow.id` has its name or
// its file; the name is reported first.
Result<void> CheckFree(PgConnection& db, const LocalWorkflow& workflow, const std::string& what) {
  auto rows = db.Exec(
      "SELECT name, file FROM workflows WHERE id <> $1 AND (name = $2 OR file = $3) "
      "ORDER BY (name = $2) DESC LIMIT 1",
      PgParams().Int(workflow.id).Text(workflow.name).Text(workflow.file), what);
  if (!rows) return tl::unexpected(rows.error());
  if (!rows->empty()) {
    const PgRow other = (*rows)[0];
    return tl::unexpected(LocalWorkflowTaken(workflow, other.Text(0), other.Text(1)));
  }
  return {};
}

}  // namespace

Result<std::vector<LocalWorkflow>> SelectLocalWorkflows(PgConnection& db) {
  auto rows = db.Exec("SELECT " + std::string(kLocalWorkflowColumns) + ", " +
                          std::string(kWorkflowMappingColumns) +
                          " FROM workflows w LEFT JOIN workflow_mappings m "
                          "ON m.workflow_id = w.id LEFT JOIN servers s ON s.id = m.server_id "
                          "ORDER BY w.name, s.name",
                      PgParams(), "list local workflows");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<LocalWorkflow> workflows;
  for (size_t i = 0; i < rows->size(); ++i) {
    const PgRow row = (*rows)[i];
    // A workflow's rows are consecutive (ordered by its unique name), one per mapping.
    if (workflows.empty() || workflows.back().id != row.Int(0)) {
      LocalWorkflow workflow;
      workflow.id = row.Int(0);
      workflow.name = row.Text(1);
      workflow.file = row.Text(2);
      workflow.file_sha256 = row.Text(3);
      workflow.created_at = row.Int(4);
      workflow.updated_at = row.Int(5);
      workflows.push_back(std::move(workflow));
    }
    if (row.IsNull(6)) continue;
    workflows.back().mappings.push_back(
        WorkflowMapping{row.Text(6), row.Text(7), row.Text(8), row.Text(9), row.Int(10)});
  }
  return workflows;
}

Result<LocalWorkflow> WriteLocalWorkflow(PgConnection& db, const LocalWorkflow& workflow,
                                         int64_t now) {
  if (auto valid = CheckLocalWorkflow(workflow); !valid) return tl::unexpected(valid.error());
  const std::string what = "save local workflow '" + workflow.name + "'";
  LocalWorkflow saved = workflow;
  saved.mappings.clear();
  saved.created_at = now;
  saved.updated_at = now;
  if (workflow.id != 0) {
    auto rows = db.Exec("SELECT created_at FROM workflows WHERE id = $1",
                        PgParams().Int(workflow.id), what);
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) return tl::unexpected(NoLocalWorkflow(workflow.id));
    saved.created_at = (*rows)[0].Int(0);
  }
  if (auto free = CheckFree(db, workflow, what); !free) return tl::unexpected(free.error());
  PgParams params;
  params.Text(workflow.name).Text(workflow.file).Text(workflow.file_sha256).Int(now);
  const bool insert = workflow.id == 0;
  if (!insert) params.Int(workflow.id);
  auto rows = db.Exec(insert ? "INSERT INTO workflows (name, file, file_sha256, created_at, "
                               "updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id"
                             : "UPDATE workflows SET name = $1, file = $2, file_sha256 = $3, "
                               "updated_at = $4 WHERE id = $5",
                      params, what);
  if (!rows) return tl::unexpected(LocalWorkflowConflict(rows.error(), workflow));
  if (insert) saved.id = (*rows)[0].Int(0);
  return saved;
}

Result<void> WriteWorkflowMapping(PgConnection& db, int64_t workflow_id,
                                  const WorkflowMapping& mapping) {
  if (auto valid = CheckWorkflowMapping(workflow_id, mapping); !valid) return valid;
  const std::string what =
      "map local workflow " + std::to_string(workflow_id) + " to server '" + mapping.server + "'";
  auto name = SelectWorkflowName(db, workflow_id, what);
  if (!name) return tl::unexpected(name.error());
  auto server_id = PgServerId(db, mapping.server);
  if (!server_id) {
    return tl::unexpected(
        WithContext(server_id.error(), "local workflow '" + *name + "' not mapped"));
  }
  // One remote workflow is one local workflow: whichever had it before loses it.
  auto dropped = db.Exec(
      "DELETE FROM workflow_mappings WHERE server_id = $1 AND remote_id = $2 "
      "AND workflow_id <> $3",
      PgParams().Int(*server_id).Text(mapping.remote_id).Int(workflow_id), what);
  if (!dropped) return tl::unexpected(dropped.error());
  auto upserted = db.Exec(
      "INSERT INTO workflow_mappings (workflow_id, server_id, remote_id, remote_updated_at, "
      "last_action, last_at) VALUES ($1, $2, $3, $4, $5, $6) "
      "ON CONFLICT (workflow_id, server_id) DO UPDATE SET remote_id = excluded.remote_id, "
      "remote_updated_at = excluded.remote_updated_at, last_action = excluded.last_action, "
      "last_at = excluded.last_at",
      PgParams()
          .Int(workflow_id)
          .Int(*server_id)
          .Text(mapping.remote_id)
          .Text(mapping.remote_updated_at)
          .Text(mapping.last_action)
          .Int(mapping.last_at),
      what);
  if (!upserted) return tl::unexpected(upserted.error());
  return {};
}

}  // namespace fleet::storage
