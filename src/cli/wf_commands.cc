// `n8n-fleet wf ...`: workflows as JSON files, pulled from and pushed to the fleet's servers
// (n8n-deploy's workflow commands, with a per-server id mapping). `wf push` is in
// wf_push_command.cc.
#include <cstdlib>
#include <filesystem>
#include <map>

#include "cli/wf_common.h"
#include "core/time.h"
#include "core/workflow_file.h"
#include "crypto/sealer.h"
#include "n8n/workflows.h"
#include "registry/authenticator.h"
#include "workflows/compare.h"
#include "workflows/push.h"

namespace fleet::cli {
namespace {

using Json = nlohmann::json;

std::string RemoteIdOf(const Json& remote) {
  auto it = remote.find("id");
  if (it == remote.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// --flow-dir, else N8N_FLEET_FLOW_DIR, else n8n-deploy's N8N_DEPLOY_FLOWS_DIR, else ".".
std::string FlowDir(const WfArgs& a) {
  if (!a.flow_dir.empty()) return a.flow_dir;
  for (const char* name : {"N8N_FLEET_FLOW_DIR", "N8N_DEPLOY_FLOWS_DIR"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return ".";
}

struct Connected {
  Server server{};
  n8n::ApiAuth auth{};
};

Result<Connected> Connect(Context& ctx, registry::Registry& registry, const std::string& name) {
  auto server = registry.store().GetServer(name);
  if (!server) return tl::unexpected(server.error());
  registry::Authenticator authenticator(registry, ctx.clock());
  auto auth = authenticator.AuthFor(*server, ctx.transport());
  if (!auth) return tl::unexpected(auth.error());
  return Connected{*server, *auth};
}

// ---- wf server
Result<int> ServerWorkflows(Context& ctx, const WfArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto connected = Connect(ctx, **registry, a.server);
  if (!connected) return tl::unexpected(connected.error());
  auto list = n8n::ListWorkflows(ctx.transport(), EndpointOf(connected->server), connected->auth);
  if (!list) return tl::unexpected(WithContext(list.error(), "server '" + a.server + "'"));
  auto locals = (*registry)->store().ListLocalWorkflows();
  if (!locals) return tl::unexpected(locals.error());
  std::map<std::string, std::string> local_file;  // remote id -> file
  for (const auto& local : *locals) {
    if (const auto* m = MappingOn(local, a.server)) local_file[m->remote_id] = local.file;
  }
  auto file_of = [&](const std::string& id) {
    auto it = local_file.find(id);
    return it == local_file.end() ? std::string() : it->second;
  };
  if (a.json) {
    Json out = Json::array();
    for (const auto& w : *list) {
      std::string file = file_of(w.id);
      out.push_back({{"id", w.id},
                     {"name", w.name},
                     {"active", w.active},
                     {"updated_at", w.updated_at},
                     {"local_file", file.empty() ? Json(nullptr) : Json(file)}});
    }
    ctx.out().Json(out);
    return kExitOk;
  }
  if (list->empty()) {
    ctx.out().Info("Server '" + a.server + "' has no workflows");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& w : *list) {
    std::string file = file_of(w.id);
    rows.push_back({w.id, w.name, w.active ? "yes" : "no",
                    w.updated_at.empty() ? "-" : w.updated_at, file.empty() ? "-" : file});
  }
  ctx.out().Table({"ID", "Name", "Active", "Updated", "Local file"}, rows);
  return kExitOk;
}

// ---- wf pull
struct Pulled {
  std::string id, name, file, updated_at;
};

// The workflow `arg` names on the server: its id (when `by_id`), else its exact name (one match).
Result<Json> FindRemote(Context& ctx, const Connected& c, const std::string& arg,
                        std::optional<std::vector<n8n::WorkflowSummary>>& listed, bool by_id) {
  n8n::Endpoint endpoint = EndpointOf(c.server);
  if (by_id) {
    auto found = n8n::GetWorkflow(ctx.transport(), endpoint, c.auth, arg);
    if (found || found.error().code != ErrorCode::kNotFound) return found;
  }
  if (!listed) {
    auto list = n8n::ListWorkflows(ctx.transport(), endpoint, c.auth);
    if (!list) return tl::unexpected(list.error());
    listed = std::move(*list);
  }
  std::vector<std::string> ids;
  for (const auto& w : *listed) {
    if (w.name == arg) ids.push_back(w.id);
  }
  if (ids.empty()) {
    return MakeError(ErrorCode::kNotFound, "server '" + c.server.name + "' has no workflow " +
                                               (by_id ? "with the id or name '" : "named '") + arg +
                                               "'; list them with `wf server --server " +
                                               c.server.name + "`");
  }
  if (ids.size() > 1) {
    std::string all;
    for (const auto& id : ids) all += (all.empty() ? "" : ", ") + id;
    return MakeError(ErrorCode::kInvalidArgument,
                     "server '" + c.server.name + "' has " + std::to_string(ids.size()) +
                         " workflows named '" + arg + "' (ids " + all + "): pull one by its id");
  }
  return n8n::GetWorkflow(ctx.transport(), endpoint, c.auth, ids.front());
}

// Where the pulled workflow goes: --filename in the flow dir; else the file of the local workflow
// it already is (unless --flow-dir moves it); else <slug>.json in the flow dir, or
// <slug>-<id>.json when another local workflow keeps that file.
Result<std::string> PullTarget(const WfArgs& a, const std::vector<LocalWorkflow>& locals,
                               const LocalWorkflow* local, const std::string& name,
                               const std::string& id) {
  const std::string dir = FlowDir(a);
  if (!a.filename.empty()) {
    auto path = SafeFlowPath(dir, a.filename);
    if (!path) return tl::unexpected(path.error());
    return workflows::AbsolutePath(*path);
  }
  if (local != nullptr && a.flow_dir.empty()) return local->file;
  auto path = SafeFlowPath(dir, WorkflowSlug(name) + ".json");
  if (!path) return tl::unexpected(path.error());
  std::string file = workflows::AbsolutePath(*path);
  const LocalWorkflow* owner = FindLocal(locals, file, "");
  if (owner != nullptr && owner != local) {
    auto other = SafeFlowPath(dir, WorkflowSlug(name) + "-" + WorkflowSlug(id) + ".json");
    if (!other) return tl::unexpected(other.error());
    file = workflows::AbsolutePath(*other);
  }
  return file;
}

// A pull must not silently destroy work: an existing file with other content is replaced only if
// it is exactly what the last pull or push left (or with --force).
Result<void> CheckOverwrite(const std::string& file, const std::string& bytes,
                            const std::vector<LocalWorkflow>& locals, bool force) {
  std::error_code ignored;
  if (force || !std::filesystem::exists(file, ignored)) return {};
  auto current = ReadFileText(file);
  if (!current) return tl::unexpected(current.error());
  if (*current == bytes) return {};
  const LocalWorkflow* known = FindLocal(locals, file, "");
  if (known == nullptr) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     file +
                         " exists and was not written by a pull: not overwriting it; give "
                         "another --filename or --flow-dir, or pull with --force to replace it");
  }
  if (crypto::Sha256Hex(*current) != known->file_sha256) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     file +
                         " has changes made since it was last pulled or pushed: not "
                         "overwriting them; push them first, or pull with --force to "
                         "discard them");
  }
  return {};
}

Result<int> Pull(Context& ctx, const WfArgs& a) {
  if (!a.filename.empty() && a.targets.size() != 1) {
    return MakeError(ErrorCode::kInvalidArgument, "--filename names one file: pull one workflow");
  }
  std::error_code ignored;
  if (!std::filesystem::is_directory(FlowDir(a), ignored)) {
    return MakeError(ErrorCode::kNotFound, "flow directory '" + FlowDir(a) +
                                               "' does not exist: create it or give --flow-dir");
  }
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  storage::Store& store = (*registry)->store();
  auto connected = Connect(ctx, **registry, a.server);
  if (!connected) return tl::unexpected(connected.error());
  std::optional<std::vector<n8n::WorkflowSummary>> listed;
  std::vector<Pulled> pulled;
  for (const auto& arg : a.targets) {
    auto locals = store.ListLocalWorkflows();
    if (!locals) return tl::unexpected(locals.error());
    auto remote = FindRemote(ctx, *connected, arg, listed, true);
    if (!remote) return tl::unexpected(WithContext(remote.error(), "pulling '" + arg + "'"));
    std::string id = RemoteIdOf(*remote);
    std::string name = remote->value("name", "");
    const LocalWorkflow* local = nullptr;
    for (const auto& l : *locals) {
      const auto* m = MappingOn(l, a.server);
      if (m != nullptr && m->remote_id == id) local = &l;
    }
    if (local == nullptr) local = FindLocal(*locals, "", name);
    auto file = PullTarget(a, *locals, local, name, id);
    if (!file) return tl::unexpected(file.error());
    std::string bytes = CanonicalWorkflowJson(workflows::FileForm(*remote));
    auto safe = CheckOverwrite(*file, bytes, *locals, a.force);
    if (!safe) return tl::unexpected(safe.error());
    auto written = workflows::WriteFileAtomically(*file, bytes);
    if (!written) return tl::unexpected(written.error());
    LocalWorkflow record = local != nullptr ? *local : LocalWorkflow{};
    record.name = name;
    record.file = *file;
    record.file_sha256 = crypto::Sha256Hex(bytes);
    int64_t now = ctx.clock().NowUnixSeconds();
    std::string updated_at = workflows::UpdatedAt(*remote);
    auto saved = store.Transaction([&]() -> Result<void> {
      auto kept = store.SaveLocalWorkflow(record, now);
      if (!kept) return tl::unexpected(kept.error());
      return store.SaveWorkflowMapping(kept->id, {a.server, id, updated_at, "pull", now});
    });
    if (!saved) return tl::unexpected(saved.error());
    pulled.push_back({id, name, *file, updated_at});
    if (!a.json) {
      ctx.out().Success("Pulled '" + name + "' (id " + id + ") from '" + a.server + "' into " +
                        *file);
    }
  }
  if (a.json) {
    Json out = Json::array();
    for (const auto& p : pulled) {
      out.push_back({{"server", a.server},
                     {"id", p.id},
                     {"name", p.name},
                     {"file", p.file},
                     {"updated_at", p.updated_at}});
    }
    ctx.out().Json(out);
  }
  return kExitOk;
}

// ---- wf diff
Result<int> Diff(Context& ctx, const WfArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto locals = (*registry)->store().ListLocalWorkflows();
  if (!locals) return tl::unexpected(locals.error());
  auto file = ResolveWorkflowArg(*locals, a.targets.front());
  if (!file) return tl::unexpected(file.error());
  auto connected = Connect(ctx, **registry, a.server);
  if (!connected) return tl::unexpected(connected.error());
  const LocalWorkflow* local = FindLocal(*locals, file->path, file->name);
  const WorkflowMapping* mapping = local != nullptr ? MappingOn(*local, a.server) : nullptr;
  std::optional<std::vector<n8n::WorkflowSummary>> listed;
  auto remote = mapping != nullptr
                    ? n8n::GetWorkflow(ctx.transport(), EndpointOf(connected->server),
                                       connected->auth, mapping->remote_id)
                    : FindRemote(ctx, *connected, file->name, listed, false);
  if (!remote) {
    return tl::unexpected(WithContext(
        remote.error(), "nothing to compare " + file->path + " with on '" + a.server + "'"));
  }
  auto diffs = workflows::DiffWorkflows(file->workflow, *remote);
  std::string id = RemoteIdOf(*remote);
  if (a.json) {
    Json sections = Json::array();
    for (const auto& d : diffs) sections.push_back({{"section", d.section}, {"lines", d.lines}});
    ctx.out().Json({{"server", a.server},
                    {"file", file->path},
                    {"id", id},
                    {"updated_at", workflows::UpdatedAt(*remote)},
                    {"identical", diffs.empty()},
                    {"differences", sections}});
  } else if (!diffs.empty()) {
    ctx.out().Line("--- " + a.server + ": workflow " + id + " (updatedAt " +
                   workflows::UpdatedAt(*remote) + ")");
    ctx.out().Line("+++ " + file->path);
    for (const auto& d : diffs) {
      ctx.out().Line("## " + d.section);
      for (const auto& line : d.lines) ctx.out().Line(line);
    }
  }
  return a.exit_code && !diffs.empty() ? kExitError : kExitOk;
}

// ---- wf list
Result<int> List(Context& ctx, const WfArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto locals = (*store)->ListLocalWorkflows();
  if (!locals) return tl::unexpected(locals.error());
  if (a.json) {
    Json out = Json::array();
    for (const auto& l : *locals) {
      Json servers = Json::array();
      for (const auto& m : l.mappings) {
        servers.push_back({{"server", m.server},
                           {"id", m.remote_id},
                           {"updated_at", m.remote_updated_at},
                           {"last_action", m.last_action},
                           {"last_at", FormatTimestamp(m.last_at)}});
      }
      out.push_back({{"name", l.name},
                     {"file", l.file},
                     {"updated", FormatTimestamp(l.updated_at)},
                     {"servers", servers}});
    }
    ctx.out().Json(out);
    return kExitOk;
  }
  if (locals->empty()) {
    ctx.out().Info("No local workflows yet: `wf pull ID --server S` or `wf push FILE --server S`");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : *locals) {
    if (l.mappings.empty()) rows.push_back({l.name, l.file, "-", "-", "-", "-"});
    for (const auto& m : l.mappings) {
      rows.push_back({l.name, l.file, m.server, m.remote_id, m.last_action, FormatTime(m.last_at)});
    }
  }
  ctx.out().Table({"Name", "File", "Server", "ID", "Last", "When"}, rows);
  return kExitOk;
}

}  // namespace

const LocalWorkflow* FindLocal(const std::vector<LocalWorkflow>& locals, const std::string& file,
                               const std::string& name) {
  for (const auto& l : locals) {
    if (!file.empty() && l.file == file) return &l;
  }
  for (const auto& l : locals) {
    if (!name.empty() && l.name == name) return &l;
  }
  return nullptr;
}

const WorkflowMapping* MappingOn(const LocalWorkflow& local, const std::string& server) {
  for (const auto& m : local.mappings) {
    if (m.server == server) return &m;
  }
  return nullptr;
}

Result<workflows::WorkflowFile> ResolveWorkflowArg(const std::vector<LocalWorkflow>& locals,
                                                   const std::string& arg) {
  std::error_code ignored;
  if (std::filesystem::exists(arg, ignored)) return workflows::ReadWorkflowFile(arg);
  if (const LocalWorkflow* local = FindLocal(locals, "", arg)) {
    return workflows::ReadWorkflowFile(local->file);
  }
  return MakeError(ErrorCode::kNotFound, "'" + arg +
                                             "' is neither a file nor the name of a local "
                                             "workflow (see `wf list`)");
}

n8n::Endpoint EndpointOf(const Server& server) { return {server.url, !server.skip_tls_verify}; }

void AddWorkflowCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* group = app.add_subcommand("wf", "Workflows: pull, push, diff and roll out JSON files");
  group->require_subcommand(1);
  auto a = std::make_shared<WfArgs>();
  auto bind = [&action, &ctx, a](CLI::App* cmd, Result<int> (*fn)(Context&, const WfArgs&)) {
    cmd->callback([&action, &ctx, a, fn] { action = [&ctx, a, fn] { return fn(ctx, *a); }; });
  };

  auto* server = group->add_subcommand("server", "List a server's workflows");
  server->add_option("--server,-s", a->server, "Server name")->required();
  server->add_flag("--json", a->json, "JSON output");
  bind(server, ServerWorkflows);

  auto* pull = group->add_subcommand("pull", "Write workflows of a server as JSON files");
  pull->add_option("workflows", a->targets, "Workflow IDs or names")->required();
  pull->add_option("--server,-s", a->server, "Server name")->required();
  pull->add_option("--flow-dir", a->flow_dir,
                   "Directory of the files (env N8N_FLEET_FLOW_DIR, default .)");
  pull->add_option("--filename", a->filename, "File name in the flow dir (one workflow)");
  pull->add_flag("--force", a->force, "Overwrite a file with changes not pushed yet");
  pull->add_flag("--json", a->json, "JSON output");
  bind(pull, Pull);

  auto* push = group->add_subcommand("push", "Create or update workflows on servers");
  push->add_option("workflows", a->targets, "Workflow files or local workflow names")->required();
  auto* one = push->add_option("--server,-s", a->server, "One server");
  auto* customer = push->add_option("--customer", a->customer, "Every active server of a customer");
  auto* all = push->add_flag("--all", a->all, "Every active server");
  one->excludes(customer, all);
  customer->excludes(all);
  push->add_flag("--activate", a->activate, "Activate them after the push");
  push->add_flag("--dry-run", a->dry_run, "Show what would change; change nothing");
  push->add_flag("--force", a->force, "Overwrite changes made on a server since the last sync");
  push->add_option("--concurrency", a->concurrency, "Servers at once (default 8)")
      ->check(CLI::Range(1, 64));
  push->add_flag("--json", a->json, "JSON output: {results, summary}");
  bind(push, PushWorkflows);

  auto* diff = group->add_subcommand("diff", "Compare a workflow file with a server's version");
  diff->add_option("workflow", a->targets, "Workflow file or local workflow name")
      ->required()
      ->expected(1);
  diff->add_option("--server,-s", a->server, "Server name")->required();
  diff->add_flag("--exit-code", a->exit_code, "Exit 1 when they differ (like git diff)");
  diff->add_flag("--json", a->json, "JSON output");
  bind(diff, Diff);

  auto* list = group->add_subcommand("list", "Local workflows and where they were pushed/pulled");
  list->add_flag("--json", a->json, "JSON output");
  bind(list, List);
}

}  // namespace fleet::cli
