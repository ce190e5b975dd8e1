// `n8n-fleet server ...`: the server registry (n8n-deploy's `server` group, plus customers,
// bulk import/export and auth modes).
#include <fstream>

#include "cli/commands.h"
#include "core/text.h"
#include "core/time.h"
#include "registry/authenticator.h"
#include "registry/server_check.h"
#include "registry/server_file.h"

namespace fleet::cli {
namespace {

struct ServerArgs {
  std::string name, url, customer, description, auth, subject_email, role, tracking_since;
  std::string file, format, key_name;
  bool skip_tls_verify{false}, verify_tls{false}, json{false}, confirm{false};
  bool preserve_keys{false}, delete_keys{false}, primary{false};
};

// Optional string options are "set" when given on the command line.
std::optional<std::string> IfGiven(CLI::App* cmd, const char* option, const std::string& value) {
  return cmd->count(option) ? std::optional<std::string>(value) : std::nullopt;
}

Result<std::optional<AuthMode>> AuthOption(const std::string& auth) {
  if (auth.empty()) return std::optional<AuthMode>();
  auto mode = ParseAuthMode(auth);
  if (!mode) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--auth must be api-key or token-exchange, not '" + auth + "'");
  }
  return std::optional<AuthMode>(*mode);
}

Result<int> Create(Context& ctx, CLI::App* cmd, const ServerArgs& a) {
  auto auth = AuthOption(a.auth);
  if (!auth) return tl::unexpected(auth.error());
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  registry::ServerSpec spec{.name = a.name,
                            .url = a.url,
                            .customer = IfGiven(cmd, "--customer", a.customer),
                            .description = IfGiven(cmd, "--description", a.description),
                            .skip_tls_verify = a.skip_tls_verify,
                            .auth = *auth,
                            .subject_email = IfGiven(cmd, "--subject-email", a.subject_email),
                            .subject_role = IfGiven(cmd, "--role", a.role),
                            .tracking_since = IfGiven(cmd, "--tracking-since", a.tracking_since)};
  auto server = (*registry)->CreateServer(spec);
  if (!server) return tl::unexpected(server.error());
  if (server->skip_tls_verify) {
    ctx.out().Warn("TLS verification is off for '" + server->name +
                   "': its certificate will not be checked");
  }
  if (a.json) {
    ctx.out().Json(ServerJson(*server));
  } else {
    ctx.out().Success("Server '" + server->name + "' created (" + server->url + ")");
  }
  return kExitOk;
}

Result<int> List(Context& ctx, const ServerArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  storage::ServerFilter filter;
  if (!a.customer.empty()) filter.customer = a.customer;
  auto servers = (*store)->ListServers(filter);
  if (!servers) return tl::unexpected(servers.error());
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : *servers) list.push_back(ServerJson(s));
    ctx.out().Json(list);
    return kExitOk;
  }
  if (servers->empty()) {
    ctx.out().Info(a.customer.empty() ? "No servers found"
                                      : "No servers found for customer '" + a.customer + "'");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : *servers) {
    rows.push_back({s.name, s.url, s.customer.empty() ? "-" : s.customer,
                    std::string(AuthModeName(s.auth)), s.active ? "yes" : "no",
                    FormatTime(s.created_at)});
  }
  ctx.out().Table({"Name", "URL", "Customer", "Auth", "Active", "Created"}, rows);
  return kExitOk;
}

Result<int> Show(Context& ctx, const ServerArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto server = (*store)->GetServer(a.name);
  if (!server) return tl::unexpected(server.error());
  auto keys = (*store)->ListServerKeys(a.name);
  if (!keys) return tl::unexpected(keys.error());
  if (a.json) {
    auto json = ServerJson(*server);
    json["keys"] = nlohmann::json::array();
    for (const auto& k : *keys) {
      json["keys"].push_back({{"name", k.key_name}, {"primary", k.primary}, {"active", k.active}});
    }
    ctx.out().Json(json);
    return kExitOk;
  }
  std::string key_list;
  for (const auto& k : *keys) {
    key_list += (key_list.empty() ? "" : ", ") + k.key_name + (k.primary ? " (primary)" : "") +
                (k.active ? "" : " (inactive)");
  }
  const Server& s = *server;
  std::vector<std::vector<std::string>> rows = {
      {"Name", s.name},
      {"URL", s.url},
      {"Customer", s.customer.empty() ? "-" : s.customer},
      {"Description", s.description.empty() ? "-" : s.description},
      {"Auth", std::string(AuthModeName(s.auth))},
      {"TLS verify", s.skip_tls_verify ? "off" : "on"},
      {"Active", s.active ? "yes" : "no"},
      {"Tracking since", s.tracking_since},
      {"API keys", key_list.empty() ? "-" : key_list},
      {"Created", FormatTime(s.created_at)},
      {"Updated", FormatTime(s.updated_at)}};
  if (s.auth == AuthMode::kTokenExchange) {
    rows.insert(rows.begin() + 5,
                {"Subject email", s.subject_email.empty() ? "(default)" : s.subject_email});
    rows.insert(rows.begin() + 6, {"Role", s.subject_role.empty() ? "(default)" : s.subject_role});
  }
  for (const auto& row : rows) {
    ctx.out().Line(row[0] + ":" + std::string(16 - row[0].size(), ' ') + row[1]);
  }
  return kExitOk;
}

Result<int> Update(Context& ctx, CLI::App* cmd, const ServerArgs& a) {
  auto auth = AuthOption(a.auth);
  if (!auth) return tl::unexpected(auth.error());
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  registry::ServerSpec spec{.name = a.name,
                            .url = IfGiven(cmd, "--url", a.url),
                            .customer = IfGiven(cmd, "--customer", a.customer),
                            .description = IfGiven(cmd, "--description", a.description),
                            .skip_tls_verify = std::nullopt,
                            .auth = *auth,
                            .subject_email = IfGiven(cmd, "--subject-email", a.subject_email),
                            .subject_role = IfGiven(cmd, "--role", a.role),
                            .tracking_since = IfGiven(cmd, "--tracking-since", a.tracking_since)};
  if (a.skip_tls_verify) spec.skip_tls_verify = true;
  if (a.verify_tls) spec.skip_tls_verify = false;
  auto server = (*registry)->UpdateServer(spec);
  if (!server) return tl::unexpected(server.error());
  if (a.skip_tls_verify && server->skip_tls_verify) {
    ctx.out().Warn("TLS verification is off for '" + server->name +
                   "': its certificate will not be checked");
  }
  if (a.json) {
    ctx.out().Json(ServerJson(*server));
  } else {
    ctx.out().Success("Server '" + server->name + "' updated");
  }
  return kExitOk;
}

Result<int> Remove(Context& ctx, const ServerArgs& a) {
  if (a.preserve_keys && a.delete_keys) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--preserve-keys and --delete-keys cannot be used together");
  }
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto server = (*store)->GetServer(a.name);
  if (!server) return tl::unexpected(server.error());
  auto keys = (*store)->ListServerKeys(a.name);
  if (!keys) return tl::unexpected(keys.error());
  bool delete_keys = a.delete_keys;
  if (!a.confirm) {
    std::string question = "Delete server '" + a.name + "'";
    if (!keys->empty()) {
      question += delete_keys
                      ? " and the API keys linked only to it"
                      : " (its " + std::to_string(keys->size()) + " linked API key(s) are kept)";
    }
    auto yes = Confirm(ctx, question + "?", "--confirm");
    if (!yes) return tl::unexpected(yes.error());
    if (!*yes) {
      ctx.out().Info("Cancelled; nothing was removed");
      return kExitError;
    }
  }
  auto deleted = (*store)->DeleteServer(a.name, delete_keys);
  if (!deleted) return tl::unexpected(deleted.error());
  if (a.json) {
    ctx.out().Json({{"removed", a.name}, {"deleted_keys", *deleted}});
    return kExitOk;
  }
  for (const auto& key : *deleted) ctx.out().Line("Deleted API key '" + key + "'");
  ctx.out().Success("Server '" + a.name + "' removed");
  return kExitOk;
}

Result<registry::ServerFileFormat> FileFormat(const std::string& format, const std::string& path) {
  std::string f = format;
  if (f.empty()) f = path.size() > 6 && path.ends_with(".jsonl") ? "jsonl" : "csv";
  if (f == "csv") return registry::ServerFileFormat::kCsv;
  if (f == "jsonl") return registry::ServerFileFormat::kJsonl;
  return MakeError(ErrorCode::kInvalidArgument, "--format must be csv or jsonl, not '" + f + "'");
}

Result<int> Import(Context& ctx, const ServerArgs& a) {
  auto format = FileFormat(a.format, a.file);
  if (!format) return tl::unexpected(format.error());
  auto text = ReadFileText(a.file);
  if (!text) return tl::unexpected(text.error());
  auto rows = registry::ParseServerFile(*text, *format);
  if (!rows) return tl::unexpected(WithContext(rows.error(), a.file + ": nothing was imported"));
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto counts = registry::ImportServers(**registry, *rows);
  if (!counts) {
    return tl::unexpected(WithContext(counts.error(), a.file + ": nothing was imported"));
  }
  if (a.json) {
    ctx.out().Json({{"created", counts->created},
                    {"updated", counts->updated},
                    {"unchanged", counts->unchanged}});
  } else {
    ctx.out().Success("Imported " + std::to_string(rows->size()) + " servers from " + a.file +
                      ": " + std::to_string(counts->created) + " created, " +
                      std::to_string(counts->updated) + " updated, " +
                      std::to_string(counts->unchanged) + " unchanged");
  }
  return kExitOk;
}

Result<int> Export(Context& ctx, const ServerArgs& a) {
  auto format = FileFormat(a.format, a.file);
  if (!format) return tl::unexpected(format.error());
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  storage::ServerFilter filter;
  if (!a.customer.empty()) filter.customer = a.customer;
  auto servers = (*store)->ListServers(filter);
  if (!servers) return tl::unexpected(servers.error());
  std::string text = registry::WriteServerFile(*servers, *format);
  if (a.file.empty() || a.file == "-") {
    ctx.out().Raw(text);
    return kExitOk;
  }
  std::ofstream file(a.file, std::ios::binary | std::ios::trunc);
  if (!file || !(file << text) || !file.flush()) {
    return MakeError(ErrorCode::kIo, "cannot write " + a.file);
  }
  ctx.out().Success("Exported " + std::to_string(servers->size()) + " servers to " + a.file);
  return kExitOk;
}

Result<int> Link(Context& ctx, const ServerArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  if (auto ok = (*store)->Link(a.key_name, a.name, a.primary, ctx.clock().NowUnixSeconds()); !ok) {
    return tl::unexpected(ok.error());
  }
  ctx.out().Success("API key '" + a.key_name + "' linked to server '" + a.name + "'" +
                    (a.primary ? " as its primary key" : ""));
  return kExitOk;
}

Result<int> Unlink(Context& ctx, const ServerArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  if (auto ok = (*store)->Unlink(a.key_name, a.name); !ok) return tl::unexpected(ok.error());
  ctx.out().Success("API key '" + a.key_name + "' unlinked from server '" + a.name + "'");
  return kExitOk;
}

Result<int> Keys(Context& ctx, const ServerArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  if (auto server = (*store)->GetServer(a.name); !server) return tl::unexpected(server.error());
  auto keys = (*store)->ListServerKeys(a.name);
  if (!keys) return tl::unexpected(keys.error());
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& k : *keys) {
      list.push_back({{"name", k.key_name},
                      {"description", k.description},
                      {"primary", k.primary},
                      {"active", k.active},
                      {"linked_at", FormatTimestamp(k.linked_at)}});
    }
    ctx.out().Json(list);
    return kExitOk;
  }
  if (keys->empty()) {
    ctx.out().Info("No API keys linked to server '" + a.name + "'");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : *keys) {
    rows.push_back({k.key_name, k.description, k.primary ? "yes" : "", k.active ? "yes" : "no",
                    FormatTime(k.linked_at)});
  }
  ctx.out().Table({"Name", "Description", "Primary", "Active", "Linked"}, rows);
  return kExitOk;
}

Result<int> Test(Context& ctx, const ServerArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto server = (*registry)->store().GetServer(a.name);
  if (!server) return tl::unexpected(server.error());
  registry::Authenticator auth(**registry, ctx.clock());
  auto report = registry::TestServer(*server, auth, ctx.transport(), ctx.clock().NowUnixSeconds());
  return PrintReport(
      ctx, report,
      "Testing server '" + server->name + "' (" + server->url + ", " +
          std::string(AuthModeName(server->auth)) + ")",
      {{"server", server->name}, {"url", server->url}, {"auth", AuthModeName(server->auth)}},
      a.json);
}

}  // namespace

void AddServerCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* group = app.add_subcommand("server", "Manage n8n servers (instances)");
  AddReportTokenCommand(*group, ctx, action);
  group->require_subcommand(1);
  auto a = std::make_shared<ServerArgs>();
  auto bind = [&action, &ctx, a](CLI::App* cmd, auto fn) {
    cmd->callback(
        [&action, &ctx, a, cmd, fn] { action = [&ctx, a, cmd, fn] { return fn(ctx, cmd, *a); }; });
  };

  auto* create = group->add_subcommand("create", "Register a server");
  create->add_option("name", a->name, "Server name (UTF-8)")->required();
  create->add_option("url", a->url, "Base URL, e.g. https://n8n.example.com")->required();
  create->add_option("--customer", a->customer, "Customer (billing account) it belongs to");
  create->add_option("--description,-d", a->description, "Free text");
  create->add_flag("--skip-tls-verify", a->skip_tls_verify, "Do not verify its TLS certificate");
  create->add_option("--auth", a->auth, "api-key (default) or token-exchange");
  create->add_option("--subject-email", a->subject_email, "Token exchange: service identity");
  create->add_option("--role", a->role, "Token exchange: role of the identity");
  create->add_option("--tracking-since", a->tracking_since, "First day to track (YYYY-MM-DD)");
  create->add_flag("--json", a->json, "JSON output");
  bind(create, [](Context& c, CLI::App* cmd, const ServerArgs& x) { return Create(c, cmd, x); });

  auto* list = group->add_subcommand("list", "List servers");
  list->add_option("--customer", a->customer, "Only this customer's servers");
  list->add_flag("--json", a->json, "JSON output");
  bind(list, [](Context& c, CLI::App*, const ServerArgs& x) { return List(c, x); });

  auto* show = group->add_subcommand("show", "Show one server");
  show->add_option("name", a->name)->required();
  show->add_flag("--json", a->json, "JSON output");
  bind(show, [](Context& c, CLI::App*, const ServerArgs& x) { return Show(c, x); });

  auto* update = group->add_subcommand("update", "Change a server");
  update->add_option("name", a->name)->required();
  update->add_option("--url", a->url, "New base URL");
  update->add_option("--customer", a->customer, "New customer");
  update->add_option("--description,-d", a->description, "New description");
  update->add_flag("--skip-tls-verify", a->skip_tls_verify, "Stop verifying its certificate");
  update->add_flag("--verify-tls", a->verify_tls, "Verify its certificate again");
  update->add_option("--auth", a->auth, "api-key or token-exchange");
  update->add_option("--subject-email", a->subject_email, "Token exchange: service identity");
  update->add_option("--role", a->role, "Token exchange: role of the identity");
  update->add_option("--tracking-since", a->tracking_since, "First day to track (YYYY-MM-DD)");
  update->add_flag("--json", a->json, "JSON output");
  bind(update, [](Context& c, CLI::App* cmd, const ServerArgs& x) { return Update(c, cmd, x); });

  auto* remove = group->add_subcommand("remove", "Delete a server (asks first)");
  remove->alias("delete");
  remove->add_option("name", a->name)->required();
  remove->add_flag("--confirm,--yes,-y", a->confirm, "Do not ask");
  remove->add_flag("--preserve-keys", a->preserve_keys, "Keep its API keys (default)");
  remove->add_flag("--delete-keys", a->delete_keys, "Delete API keys linked only to it");
  remove->add_flag("--json", a->json, "JSON output");
  bind(remove, [](Context& c, CLI::App*, const ServerArgs& x) { return Remove(c, x); });

  auto* import = group->add_subcommand("import", "Create or update servers from a CSV/JSONL file");
  import->add_option("file", a->file, "File ('-' for stdin)")->required();
  import->add_option("--format", a->format, "csv or jsonl (default: by extension, else csv)");
  import->add_flag("--json", a->json, "JSON output");
  bind(import, [](Context& c, CLI::App*, const ServerArgs& x) { return Import(c, x); });

  auto* export_cmd = group->add_subcommand("export", "Write servers as CSV/JSONL");
  export_cmd->add_option("file", a->file, "File (default: stdout)");
  export_cmd->add_option("--format", a->format, "csv (default) or jsonl");
  export_cmd->add_option("--customer", a->customer, "Only this customer's servers");
  bind(export_cmd, [](Context& c, CLI::App*, const ServerArgs& x) { return Export(c, x); });

  auto* link = group->add_subcommand("link", "Link an API key to a server");
  link->add_option("key", a->key_name, "API key name")->required();
  link->add_option("server", a->name, "Server name")->required();
  link->add_flag("--primary", a->primary, "Make it the key used for this server");
  bind(link, [](Context& c, CLI::App*, const ServerArgs& x) { return Link(c, x); });

  auto* unlink = group->add_subcommand("unlink", "Unlink an API key from a server");
  unlink->add_option("key", a->key_name, "API key name")->required();
  unlink->add_option("server", a->name, "Server name")->required();
  bind(unlink, [](Context& c, CLI::App*, const ServerArgs& x) { return Unlink(c, x); });

  auto* test = group->add_subcommand("test", "Check reachability, authentication and Insights");
  test->add_option("server", a->name, "Server name")->required();
  test->add_flag("--json", a->json, "JSON output");
  bind(test, [](Context& c, CLI::App*, const ServerArgs& x) { return Test(c, x); });

  auto* keys = group->add_subcommand("keys", "List the API keys linked to a server");
  keys->add_option("server", a->name, "Server name")->required();
  keys->add_flag("--json", a->json, "JSON output");
  bind(keys, [](Context& c, CLI::App*, const ServerArgs& x) { return Keys(c, x); });
}

}  // namespace fleet::cli
