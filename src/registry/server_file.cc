#include "registry/server_file.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/csv.h"

namespace fleet::registry {
namespace {

const std::vector<std::string> kColumns = {"name",        "url",  "customer",
                                           "description", "auth", "tracking_since"};

Error AtLine(int line, const std::string& message) {
  return Error{ErrorCode::kInvalidArgument, "line " + std::to_string(line) + ": " + message};
}

Result<void> SetField(ServerSpec& spec, const std::string& column, const std::string& value,
                      int line) {
  if (column == "name") {
    spec.name = value;
  } else if (column == "url") {
    spec.url = value;
  } else if (column == "customer") {
    spec.customer = value;
  } else if (column == "description") {
    spec.description = value;
  } else if (column == "tracking_since") {
    if (!value.empty()) spec.tracking_since = value;  // empty: keep (or default to today)
  } else if (column == "auth") {
    auto mode = ParseAuthMode(value.empty() ? "api-key" : value);
    if (!mode) {
      return tl::unexpected(
          AtLine(line, "auth must be api-key or token-exchange, not '" + value + "'"));
    }
    spec.auth = *mode;
  } else {
    return tl::unexpected(
        AtLine(line, "unknown column '" + column +
                         "' (known: name, url, customer, description, auth, tracking_since)"));
  }
  return {};
}

Result<std::vector<ServerRow>> ParseCsvRows(std::string_view text) {
  auto records = ParseCsv(text);
  if (!records) return tl::unexpected(records.error());
  std::vector<ServerRow> rows;
  if (records->empty()) return rows;
  const auto& header = records->front().fields;
  for (const auto& column : header) {
    if (std::find(kColumns.begin(), kColumns.end(), column) == kColumns.end()) {
      return tl::unexpected(AtLine(
          1, "unknown column '" + column + "' (known: name, url, customer, description, auth)"));
    }
  }
  for (size_t i = 1; i < records->size(); ++i) {
    const auto& record = (*records)[i];
    if (record.fields.size() != header.size()) {
      return tl::unexpected(AtLine(record.line, "expected " + std::to_string(header.size()) +
                                                    " fields, found " +
                                                    std::to_string(record.fields.size())));
    }
    ServerRow row{.line = record.line, .spec = {}};
    for (size_t c = 0; c < header.size(); ++c) {
      if (auto ok = SetField(row.spec, header[c], record.fields[c], record.line); !ok) {
        return tl::unexpected(ok.error());
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<ServerRow>> ParseJsonlRows(std::string_view text) {
  std::vector<ServerRow> rows;
  int line = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++line;
    if (raw.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto json = nlohmann::json::parse(raw, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return tl::unexpected(AtLine(line, "not a JSON object"));
    }
    ServerRow row{.line = line, .spec = {}};
    for (const auto& [column, value] : json.items()) {
      if (!value.is_string() && !value.is_null()) {
        return tl::unexpected(AtLine(line, "'" + column + "' must be a string"));
      }
      auto ok = SetField(row.spec, column, value.is_null() ? "" : value.get<std::string>(), line);
      if (!ok) return tl::unexpected(ok.error());
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

Result<std::vector<ServerRow>> ParseServerFile(std::string_view text, ServerFileFormat format) {
  auto rows = format == ServerFileFormat::kCsv ? ParseCsvRows(text) : ParseJsonlRows(text);
  if (!rows) return rows;
  for (auto& row : *rows) {
    if (row.spec.name.empty()) return tl::unexpected(AtLine(row.line, "the name is missing"));
    if (!row.spec.url || row.spec.url->empty()) {
      return tl::unexpected(AtLine(row.line, "the url is missing"));
    }
    // Columns absent from the file reset to defaults, so that an import is a full description.
    if (!row.spec.customer) row.spec.customer = "";
    if (!row.spec.description) row.spec.description = "";
    if (!row.spec.auth) row.spec.auth = AuthMode::kApiKey;
  }
  return rows;
}

std::string WriteServerFile(const std::vector<Server>& servers, ServerFileFormat format) {
  std::string out;
  if (format == ServerFileFormat::kCsv) {
    out = CsvLine(kColumns);
    for (const auto& s : servers) {
      out += CsvLine({s.name, s.url, s.customer, s.description, std::string(AuthModeName(s.auth)),
                      s.tracking_since});
    }
    return out;
  }
  for (const auto& s : servers) {
    nlohmann::json json = {{"name", s.name},
                           {"url", s.url},
                           {"customer", s.customer},
                           {"description", s.description},
                           {"auth", AuthModeName(s.auth)},
                           {"tracking_since", s.tracking_since}};
    out += json.dump() + "\n";
  }
  return out;
}

Result<storage::UpsertCounts> ImportServers(Registry& registry,
                                            const std::vector<ServerRow>& rows) {
  std::vector<Server> servers;
  std::map<std::string, int> seen;
  servers.reserve(rows.size());
  for (const auto& row : rows) {
    if (auto [it, inserted] = seen.emplace(row.spec.name, row.line); !inserted) {
      return tl::unexpected(AtLine(row.line, "server '" + row.spec.name +
                                                 "' appears again (first on line " +
                                                 std::to_string(it->second) + ")"));
    }
    auto existing = registry.store().GetServer(row.spec.name);
    if (!existing && existing.error().code != ErrorCode::kNotFound) {
      return tl::unexpected(existing.error());
    }
    auto server = registry.BuildServer(row.spec, existing ? &*existing : nullptr);
    if (!server) return tl::unexpected(AtLine(row.line, server.error().message));
    servers.push_back(std::move(*server));
  }
  return registry.store().UpsertServers(servers, registry.now());
}

}  // namespace fleet::registry
