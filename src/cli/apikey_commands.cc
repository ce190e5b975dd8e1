// `n8n-fleet apikey ...`: n8n API keys kept under names, sealed at rest.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "core/text.h"
#include "core/time.h"
#include "core/url.h"
#include "n8n/client.h"

namespace fleet::cli {
namespace {

struct KeyArgs {
  std::string key, name, server, server_url, description;
  bool json{false}, unmask{false}, confirm{false};
};

// The secret from the argument, or stdin ('-' or no argument), trimmed. On a terminal the
// typed key is not echoed.
Result<std::string> ReadSecret(const std::string& argument) {
  if (!argument.empty() && argument != "-") return std::string(Trim(argument));
  std::string line;
  if (::isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "Paste the n8n API key (input hidden): ");
    termios old_mode{};
    bool restore = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    if (restore) ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, line);
    if (restore) ::tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
    std::fprintf(stderr, "\n");
  } else {
    auto text = ReadFileText("-");
    if (!text) return tl::unexpected(text.error());
    line = *text;
  }
  return std::string(Trim(line));
}

std::string KeyStatus(const ApiKey& key, int64_t now) {
  if (key.expires_at && *key.expires_at <= now) return "Expired";
  return key.active ? "Active" : "Inactive";
}

Result<int> Add(Context& ctx, const KeyArgs& a) {
  auto secret = ReadSecret(a.key);
  if (!secret) return tl::unexpected(secret.error());
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto key = (*registry)->AddApiKey(a.name, *secret, a.description, a.server);
  if (!key) return tl::unexpected(key.error());
  if (a.json) {
    ctx.out().Json({{"name", key->name}, {"masked", key->masked}, {"servers", key->servers}});
    return kExitOk;
  }
  ctx.out().Success("API key '" + key->name + "' added (" + key->masked + ")" +
                    (a.server.empty() ? "" : " and linked to server '" + a.server + "'"));
  if (key->expires_at && *key->expires_at <= ctx.clock().NowUnixSeconds()) {
    ctx.out().Warn("this key expired on " + FormatTime(key->expires_at));
  }
  return kExitOk;
}

Result<int> List(Context& ctx, const KeyArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto keys = (*registry)->store().ListApiKeys();
  if (!keys) return tl::unexpected(keys.error());
  int64_t now = ctx.clock().NowUnixSeconds();
  std::vector<std::string> shown;
  for (const auto& key : *keys) {
    if (!a.unmask) {
      shown.push_back(key.masked);
      continue;
    }
    auto secret = (*registry)->RevealApiKey(key.name);
    if (!secret) return tl::unexpected(secret.error());
    shown.push_back(*secret);
  }
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < keys->size(); ++i) {
      const ApiKey& k = (*keys)[i];
      auto ts = [](std::optional<int64_t> t) {
        return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
      };
      list.push_back({{"name", k.name},
                      {"servers", k.servers},
                      {"description", k.description},
                      {"created", ts(k.issued_at)},
                      {"added", FormatTimestamp(k.created_at)},
                      {"last_used", ts(k.last_used_at)},
                      {"status", KeyStatus(k, now)},
                      {"active", k.active},
                      {"expires", ts(k.expires_at)},
                      {a.unmask ? "key" : "masked", shown[i]}});
    }
    ctx.out().Json(list);
    return kExitOk;
  }
  if (keys->empty()) {
    ctx.out().Info("No API keys stored; add one with `n8n-fleet apikey add KEY --name NAME`");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < keys->size(); ++i) {
    const ApiKey& k = (*keys)[i];
    std::string servers;
    for (const auto& s : k.servers) servers += (servers.empty() ? "" : ", ") + s;
    rows.push_back({k.name, servers.empty() ? "-" : servers, FormatTime(k.issued_at),
                    FormatTime(k.created_at), FormatTime(k.last_used_at), KeyStatus(k, now),
                    k.expires_at ? FormatTime(k.expires_at) : "never", shown[i]});
  }
  ctx.out().Table({"Name", "Servers", "Created", "Added", "Last used", "Status", "Expires", "Key"},
                  rows);
  return kExitOk;
}

// Which URL `apikey test` calls: --server-url, --server, the key's only linked server, or
// N8N_SERVER_URL.
Result<std::pair<std::string, n8n::Endpoint>> TestTarget(Context& ctx, registry::Registry& reg,
                                                         const KeyArgs& a, const ApiKey& key) {
  if (!a.server_url.empty() || (a.server.empty() && key.servers.empty())) {
    std::string url = a.server_url.empty() ? ctx.default_server_url() : a.server_url;
    if (url.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "API key '" + key.name +
                           "' is not linked to a server: give --server NAME or --server-url URL "
                           "(or set N8N_SERVER_URL)");
    }
    auto normal = NormalizeServerUrl(url);
    if (!normal) return tl::unexpected(normal.error());
    return std::pair{*normal, n8n::Endpoint{*normal, true}};
  }
  std::string name = a.server;
  if (name.empty()) {
    if (key.servers.size() > 1) {
      return MakeError(ErrorCode::kInvalidArgument, "API key '" + key.name + "' is linked to " +
                                                        std::to_string(key.servers.size()) +
                                                        " servers: say which with --server NAME");
    }
    name = key.servers.front();
  }
  auto server = reg.store().GetServer(name);
  if (!server) return tl::unexpected(server.error());
  return std::pair{server->name, n8n::Endpoint{server->url, !server->skip_tls_verify}};
}

Result<int> Test(Context& ctx, const KeyArgs& a) {
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto key = (*registry)->store().GetApiKey(a.name);
  if (!key) return tl::unexpected(key.error());
  if (!key->active) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "API key '" + a.name +
                         "' is inactive and is never used for calls; `n8n-fleet apikey activate " +
                         a.name + "` first");
  }
  auto target = TestTarget(ctx, **registry, a, *key);
  if (!target) return tl::unexpected(target.error());
  auto secret = (*registry)->RevealApiKey(a.name);
  if (!secret) return tl::unexpected(secret.error());
  auto report =
      n8n::TestApiKey(ctx.transport(), target->second, *secret, ctx.clock().NowUnixSeconds());
  bool authenticated = false;
  for (const auto& step : report.steps) authenticated |= step.name == "authenticated" && step.ok;
  if (authenticated) {
    if (auto ok = (*registry)->store().TouchApiKey(a.name, ctx.clock().NowUnixSeconds()); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return PrintReport(ctx, report,
                     "Testing API key '" + a.name + "' against " + target->first + " (" +
                         target->second.base_url + ")",
                     {{"key", a.name}, {"server", target->first}, {"url", target->second.base_url}},
                     a.json);
}

Result<int> SetActive(Context& ctx, const KeyArgs& a, bool active) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  if (auto ok = (*store)->SetApiKeyActive(a.name, active); !ok) return tl::unexpected(ok.error());
  ctx.out().Success("API key '" + a.name + "' " + (active ? "activated" : "deactivated"));
  return kExitOk;
}

Result<int> Delete(Context& ctx, const KeyArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto key = (*store)->GetApiKey(a.name);
  if (!key) return tl::unexpected(key.error());
  if (!a.confirm) {
    std::string question = "Delete API key '" + a.name + "'";
    if (!key->servers.empty()) {
      question += " (linked to " + std::to_string(key->servers.size()) + " server(s))";
    }
    auto yes = Confirm(ctx, question + "?", "--confirm or --force");
    if (!yes) return tl::unexpected(yes.error());
    if (!*yes) {
      ctx.out().Info("Cancelled; nothing was deleted");
      return kExitError;
    }
  }
  if (auto ok = (*store)->DeleteApiKey(a.name); !ok) return tl::unexpected(ok.error());
  ctx.out().Success("API key '" + a.name + "' deleted");
  return kExitOk;
}

Result<int> Rotate(Context& ctx, const KeyArgs& a) {
  auto secret = ReadSecret(a.key);
  if (!secret) return tl::unexpected(secret.error());
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  if (auto ok = (*registry)->RotateApiKey(a.name, *secret); !ok) return tl::unexpected(ok.error());
  ctx.out().Success("API key '" + a.name + "' replaced (" + MaskSecret(*secret) +
                    "); its server links are kept");
  return kExitOk;
}

}  // namespace

void AddApiKeyCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* group = app.add_subcommand("apikey", "Manage n8n API keys (stored encrypted)");
  group->require_subcommand(1);
  auto a = std::make_shared<KeyArgs>();
  auto bind = [&action, &ctx, a](CLI::App* cmd, auto fn) {
    cmd->callback([&action, &ctx, a, fn] { action = [&ctx, a, fn] { return fn(ctx, *a); }; });
  };

  auto* add = group->add_subcommand("add", "Store an API key under a name");
  add->add_option("key", a->key, "The key, or '-' / nothing to read it from stdin");
  add->add_option("--name,-n", a->name, "Name to store it under")->required();
  add->add_option("--server,-s", a->server, "Link it to this (existing) server");
  add->add_option("--description,-d", a->description, "Free text");
  add->add_flag("--json", a->json, "JSON output");
  bind(add, Add);

  auto* list = group->add_subcommand("list", "List keys (masked)");
  list->add_flag("--unmask", a->unmask, "Show the full keys");
  list->add_flag("--json", a->json, "JSON output");
  bind(list, List);

  auto* test = group->add_subcommand("test", "Check a key against its server");
  test->add_option("name", a->name)->required();
  test->add_option("--server,-s", a->server, "Server to test against");
  test->add_option("--server-url", a->server_url, "URL to test against (default N8N_SERVER_URL)");
  test->add_flag("--json", a->json, "JSON output");
  bind(test, Test);

  auto* activate = group->add_subcommand("activate", "Allow a key to be used");
  activate->add_option("name", a->name)->required();
  bind(activate, [](Context& c, const KeyArgs& x) { return SetActive(c, x, true); });

  auto* deactivate = group->add_subcommand("deactivate", "Stop using a key (kept)");
  deactivate->add_option("name", a->name)->required();
  bind(deactivate, [](Context& c, const KeyArgs& x) { return SetActive(c, x, false); });

  auto* del = group->add_subcommand("delete", "Delete a key and its links (asks first)");
  del->add_option("name", a->name)->required();
  del->add_flag("--confirm,--force,-y", a->confirm, "Do not ask");
  bind(del, Delete);

  auto* rotate = group->add_subcommand("rotate", "Replace a key's secret, keeping its links");
  rotate->add_option("name", a->name)->required();
  rotate->add_option("key", a->key, "The new key, or '-' / nothing for stdin");
  bind(rotate, Rotate);
}

}  // namespace fleet::cli
