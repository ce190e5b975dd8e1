#include "service/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <variant>

#include <toml++/toml.h>

namespace fleet::service {
namespace {

using Member = std::variant<std::string ServiceConfig::*, int ServiceConfig::*,
                            int64_t ServiceConfig::*, bool ServiceConfig::*>;

struct Option {
  std::string_view name;
  Member member;
  int64_t min{};  // integers only
  int64_t max{};
};

constexpr int64_t kGiB = int64_t{1} << 30;

const std::vector<Option>& Options() {
  static const std::vector<Option> options = {
      {"listen", &ServiceConfig::listen},
      {"collect_at", &ServiceConfig::collect_at},
      {"concurrency", &ServiceConfig::concurrency, 1, 10000},
      {"request_timeout_seconds", &ServiceConfig::request_timeout_seconds, 1, 3600},
      {"tls_cert", &ServiceConfig::tls_cert},
      {"tls_key", &ServiceConfig::tls_key},
      {"insecure_listen", &ServiceConfig::insecure_listen},
      {"shutdown_grace_seconds", &ServiceConfig::shutdown_grace_seconds, 0, 3600},
      {"retry_base_seconds", &ServiceConfig::retry_base_seconds, 1, 86400},
      {"retry_max_seconds", &ServiceConfig::retry_max_seconds, 1, 86400},
      {"backfill", &ServiceConfig::backfill},
      {"log_format", &ServiceConfig::log_format},
      {"log_level", &ServiceConfig::log_level},
      {"http_threads", &ServiceConfig::http_threads, 1, 256},
      {"max_body_bytes", &ServiceConfig::max_body_bytes, 1024, kGiB},
      {"lease_seconds", &ServiceConfig::lease_seconds, 5, 86400},
      {"claim_servers", &ServiceConfig::claim_servers, 0, 100000},
      {"poll_seconds", &ServiceConfig::poll_seconds, 1, 3600},
  };
  return options;
}

const Option* FindOption(std::string_view name) {
  for (const auto& option : Options()) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string UnknownKeyMessage(std::string_view key) {
  std::string text = "unknown option '" + std::string(key) + "'";
  const Option* best = nullptr;
  size_t best_distance = 3;  // suggest only close matches
  for (const auto& option : Options()) {
    size_t d = EditDistance(key, option.name);
    if (d < best_distance) best = &option, best_distance = d;
  }
  if (best) return text + " (did you mean '" + std::string(best->name) + "'?)";
  std::string known;
  for (const auto& option : Options())
    known += (known.empty() ? "" : ", ") + std::string(option.name);
  return text + "; known options: " + known;
}

std::string Format(const ServiceConfig& config, const Option& option) {
  return std::visit(
      [&](auto member) -> std::string {
        const auto& value = config.*member;
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return value;
        } else if constexpr (std::is_same_v<T, bool>) {
          return value ? "true" : "false";
        } else {
          return std::to_string(value);
        }
      },
      option.member);
}

// The value's own rules (ranges, formats); "" when it is fine.
std::string CheckValue(const ServiceConfig& config, const Option& option) {
  std::string problem;
  std::visit(
      [&](auto member) {
        const auto& value = config.*member;
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) {
          if (value < option.min || value > option.max) {
            problem = "must be between " + std::to_string(option.min) + " and " +
                      std::to_string(option.max) + " (got " + std::to_string(value) + ")";
          }
        }
      },
      option.member);
  if (!problem.empty()) return problem;
  std::string_view name = option.name;
  if (name == "listen") {
    if (auto ok = SplitListen(config.listen); !ok) return ok.error().message;
  } else if (name == "collect_at") {
    if (!ParseCollectAt(config.collect_at)) {
      return "must be HH:MM in UTC, 00:00 to 23:59 (got '" + config.collect_at + "')";
    }
  } else if (name == "log_format") {
    const auto& v = config.log_format;
    if (v != "auto" && v != "text" && v != "json") {
      return "must be auto, text or json (got '" + v + "')";
    }
  } else if (name == "log_level") {
    const auto& v = config.log_level;
    if (v != "debug" && v != "info" && v != "warn" && v != "error") {
      return "must be debug, info, warn or error (got '" + v + "')";
    }
  }
  return "";
}

// Sets an option from a TOML node; a problem ("" when fine) otherwise.
std::string SetFromToml(ServiceConfig& config, const Option& option, const toml::node& node) {
  return std::visit(
      [&](auto member) -> std::string {
        auto& target = config.*member;
        using T = std::decay_t<decltype(target)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!node.is_string()) return "must be a string (in quotes)";
          target = *node.value<std::string>();
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!node.is_boolean()) return "must be true or false";
          target = *node.value<bool>();
        } else {
          if (!node.is_integer()) return "must be an integer";
          int64_t v = *node.value<int64_t>();
          if (v < option.min || v > option.max) {
            return "must be between " + std::to_string(option.min) + " and " +
                   std::to_string(option.max) + " (got " + std::to_string(v) + ")";
          }
          target = static_cast<T>(v);
        }
        return "";
      },
      option.member);
}

// Sets an option from a command-line value.
std::string SetFromText(ServiceConfig& config, const Option& option, const std::string& text) {
  return std::visit(
      [&](auto member) -> std::string {
        auto& target = config.*member;
        using T = std::decay_t<decltype(target)>;
        if constexpr (std::is_same_v<T, std::string>) {
          target = text;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (text == "true" || text == "1") {
            target = true;
          } else if (text == "false" || text == "0") {
            target = false;
          } else {
            return "must be true or false (got '" + text + "')";
          }
        } else {
          int64_t v = 0;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
          if (ec != std::errc() || end != text.data() + text.size()) {
            return "must be an integer (got '" + text + "')";
          }
          if (v < option.min || v > option.max) {
            return "must be between " + std::to_string(option.min) + " and " +
                   std::to_string(option.max) + " (got " + text + ")";
          }
          target = static_cast<T>(v);
        }
        return "";
      },
      option.member);
}

std::string FlagOf(std::string_view name) {
  std::string flag = "--" + std::string(name);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

Error Invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

Result<std::string> ReadConfigFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "config file " + file +
                                               " cannot be read: check the path (--config or "
                                               "N8N_FLEET_CONFIG) and its permissions");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

[[nodiscard]] Result<void> ApplyText(std::string_view text, const std::string& file,
                                     ServiceConfig& config,
                                     std::map<std::string, std::string>& sources) {
  toml::table table;
  try {
    table = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return tl::unexpected(Invalid("config file " + file + " line " + std::to_string(where.line) +
                                  " column " + std::to_string(where.column) +
                                  ": not valid TOML: " + std::string(e.description())));
  }
  for (auto&& [key, node] : table) {
    std::string name(key.str());
    std::string at = "config file " + file + " line " + std::to_string(node.source().begin.line);
    const Option* option = FindOption(name);
    if (!option) return tl::unexpected(Invalid(at + ": " + UnknownKeyMessage(name)));
    if (std::string problem = SetFromToml(config, *option, node); !problem.empty()) {
      return tl::unexpected(Invalid(at + ": " + name + " " + problem));
    }
    if (std::string problem = CheckValue(config, *option); !problem.empty()) {
      return tl::unexpected(Invalid(at + ": " + name + " " + problem));
    }
    sources[name] = "file " + file;
  }
  return {};
}

}  // namespace

std::optional<int> ParseCollectAt(std::string_view text) {
  auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4)) {
    return std::nullopt;
  }
  int hours = (text[0] - '0') * 10 + (text[1] - '0');
  int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

Result<std::pair<std::string, int>> SplitListen(std::string_view listen) {
  auto bad = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument, "listen address '" + std::string(listen) + "' " +
                                                      std::string(why) +
                                                      ": use HOST:PORT, e.g. 127.0.0.1:8080");
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return bad("has no port");
  std::string_view host = listen.substr(0, colon);
  std::string_view port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return bad("has a malformed IPv6 address");
    }
  } else if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-") != std::string_view::npos) {
    return bad("has a malformed host (IPv6 addresses go in brackets: [::1]:8080)");
  }
  if (host.empty()) return bad("has no host");
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return bad("has a bad port (0-65535)");
  }
  return std::pair<std::string, int>(std::string(host), port);
}

Result<LoadedConfig> LoadServiceConfig(const std::string& file,
                                       const std::map<std::string, std::string>& overrides) {
  if (file.empty()) return ParseServiceConfig(std::nullopt, file, overrides);
  auto text = ReadConfigFile(file);
  if (!text) return tl::unexpected(text.error());
  return ParseServiceConfig(*text, file, overrides);
}

Result<LoadedConfig> ParseServiceConfig(std::optional<std::string_view> toml,
                                        const std::string& file,
                                        const std::map<std::string, std::string>& overrides) {
  LoadedConfig loaded;
  ServiceConfig& config = loaded.config;
  std::map<std::string, std::string> sources;
  if (toml) {
    if (auto ok = ApplyText(*toml, file, config, sources); !ok) return tl::unexpected(ok.error());
  }
  for (const auto& [name, value] : overrides) {
    const Option* option = FindOption(name);
    if (!option) return tl::unexpected(Invalid(UnknownKeyMessage(name)));
    std::string flag = FlagOf(name);
    if (std::string problem = SetFromText(config, *option, value); !problem.empty()) {
      return tl::unexpected(Invalid(flag + " " + problem));
    }
    if (std::string problem = CheckValue(config, *option); !problem.empty()) {
      return tl::unexpected(Invalid(flag + " " + problem));
    }
    sources[name] = "flag " + flag;
  }
  auto source_of = [&](std::string_view name) {
    auto it = sources.find(std::string(name));
    return it == sources.end() ? std::string("default") : it->second;
  };
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    bool has_cert = !config.tls_cert.empty();
    std::string set = has_cert ? "tls_cert" : "tls_key";
    std::string missing = has_cert ? "tls_key" : "tls_cert";
    return tl::unexpected(Invalid(set + " is set (" + source_of(set) + ") but " + missing +
                                  " is not: give both the certificate and its key, or neither"));
  }
  if (config.retry_max_seconds < config.retry_base_seconds) {
    return tl::unexpected(Invalid(
        "retry_max_seconds (" + std::to_string(config.retry_max_seconds) + ", " +
        source_of("retry_max_seconds") + ") is below retry_base_seconds (" +
        std::to_string(config.retry_base_seconds) + ", " + source_of("retry_base_seconds") + ")"));
  }
  for (const auto& option : Options()) {
    loaded.entries.push_back(
        {std::string(option.name), Format(config, option), source_of(option.name)});
  }
  return loaded;
}

}  // namespace fleet::service
