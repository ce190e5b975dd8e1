// `n8n-fleet wf push`: workflow files onto one server, a customer's servers or the whole fleet,
// a bounded number of servers at a time, each server's mapping recorded as soon as it is pushed.
#include <algorithm>
#include <mutex>

#include "cli/progress.h"
#include "cli/wf_common.h"
#include "core/parallel.h"
#include "core/time.h"
#include "registry/authenticator.h"
#include "workflows/push.h"

namespace fleet::cli {
namespace {

using Json = nlohmann::json;

struct Item {  // one workflow to push
  workflows::WorkflowFile file{};
  LocalWorkflow local{};  // id 0 on a dry run of a workflow the database does not know yet
};

struct Row {  // one (server, workflow) result
  std::string server, workflow, file;
  workflows::PushOutcome outcome{};
};

Result<std::vector<Server>> Targets(storage::Store& store, const WfArgs& a) {
  if (!a.server.empty()) {
    auto server = store.GetServer(a.server);
    if (!server) return tl::unexpected(server.error());
    return std::vector<Server>{*server};
  }
  if (a.customer.empty() && !a.all) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "say where to push: --server NAME, --customer NAME or --all");
  }
  storage::ServerFilter filter;
  filter.active_only = true;
  if (!a.customer.empty()) filter.customer = a.customer;
  auto servers = store.ListServers(filter);
  if (!servers) return tl::unexpected(servers.error());
  if (servers->empty()) {
    return MakeError(ErrorCode::kNotFound,
                     a.all ? std::string("there are no active servers")
                           : "customer '" + a.customer + "' has no active servers");
  }
  return servers;
}

// The files to push, each tied to its local workflow (registered unless it is a dry run).
Result<std::vector<Item>> LoadItems(Context& ctx, storage::Store& store, const WfArgs& a) {
  auto locals = store.ListLocalWorkflows();
  if (!locals) return tl::unexpected(locals.error());
  std::vector<Item> items;
  for (const auto& arg : a.targets) {
    auto file = ResolveWorkflowArg(*locals, arg);
    if (!file) return tl::unexpected(file.error());
    for (const auto& other : items) {
      if (other.file.path == file->path || other.file.name == file->name) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "workflow '" + file->name + "' (" + file->path + ") is given twice");
      }
    }
    const LocalWorkflow* known = FindLocal(*locals, file->path, file->name);
    Item item{*file, known != nullptr ? *known : LocalWorkflow{}};
    if (!a.dry_run &&
        (known == nullptr || known->file != file->path || known->name != file->name)) {
      LocalWorkflow record = item.local;
      record.name = file->name;
      record.file = file->path;
      auto saved = store.SaveLocalWorkflow(record, ctx.clock().NowUnixSeconds());
      if (!saved) return tl::unexpected(saved.error());
      item.local.id = saved->id;
      item.local.name = saved->name;
      item.local.file = saved->file;
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::string Detail(const workflows::PushOutcome& o) {
  std::string text = o.error ? o.error->message : o.note;
  if (o.error && !o.note.empty()) text += " (" + o.note + ")";
  return text.empty() ? "-" : text;
}

int Print(Context& ctx, const WfArgs& a, const std::vector<Row>& rows) {
  int failed = 0;
  std::map<std::string, int> by_action;
  for (const auto& r : rows) {
    if (!r.outcome.ok()) ++failed;
    ++by_action[std::string(workflows::PushActionName(r.outcome.action))];
  }
  const int total = static_cast<int>(rows.size());
  if (a.json) {
    Json results = Json::array();
    for (const auto& r : rows) {
      const auto& o = r.outcome;
      results.push_back({{"server", r.server},
                         {"workflow", r.workflow},
                         {"file", r.file},
                         {"action", workflows::PushActionName(o.action)},
                         {"ok", o.ok()},
                         {"id", o.remote_id.empty() ? Json(nullptr) : Json(o.remote_id)},
                         {"updated_at", o.remote_updated_at},
                         {"active", o.active},
                         {"note", o.note},
                         {"error", o.error ? Json(o.error->message) : Json(nullptr)}});
    }
    ctx.out().Json({{"dry_run", a.dry_run},
                    {"results", results},
                    {"summary",
                     {{"total", total},
                      {"succeeded", total - failed},
                      {"failed", failed},
                      {"by_action", by_action}}}});
  } else {
    std::vector<std::vector<std::string>> table;
    for (const auto& r : rows) {
      table.push_back({r.server, r.workflow,
                       std::string(workflows::PushActionName(r.outcome.action)),
                       r.outcome.remote_id.empty() ? "-" : r.outcome.remote_id,
                       r.outcome.active ? "yes" : "no", Detail(r.outcome)});
    }
    ctx.out().Table({"Server", "Workflow", "Result", "ID", "Active", "Detail"}, table);
    std::string counts;
    for (const auto& [action, n] : by_action) {
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + action;
    }
    std::string summary =
        std::string(a.dry_run ? "Dry run: " : "") + std::to_string(total) + " pushes: " + counts;
    if (failed == 0) {
      ctx.out().Success(summary);
    } else {
      ctx.out().Line(summary);
      ctx.out().Warn(std::to_string(failed) + " of " + std::to_string(total) +
                     " pushes failed; see Detail");
    }
  }
  if (failed == 0) return kExitOk;
  return failed == total ? kExitNothing : kExitPartial;
}

}  // namespace

Result<int> PushWorkflows(Context& ctx, const WfArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  storage::Store& store = (*registry)->store();
  auto servers = Targets(store, a);
  if (!servers) return tl::unexpected(servers.error());
  auto items = LoadItems(ctx, store, a);
  if (!items) return tl::unexpected(items.error());

  // Workers share the registry (one database connection) and the authenticator: both only
  // under `mu`, which AuthFor releases while an exchange is on the wire.
  std::mutex mu;
  registry::Authenticator authenticator(**registry, ctx.clock());
  n8n::HttpTransport& transport = ctx.transport();  // created here, before the threads share it
  std::vector<Row> rows;
  std::vector<bool> pushed_somewhere(items->size(), false);
  const int64_t total = static_cast<int64_t>(servers->size() * items->size());
  int64_t done = 0;
  int64_t failed = 0;
  ProgressBar progress(a.dry_run ? "Checking" : "Pushing", total, !a.json);
  workflows::PushOptions options{a.activate, a.dry_run, a.force};

  ForEachBounded(servers->size(), a.concurrency, [&](size_t s) {
    const Server& server = (*servers)[s];
    auto auth = authenticator.AuthFor(server, transport, &mu);
    std::optional<workflows::ServerPusher> pusher;
    if (auth) pusher.emplace(transport, EndpointOf(server), *auth, server.name, options);
    for (size_t w = 0; w < items->size(); ++w) {
      const Item& item = (*items)[w];
      workflows::PushOutcome outcome;
      if (!auth) {
        outcome.error = WithContext(auth.error(), "server '" + server.name + "'");
      } else {
        const WorkflowMapping* mapping = MappingOn(item.local, server.name);
        outcome =
            pusher->Push(item.file.workflow, mapping ? std::optional(*mapping) : std::nullopt);
      }
      std::lock_guard lock(mu);
      if (!a.dry_run && outcome.should_record()) {
        auto saved = store.SaveWorkflowMapping(
            item.local.id, {server.name, outcome.remote_id, outcome.remote_updated_at, "push",
                            ctx.clock().NowUnixSeconds()});
        if (!saved) {
          outcome.error = WithContext(
              saved.error(), "pushed, but recording its id " + outcome.remote_id + " failed");
        } else if (outcome.ok()) {
          pushed_somewhere[w] = true;
        }
      }
      ++done;
      if (!outcome.ok()) ++failed;
      progress.Update(done, failed);
      rows.push_back({server.name, item.file.name, item.file.path, std::move(outcome)});
    }
  });
  progress.Finish();

  // The file as pushed is now what the database last synced (a later pull compares against it).
  for (size_t w = 0; w < items->size(); ++w) {
    if (!pushed_somewhere[w]) continue;
    LocalWorkflow record = (*items)[w].local;
    record.file_sha256 = (*items)[w].file.sha256;
    auto saved = store.SaveLocalWorkflow(record, ctx.clock().NowUnixSeconds());
    if (!saved) return tl::unexpected(saved.error());
  }
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return std::tie(x.server, x.workflow) < std::tie(y.server, y.workflow);
  });
  return Print(ctx, a, rows);
}

}  // namespace fleet::cli
