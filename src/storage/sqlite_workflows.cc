#include "storage/sqlite_workflows.h"

#include <string>

#include "storage/sqlite_rows.h"
#include "storage/store_rules.h"

namespace fleet::storage {
namespace {

// The name of local workflow `id`; NoLocalWorkflow when there is none.
Result<std::string> SelectWorkflowName(Database& db, int64_t id, const std::string& what) {
  auto stmt = db.Prepare("SELECT name FROM workflows WHERE id = $1", what);
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->BindInt(1, id).Step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return tl::unexpected(NoLocalWorkflow(id));
  return stmt->ColumnText(0);
}

// kAlreadyExists (LocalWorkflowTaken) when a workflow other than `workflow.id` has its name or
// its file; the name is reported first.
Result<void> CheckFree(Database& db, const LocalWorkflow& workflow, const std::string& what) {
  auto stmt = db.Prepare(
      "SELECT name, file FROM workflows WHERE id <> $1 AND (name = $2 OR file = $3) "
      "ORDER BY (name = $2) DESC LIMIT 1",
      what);
  if (!stmt) return tl::unexpected(stmt.error());
  auto row =
      stmt->BindInt(1, workflow.id).BindText(2, workflow.name).BindText(3, workflow.file).Step();
  if (!row) return tl::unexpected(row.error());
  if (*row) {
    return tl::unexpected(LocalWorkflowTaken(workflow, stmt->ColumnText(0), stmt->ColumnText(1)));
  }
  return {};
}

}  // namespace

Result<std::vector<LocalWorkflow>> SelectLocalWorkflows(Database& db) {
  auto stmt = db.Prepare("SELECT " + std::string(kLocalWorkflowColumns) + ", " +
                             std::string(kWorkflowMappingColumns) +
                             " FROM workflows w LEFT JOIN workflow_mappings m "
                             "ON m.workflow_id = w.id LEFT JOIN servers s ON s.id = m.server_id "
                             "ORDER BY w.name, s.name",
                         "list local workflows");
  if (!stmt) return tl::unexpected(stmt.error());
  std::vector<LocalWorkflow> workflows;
  while (true) {
    auto row = stmt->Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return workflows;
    // A workflow's rows are consecutive (ordered by its unique name), one per mapping.
    if (workflows.empty() || workflows.back().id != stmt->ColumnInt(0)) {
      LocalWorkflow workflow;
      workflow.id = stmt->ColumnInt(0);
      workflow.name = stmt->ColumnText(1);
      workflow.file = stmt->ColumnText(2);
      workflow.file_sha256 = stmt->ColumnText(3);
      workflow.created_at = stmt->ColumnInt(4);
      workflow.updated_at = stmt->ColumnInt(5);
      workflows.push_back(std::move(workflow));
    }
    if (stmt->ColumnIsNull(6)) continue;
    workflows.back().mappings.push_back(WorkflowMapping{stmt->ColumnText(6), stmt->ColumnText(7),
                                                        stmt->ColumnText(8), stmt->ColumnText(9),
                                                        stmt->ColumnInt(10)});
  }
}

Result<LocalWorkflow> WriteLocalWorkflow(Database& db, const LocalWorkflow& workflow, int64_t now) {
  if (auto valid = CheckLocalWorkflow(workflow); !valid) return tl::unexpected(valid.error());
  const std::string what = "save local workflow '" + workflow.name + "'";
  LocalWorkflow saved = workflow;
  saved.mappings.clear();
  saved.created_at = now;
  saved.updated_at = now;
  if (workflow.id != 0) {
    auto stmt = db.Prepare("SELECT created_at FROM workflows WHERE id = $1", what);
    if (!stmt) return tl::unexpected(stmt.error());
    auto row = stmt->BindInt(1, workflow.id).Step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return tl::unexpected(NoLocalWorkflow(workflow.id));
    saved.created_at = stmt->ColumnInt(0);
  }
  if (auto free = CheckFree(db, workflow, what); !free) return tl::unexpected(free.error());
  const bool insert = workflow.id == 0;
  auto stmt = db.Prepare(insert ? "INSERT INTO workflows (name, file, file_sha256, created_at, "
                                  "updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id"
                                : "UPDATE workflows SET name = $1, file = $2, file_sha256 = $3, "
                                  "updated_at = $4 WHERE id = $5",
                         what);
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->BindText(1, workflow.name)
      .BindText(2, workflow.file)
      .BindText(3, workflow.file_sha256)
      .BindInt(4, now);
  if (!insert) stmt->BindInt(5, workflow.id);
  auto row = stmt->Step();  // the INSERT's row, or the UPDATE done
  if (!row) return tl::unexpected(LocalWorkflowConflict(row.error(), workflow));
  if (*row) {
    saved.id = stmt->ColumnInt(0);
    if (auto done = stmt->Run(); !done) return tl::unexpected(done.error());
  }
  return saved;
}

Result<void> WriteWorkflowMapping(Database& db, int64_t workflow_id,
                                  const WorkflowMapping& mapping) {
  if (auto valid = CheckWorkflowMapping(workflow_id, mapping); !valid) return valid;
  const std::string what =
      "map local workflow " + std::to_string(workflow_id) + " to server '" + mapping.server + "'";
  auto name = SelectWorkflowName(db, workflow_id, what);
  if (!name) return tl::unexpected(name.error());
  auto server_id = SelectServerId(db, mapping.server);
  if (!server_id) {
    return tl::unexpected(
        WithContext(server_id.error(), "local workflow '" + *name + "' not mapped"));
  }
  // One remote workflow is one local workflow: whichever had it before loses it.
  auto drop = db.Prepare(
      "DELETE FROM workflow_mappings WHERE server_id = $1 AND remote_id = $2 "
      "AND workflow_id <> $3",
      what);
  if (!drop) return tl::unexpected(drop.error());
  drop->BindInt(1, *server_id).BindText(2, mapping.remote_id).BindInt(3, workflow_id);
  if (auto done = drop->Run(); !done) return done;
  auto upsert = db.Prepare(
      "INSERT INTO workflow_mappings (workflow_id, server_id, remote_id, remote_updated_at, "
      "last_action, last_at) VALUES ($1, $2, $3, $4, $5, $6) "
      "ON CONFLICT (workflow_id, server_id) DO UPDATE SET remote_id = excluded.remote_id, "
      "remote_updated_at = excluded.remote_updated_at, last_action = excluded.last_action, "
      "last_at = excluded.last_at",
      what);
  if (!upsert) return tl::unexpected(upsert.error());
  return upsert->BindInt(1, workflow_id)
      .BindInt(2, *server_id)
      .BindText(3, mapping.remote_id)
      .BindText(4, mapping.remote_updated_at)
      .BindText(5, mapping.last_action)
      .BindInt(6, mapping.last_at)
      .Run();
}

}  // namespace fleet::storage
