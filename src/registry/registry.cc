#include "registry/registry.h"

#include <map>

#include "core/jwt.h"
#include "core/text.h"
#include "core/time.h"
#include "core/url.h"
#include "storage/n8n_deploy_import.h"

namespace fleet::registry {
namespace {

constexpr char kMasterKeyCheckMeta[] = "master_key_check";
constexpr char kMasterKeyCheckText[] = "n8n-fleet master key check v1";

bool IsNotFound(const Error& error) { return error.code == ErrorCode::kNotFound; }

}  // namespace

Result<ApiKey> DescribeApiKeySecret(const std::string& secret) {
  if (secret.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the API key is empty: pass it as an argument or on standard input");
  }
  auto peek = PeekJwt(secret);
  if (!peek) {
    return MakeError(ErrorCode::kInvalidArgument, "this is not an n8n API key (" +
                                                      peek.error().message +
                                                      "); copy it from n8n's Settings > n8n API");
  }
  ApiKey key;
  key.masked = MaskSecret(secret);
  key.issued_at = peek->issued_at;
  key.expires_at = peek->expires_at;
  return key;
}

Result<bool> Registry::HasMasterKeyCheck(storage::Store& store) {
  auto check = store.GetMeta(kMasterKeyCheckMeta);
  if (!check) return tl::unexpected(check.error());
  return check->has_value();
}

Result<void> Registry::VerifyMasterKey() {
  auto check = store_.GetMeta(kMasterKeyCheckMeta);
  if (!check) return tl::unexpected(check.error());
  if (!check->has_value())
    return store_.SetMeta(kMasterKeyCheckMeta, sealer_.Seal(kMasterKeyCheckText));
  auto opened = sealer_.Open(**check);
  if (!opened || *opened != kMasterKeyCheckText) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "the master key does not match this database: its secrets were sealed with "
                     "another key. Use the master.key file or N8N_FLEET_MASTER_KEY that belongs "
                     "to this database; nothing was changed");
  }
  return {};
}

Result<Server> Registry::BuildServer(const ServerSpec& spec, const Server* existing) const {
  if (auto ok = ValidateName(spec.name, "server"); !ok) return tl::unexpected(ok.error());
  Server server = existing ? *existing : Server{};
  server.name = spec.name;
  if (spec.url) {
    auto url = NormalizeServerUrl(*spec.url);
    if (!url) return tl::unexpected(url.error());
    server.url = *url;
  } else if (!existing) {
    return MakeError(ErrorCode::kInvalidArgument, "server '" + spec.name + "' needs a URL");
  }
  auto check_text = [](const std::optional<std::string>& value, const char* what) -> Result<void> {
    if (value && (!IsValidUtf8(*value) || value->find('\0') != std::string::npos)) {
      return MakeError(ErrorCode::kInvalidArgument, std::string(what) + " is not valid UTF-8");
    }
    if (value && value->size() > 1000) {
      return MakeError(ErrorCode::kInvalidArgument, std::string(what) + " is over 1000 bytes");
    }
    return {};
  };
  for (auto [value, what] :
       {std::pair{&spec.customer, "customer"}, std::pair{&spec.description, "description"},
        std::pair{&spec.subject_email, "subject email"}, std::pair{&spec.subject_role, "role"}}) {
    if (auto ok = check_text(*value, what); !ok) return tl::unexpected(ok.error());
  }
  if (spec.customer) server.customer = std::string(Trim(*spec.customer));
  if (spec.description) server.description = *spec.description;
  if (spec.skip_tls_verify) server.skip_tls_verify = *spec.skip_tls_verify;
  if (spec.auth) server.auth = *spec.auth;
  if (spec.subject_email) {
    if (!spec.subject_email->empty() && spec.subject_email->find('@') == std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "subject email '" + *spec.subject_email + "' is not an email address");
    }
    server.subject_email = *spec.subject_email;
  }
  if (spec.subject_role) server.subject_role = *spec.subject_role;
  if (spec.tracking_since) {
    if (!ParseDay(*spec.tracking_since)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "tracking start '" + *spec.tracking_since + "' is not a YYYY-MM-DD date");
    }
    server.tracking_since = *spec.tracking_since;
  }
  if (server.tracking_since.empty()) {
    server.tracking_since = FormatDay(DayOf(clock_.NowUnixSeconds()));
  }
  return server;
}

Result<Server> Registry::CreateServer(const ServerSpec& spec) {
  auto server = BuildServer(spec, nullptr);
  if (!server) return server;
  return store_.CreateServer(*server, clock_.NowUnixSeconds());
}

Result<Server> Registry::UpdateServer(const ServerSpec& spec) {
  auto existing = store_.GetServer(spec.name);
  if (!existing) return existing;
  auto server = BuildServer(spec, &*existing);
  if (!server) return server;
  if (auto ok = store_.UpdateServer(*server, clock_.NowUnixSeconds()); !ok) {
    return tl::unexpected(ok.error());
  }
  return store_.GetServer(spec.name);
}

Result<ApiKey> Registry::AddApiKey(const std::string& name, const std::string& secret,
                                   const std::string& description, const std::string& server) {
  if (auto ok = ValidateName(name, "API key"); !ok) return tl::unexpected(ok.error());
  auto key = DescribeApiKeySecret(secret);
  if (!key) return key;
  key->name = name;
  key->description = description;
  key->sealed_secret = sealer_.Seal(secret);
  if (!server.empty()) {
    auto found = store_.GetServer(server);
    if (!found) {
      return MakeError(ErrorCode::kNotFound,
                       "no server named '" + server +
                           "': create it first with `n8n-fleet server create NAME URL`; the key "
                           "was not added");
    }
  }
  Result<ApiKey> created = MakeError(ErrorCode::kInternal, "not run");
  auto ok = store_.Transaction([&]() -> Result<void> {
    created = store_.CreateApiKey(*key, clock_.NowUnixSeconds());
    if (!created) return tl::unexpected(created.error());
    if (server.empty()) return {};
    auto links = store_.ListServerKeys(server);
    if (!links) return tl::unexpected(links.error());
    bool has_primary = false;
    for (const auto& link : *links) has_primary = has_primary || link.primary;
    return store_.Link(name, server, !has_primary, clock_.NowUnixSeconds());
  });
  if (!ok) return tl::unexpected(ok.error());
  return store_.GetApiKey(name);
}

Result<void> Registry::RotateApiKey(const std::string& name, const std::string& secret) {
  auto existing = store_.GetApiKey(name);
  if (!existing) return tl::unexpected(existing.error());
  auto key = DescribeApiKeySecret(secret);
  if (!key) return tl::unexpected(key.error());
  key->name = name;
  key->sealed_secret = sealer_.Seal(secret);
  return store_.ReplaceApiKeySecret(*key);
}

Result<std::string> Registry::RevealApiKey(const std::string& name) {
  auto key = store_.GetApiKey(name);
  if (!key) return tl::unexpected(key.error());
  auto secret = sealer_.Open(key->sealed_secret);
  if (!secret) {
    return tl::unexpected(WithContext(secret.error(), "API key '" + name + "'"));
  }
  return secret;
}

Result<std::pair<std::string, std::string>> Registry::ResolveServerKey(const std::string& server) {
  auto links = store_.ListServerKeys(server);
  if (!links) return tl::unexpected(links.error());
  std::vector<const LinkedKey*> active;
  for (const auto& link : *links) {
    if (!link.active) continue;
    if (link.primary) active.assign(1, &link);
    if (link.primary) break;
    active.push_back(&link);
  }
  if (active.empty()) {
    return MakeError(
        ErrorCode::kFailedPrecondition,
        "server '" + server + "' has no active API key: link one with `n8n-fleet server link KEY " +
            server + "` or add one with `n8n-fleet apikey add --server " + server + "`");
  }
  if (active.size() > 1) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "server '" + server + "' has several active API keys and none is primary: " +
                         "choose one with `n8n-fleet server link KEY " + server + " --primary`");
  }
  auto secret = RevealApiKey(active[0]->key_name);
  if (!secret) return tl::unexpected(secret.error());
  return std::pair{active[0]->key_name, *secret};
}

Result<ImportReport> Registry::ImportN8nDeploy(const std::string& path) {
  auto data = storage::ReadN8nDeployDatabase(path);
  if (!data) return tl::unexpected(data.error());
  ImportReport report;
  std::map<int64_t, std::string> server_names, key_names;
  int64_t now = clock_.NowUnixSeconds();
  auto ok = store_.Transaction([&]() -> Result<void> {
    for (const auto& row : data->servers) {
      auto existing = store_.GetServer(row.name);
      if (existing) {
        auto url = NormalizeServerUrl(row.url);
        if (url && *url == existing->url) {
          ++report.servers_unchanged;
          server_names[row.id] = row.name;
        } else {
          report.skipped.push_back("server '" + row.name +
                                   "': exists here with another URL; left as it is");
        }
        continue;
      }
      if (!IsNotFound(existing.error())) return tl::unexpected(existing.error());
      ServerSpec spec{.name = row.name,
                      .url = row.url,
                      .description = row.description,
                      .skip_tls_verify = row.skip_ssl_verify};
      auto server = BuildServer(spec, nullptr);
      if (!server) {
        report.skipped.push_back("server '" + row.name + "': " + server.error().message);
        continue;
      }
      server->active = row.active;
      auto created = store_.CreateServer(*server, now);
      if (!created) return tl::unexpected(created.error());
      ++report.servers_created;
      server_names[row.id] = row.name;
    }
    for (const auto& row : data->keys) {
      std::string secret(Trim(row.api_key));
      auto existing = store_.GetApiKey(row.name);
      if (existing) {
        auto current = sealer_.Open(existing->sealed_secret);
        if (current && *current == secret) {
          ++report.keys_unchanged;
          key_names[row.id] = row.name;
        } else {
          report.skipped.push_back("API key '" + row.name +
                                   "': a different key has this name here; left as it is");
        }
        continue;
      }
      if (!IsNotFound(existing.error())) return tl::unexpected(existing.error());
      if (auto name_ok = ValidateName(row.name, "API key"); !name_ok) {
        report.skipped.push_back("API key '" + row.name + "': " + name_ok.error().message);
        continue;
      }
      auto key = DescribeApiKeySecret(secret);
      if (!key) {
        report.skipped.push_back("API key '" + row.name + "': " + key.error().message);
        continue;
      }
      key->name = row.name;
      key->description = row.description;
      key->active = row.active;
      key->sealed_secret = sealer_.Seal(secret);
      auto created = store_.CreateApiKey(*key, now);
      if (!created) return tl::unexpected(created.error());
      ++report.keys_created;
      key_names[row.id] = row.name;
    }
    for (const auto& link : data->links) {
      auto server = server_names.find(link.server_id);
      auto key = key_names.find(link.api_key_id);
      if (server == server_names.end() || key == key_names.end()) {
        report.skipped.push_back("link of key #" + std::to_string(link.api_key_id) +
                                 " to server #" + std::to_string(link.server_id) +
                                 ": its key or server was not imported");
        continue;
      }
      auto existing = store_.ListServerKeys(server->second);
      if (!existing) return tl::unexpected(existing.error());
      bool present = false;
      for (const auto& linked : *existing) present = present || linked.key_name == key->second;
      if (present) continue;
      if (auto linked = store_.Link(key->second, server->second, link.primary, now); !linked) {
        return tl::unexpected(linked.error());
      }
      ++report.links_created;
    }
    return {};
  });
  if (!ok) return tl::unexpected(ok.error());
  return report;
}

}  // namespace fleet::registry
