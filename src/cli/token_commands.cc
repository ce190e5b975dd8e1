// `n8n-fleet token ...` (bearer tokens for the service's HTTP API) and `server report-token`
// (an instance's token for pushing its daily reports).
#include "cli/commands.h"
#include "core/time.h"
#include "registry/api_tokens.h"

namespace fleet::cli {
namespace {

struct TokenArgs {
  std::string name;
  std::string server;
  std::string url;
  bool read_only{false};
  bool json{false};
};

nlohmann::json TokenJson(const ApiToken& t) {
  auto time = [](const std::optional<int64_t>& at) {
    return at ? nlohmann::json(FormatTimestamp(*at)) : nlohmann::json(nullptr);
  };
  nlohmann::json json = {{"name", t.name},
                         {"prefix", t.prefix},
                         {"read_only", t.read_only},
                         {"created_at", FormatTimestamp(t.created_at)},
                         {"last_used_at", time(t.last_used_at)},
                         {"revoked_at", time(t.revoked_at)}};
  if (!t.server.empty()) json["server"] = t.server;
  return json;
}

Result<int> Create(Context& ctx, const TokenArgs& a) {
  // Through the registry: a first command on a new home creates its master key too.
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto* store = &(*registry)->store();
  auto issued =
      registry::IssueApiToken(*store, a.name, a.read_only, "", ctx.clock().NowUnixSeconds());
  if (!issued) return tl::unexpected(issued.error());
  if (a.json) {
    auto json = TokenJson(issued->token);
    json["token"] = issued->plaintext;
    ctx.out().Json(json);
    return kExitOk;
  }
  ctx.out().Success("Created " + std::string(a.read_only ? "read-only " : "") + "token '" + a.name +
                    "'. It is shown only this once; store it now:");
  ctx.out().Line(issued->plaintext);
  return kExitOk;
}

Result<int> List(Context& ctx, const TokenArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto tokens = (*store)->ListApiTokens();
  if (!tokens) return tl::unexpected(tokens.error());
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : *tokens) list.push_back(TokenJson(t));
    ctx.out().Json(list);
    return kExitOk;
  }
  if (tokens->empty()) {
    ctx.out().Info("No tokens yet: `n8n-fleet token create NAME`");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : *tokens) {
    std::string scope = !t.server.empty() ? "report: " + t.server
                        : t.read_only     ? "read-only"
                                          : "read-write";
    rows.push_back({t.name, t.prefix + "…", scope, FormatTime(t.created_at),
                    FormatTime(t.last_used_at), t.revoked_at ? "revoked" : "active"});
  }
  ctx.out().Table({"Name", "Token", "Scope", "Created", "Last used", "State"}, rows);
  return kExitOk;
}

Result<int> Revoke(Context& ctx, const TokenArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  if (auto ok = (*store)->RevokeApiToken(a.name, ctx.clock().NowUnixSeconds()); !ok) {
    return tl::unexpected(ok.error());
  }
  ctx.out().Success("Revoked token '" + a.name + "': it authenticates nothing from now on");
  return kExitOk;
}

// A new report token for a server (revoking its previous ones) and the environment its n8n
// instance needs to push its daily figures here.
Result<int> ReportToken(Context& ctx, const TokenArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto* store = &(*registry)->store();
  auto server = store->GetServer(a.server);
  if (!server) return tl::unexpected(server.error());
  auto tokens = store->ListApiTokens();
  if (!tokens) return tl::unexpected(tokens.error());
  int64_t now = ctx.clock().NowUnixSeconds();
  int issued_before = 0;
  for (const auto& t : *tokens) {
    if (t.server != a.server) continue;
    ++issued_before;
    if (!t.revoked_at) {
      if (auto ok = store->RevokeApiToken(t.name, now); !ok) return tl::unexpected(ok.error());
    }
  }
  std::string name = "report:" + a.server;
  if (issued_before > 0) name += "#" + std::to_string(issued_before + 1);
  auto issued = registry::IssueApiToken(*store, name, false, a.server, now);
  if (!issued) return tl::unexpected(issued.error());
  std::string base = a.url.empty() ? "http://127.0.0.1:8080" : a.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::vector<std::pair<std::string, std::string>> env = {
      {"N8N_ENABLED_MODULES", "instance-reporting"},
      {"N8N_INSTANCE_REPORTING_BASE_URL", base},
      {"N8N_INSTANCE_REPORTING_AUTH_TOKEN", issued->plaintext},
      {"N8N_INSTANCE_REPORTING_LABEL", a.server}};
  if (a.json) {
    nlohmann::json json = TokenJson(issued->token);
    json["token"] = issued->plaintext;
    json["env"] = nlohmann::json::object();
    for (const auto& [k, v] : env) json["env"][k] = v;
    ctx.out().Json(json);
    return kExitOk;
  }
  for (const auto& [k, v] : env) ctx.out().Line(k + "=" + v);
  ctx.out().Info(
      "Set these on the instance of '" + a.server + "' (the token is shown only this once" +
      (issued_before ? "; its previous report tokens are revoked" : "") + ")." +
      (a.url.empty() ? " Use --url for the address instances reach the service at." : ""));
  return kExitOk;
}

}  // namespace

void AddTokenCommands(CLI::App& app, Context& ctx, Action& action) {
  auto a = std::make_shared<TokenArgs>();
  auto bind = [&action, &ctx, a](CLI::App* cmd, Result<int> (*fn)(Context&, const TokenArgs&)) {
    cmd->callback([&action, &ctx, a, fn] { action = [&ctx, a, fn] { return fn(ctx, *a); }; });
  };
  auto* group = app.add_subcommand("token", "Bearer tokens for the service's HTTP API");
  group->require_subcommand(1);
  auto* create = group->add_subcommand("create", "Create a token (shown once, stored hashed)");
  create->add_option("name", a->name)->required();
  create->add_flag("--read-only", a->read_only, "GET routes only");
  create->add_flag("--json", a->json, "JSON output");
  bind(create, Create);
  auto* list = group->add_subcommand("list", "List tokens (never their secrets)");
  list->add_flag("--json", a->json, "JSON output");
  bind(list, List);
  auto* revoke = group->add_subcommand("revoke", "Revoke a token");
  revoke->add_option("name", a->name)->required();
  bind(revoke, Revoke);
}

void AddReportTokenCommand(CLI::App& server_group, Context& ctx, Action& action) {
  auto a = std::make_shared<TokenArgs>();
  auto* cmd = server_group.add_subcommand(
      "report-token", "A token for the instance to push its daily reports, and its env lines");
  cmd->add_option("name", a->server, "Server name")->required();
  cmd->add_option("--url", a->url, "Base URL the instance reaches this service at");
  cmd->add_flag("--json", a->json, "JSON output");
  cmd->callback([&action, &ctx, a] { action = [&ctx, a] { return ReportToken(ctx, *a); }; });
}

}  // namespace fleet::cli
