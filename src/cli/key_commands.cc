// `n8n-fleet key ...`: the service's token-exchange signing keys and the lines an instance needs
// to trust them.
#include <fstream>

#include "cli/commands.h"
#include "core/text.h"
#include "core/time.h"
#include "registry/authenticator.h"
#include "registry/signing_keys.h"

namespace fleet::cli {
namespace {

struct KeyArgs {
  std::string alg{"ES256"}, kid, issuer, file, server, role{registry::kDefaultRole};
  std::string format{"env"};
  bool activate{false}, json{false}, public_pem{false};
};

nlohmann::json KeyJson(const SigningKey& key) {
  auto ts = [](std::optional<int64_t> t) {
    return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
  };
  return {{"kid", key.kid},
          {"alg", key.alg},
          {"state", SigningKeyStateName(key.state)},
          {"issuer", key.issuer},
          {"created_at", FormatTimestamp(key.created_at)},
          {"activated_at", ts(key.activated_at)},
          {"retired_at", ts(key.retired_at)}};
}

Result<registry::NewSigningKey> Spec(const KeyArgs& a) {
  auto alg = crypto::ParseSigningAlg(a.alg);
  if (!alg) return tl::unexpected(alg.error());
  return registry::NewSigningKey{*alg, a.kid, a.issuer, a.activate};
}

Result<int> Created(Context& ctx, const KeyArgs& a, const SigningKey& key, const char* verb) {
  if (a.json) {
    ctx.out().Json(KeyJson(key));
    return kExitOk;
  }
  ctx.out().Success(std::string(verb) + " " + key.alg + " key '" + key.kid + "' (" +
                    std::string(SigningKeyStateName(key.state)) + ", issuer " + key.issuer + ")");
  ctx.out().Line("Trust it on each instance: n8n-fleet key env [--server NAME]");
  return kExitOk;
}

Result<int> Generate(Context& ctx, const KeyArgs& a) {
  auto spec = Spec(a);
  if (!spec) return tl::unexpected(spec.error());
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto key = registry::SigningKeys(**registry).Generate(*spec);
  if (!key) return tl::unexpected(key.error());
  return Created(ctx, a, *key, "Generated");
}

Result<int> Import(Context& ctx, const KeyArgs& a) {
  auto pem = ReadFileText(a.file);
  if (!pem) return tl::unexpected(pem.error());
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto spec = Spec(a);
  if (!spec) return tl::unexpected(spec.error());
  auto key = registry::SigningKeys(**registry).Import(*pem, *spec);
  if (!key) return tl::unexpected(WithContext(key.error(), a.file));
  return Created(ctx, a, *key, "Imported");
}

Result<int> List(Context& ctx, const KeyArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto keys = (*store)->ListSigningKeys();
  if (!keys) return tl::unexpected(keys.error());
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& k : *keys) list.push_back(KeyJson(k));
    ctx.out().Json(list);
    return kExitOk;
  }
  if (keys->empty()) {
    ctx.out().Info("No signing keys; create one with `n8n-fleet key generate`");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : *keys) {
    rows.push_back({k.kid, k.alg, std::string(SigningKeyStateName(k.state)), k.issuer,
                    FormatTime(k.created_at), FormatTime(k.activated_at)});
  }
  ctx.out().Table({"Kid", "Alg", "State", "Issuer", "Created", "Activated"}, rows);
  return kExitOk;
}

Result<int> Show(Context& ctx, const KeyArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto key = (*store)->GetSigningKey(a.kid);
  if (!key) return tl::unexpected(key.error());
  if (a.public_pem) {
    ctx.out().Raw(key->public_pem);
    return kExitOk;
  }
  auto json = KeyJson(*key);
  json["public_pem"] = key->public_pem;
  if (a.json) {
    ctx.out().Json(json);
    return kExitOk;
  }
  for (const auto& [name, value] : json.items()) {
    if (name != "public_pem")
      ctx.out().Line(name + ": " + (value.is_string() ? value.get<std::string>() : "-"));
  }
  ctx.out().Raw(key->public_pem);
  return kExitOk;
}

Result<int> Activate(Context& ctx, const KeyArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  if (auto ok = (*store)->ActivateSigningKey(a.kid, ctx.clock().NowUnixSeconds()); !ok) {
    return tl::unexpected(ok.error());
  }
  ctx.out().Success("Key '" + a.kid + "' now signs; the previous active key stays published");
  return kExitOk;
}

Result<int> Retire(Context& ctx, const KeyArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  if (auto ok = (*store)->RetireSigningKey(a.kid, ctx.clock().NowUnixSeconds()); !ok) {
    return tl::unexpected(ok.error());
  }
  ctx.out().Success("Key '" + a.kid + "' retired: it no longer signs and is no longer published");
  if (!(*store)->GetActiveSigningKey()) {
    ctx.out().Warn("no key is active now: token exchange fails until `n8n-fleet key activate KID`");
  }
  return kExitOk;
}

Result<int> Jwks(Context& ctx, const KeyArgs&) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto keys = registry::SigningKeys(**registry).Published();
  if (!keys) return tl::unexpected(keys.error());
  nlohmann::json jwks = {{"keys", nlohmann::json::array()}};
  for (const auto& key : *keys) {
    auto alg = crypto::ParseSigningAlg(key.alg);
    if (!alg) return tl::unexpected(alg.error());
    auto jwk = crypto::PublicJwk({*alg, "", key.public_pem}, key.kid);
    if (!jwk) return tl::unexpected(jwk.error());
    jwks["keys"].push_back(*jwk);
  }
  ctx.out().Json(jwks);
  return kExitOk;
}

// Values for N8N_TOKEN_EXCHANGE_TRUSTED_KEYS and friends, rendered for where they go.
std::string RenderEnv(const std::vector<std::pair<std::string, std::string>>& vars,
                      const std::string& format, const std::string& secret_name) {
  std::string out;
  if (format == "env") {
    for (const auto& [name, value] : vars) out += name + "='" + value + "'\n";
  } else if (format == "json") {
    nlohmann::json json = nlohmann::json::object();
    for (const auto& [name, value] : vars) json[name] = value;
    out = json.dump(2) + "\n";
  } else if (format == "docker") {
    out = "# docker-compose.yml, under the n8n service:\n    environment:\n";
    for (const auto& [name, value] : vars) out += "      " + name + ": '" + value + "'\n";
  } else {  // k8s
    out = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + secret_name +
          "\ntype: Opaque\nstringData:\n";
    for (const auto& [name, value] : vars) out += "  " + name + ": '" + value + "'\n";
    out += "# then in the n8n container: envFrom: [{secretRef: {name: " + secret_name + "}}]\n";
  }
  return out;
}

Result<int> Env(Context& ctx, const KeyArgs& a) {
  if (a.format != "env" && a.format != "json" && a.format != "docker" && a.format != "k8s") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--format must be env, json, docker or k8s, not '" + a.format + "'");
  }
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  std::string audience;
  if (!a.server.empty()) {
    auto server = (*registry)->store().GetServer(a.server);
    if (!server) return tl::unexpected(server.error());
    audience = server->url;
  }
  auto keys = registry::SigningKeys(**registry).Published();
  if (!keys) return tl::unexpected(keys.error());
  if (keys->empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "no signing key to trust yet: create one with `n8n-fleet key generate`");
  }
  nlohmann::json trusted = nlohmann::json::array();
  for (const auto& key : *keys)
    trusted.push_back(registry::TrustedKeyEntry(key, {a.role}, audience));
  std::vector<std::pair<std::string, std::string>> vars = {
      {"N8N_ENV_FEAT_TOKEN_EXCHANGE", "true"},
      {"N8N_TOKEN_EXCHANGE_ENABLED", "true"},
      {"N8N_TOKEN_EXCHANGE_TRUSTED_KEYS", trusted.dump()}};
  ctx.out().Raw(RenderEnv(vars, a.format, "n8n-token-exchange"));
  return kExitOk;
}

// Debugging aid: prints one fresh subject token for SERVER (valid for minutes, single use).
Result<int> Mint(Context& ctx, const KeyArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto server = (*registry)->store().GetServer(a.server);
  if (!server) return tl::unexpected(server.error());
  registry::Authenticator auth(**registry, ctx.clock());
  auto request = auth.BuildExchange(*server);
  if (!request) return tl::unexpected(request.error());
  std::string body = request->body;
  auto start = body.find("subject_token=");
  if (start == std::string::npos) return MakeError(ErrorCode::kInternal, "no subject token");
  start += 14;
  ctx.out().Line(body.substr(start, body.find('&', start) - start));
  return kExitOk;
}

}  // namespace

void AddKeyCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* group = app.add_subcommand("key", "Manage the token-exchange signing keys");
  group->require_subcommand(1);
  auto a = std::make_shared<KeyArgs>();
  auto bind = [&action, &ctx, a](CLI::App* cmd, auto fn) {
    cmd->callback([&action, &ctx, a, fn] { action = [&ctx, a, fn] { return fn(ctx, *a); }; });
  };
  auto naming = [a](CLI::App* cmd) {
    cmd->add_option("--alg", a->alg, "ES256 (default, fast) or RS256");
    cmd->add_option("--kid", a->kid, "Key id (default fleet-<date>-<random>)");
    cmd->add_option("--issuer", a->issuer,
                    "Issuer URL (default: the active key's, else " +
                        std::string(registry::kDefaultIssuer) + ")");
    cmd->add_flag("--activate", a->activate,
                  "Sign with it from now on (the first key always does)");
    cmd->add_flag("--json", a->json, "JSON output");
  };
  auto* generate = group->add_subcommand("generate", "Create a key pair");
  naming(generate);
  bind(generate, Generate);
  auto* import = group->add_subcommand("import", "Bring an existing private key (PEM)");
  import->add_option("file", a->file, "PEM file ('-' for stdin)")->required();
  naming(import);
  bind(import, Import);
  auto* list = group->add_subcommand("list", "List keys and their state");
  list->add_flag("--json", a->json, "JSON output");
  bind(list, List);
  auto* show = group->add_subcommand("show", "Show a key");
  show->add_option("kid", a->kid)->required();
  show->add_flag("--public", a->public_pem, "Print only the public key (PEM)");
  show->add_flag("--json", a->json, "JSON output");
  bind(show, Show);
  auto* activate = group->add_subcommand("activate", "Sign with this key from now on");
  activate->add_option("kid", a->kid)->required();
  bind(activate, Activate);
  auto* retire = group->add_subcommand("retire", "Stop signing with and publishing a key");
  retire->add_option("kid", a->kid)->required();
  bind(retire, Retire);
  auto* jwks = group->add_subcommand("jwks", "JWKS of the published (non-retired) keys");
  bind(jwks, Jwks);
  auto* env = group->add_subcommand("env", "The environment an instance needs to trust the keys");
  env->add_option("--server", a->server, "Bind expectedAudience to this server's URL");
  env->add_option("--role", a->role, "Role allowed for the service identity");
  env->add_option("--format", a->format, "env (default), json, docker or k8s");
  bind(env, Env);
  auto* mint = group->add_subcommand("mint", "Print one fresh subject token for a server (debug)");
  mint->add_option("server", a->server)->required();
  bind(mint, Mint);
}

}  // namespace fleet::cli
