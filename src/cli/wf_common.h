#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/types.h"
#include "workflows/local_file.h"

namespace fleet::cli {

// The options of every `wf` subcommand (each uses its own part).
struct WfArgs {
  std::vector<std::string> targets{};  // IDs/names (pull), FILEs/names (push), FILE (diff)
  std::string server{}, customer{}, flow_dir{}, filename{};
  bool all{false}, activate{false}, dry_run{false}, force{false}, json{false}, exit_code{false};
  int concurrency{8};
};

// The local workflow kept in `file`, else the one named `name`; nullptr when neither.
const LocalWorkflow* FindLocal(const std::vector<LocalWorkflow>& locals, const std::string& file,
                               const std::string& name);
// Its mapping on `server`; nullptr when it has none.
const WorkflowMapping* MappingOn(const LocalWorkflow& local, const std::string& server);
// A FILE argument, or the name of a local workflow (its file); kNotFound saying which it tried.
Result<workflows::WorkflowFile> ResolveWorkflowArg(const std::vector<LocalWorkflow>& locals,
                                                   const std::string& arg);
n8n::Endpoint EndpointOf(const Server& server);

// `wf push` (wf_push_command.cc).
Result<int> PushWorkflows(Context& ctx, const WfArgs& args);

}  // namespace fleet::cli
