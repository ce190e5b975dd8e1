#include "storage/open_store.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace fleet::storage {
namespace {

// Messages may quote a short password by accident of spelling ("pw" in "pwd"); those are left.
constexpr size_t kMinScrubbedPassword = 3;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The passwords a PostgreSQL URL carries: in its user info (user:password@) and as a
// "password=" query parameter; raw and percent-decoded.
std::vector<std::string> PasswordsOf(std::string_view url) {
  std::vector<std::string> found;
  auto add = [&found](std::string_view raw) {
    if (raw.empty()) return;
    found.emplace_back(raw);
    std::string decoded = PercentDecode(raw);
    if (decoded != raw) found.push_back(decoded);
  };
  size_t start = url.find("://");
  if (start == std::string_view::npos) return found;
  std::string_view rest = url.substr(start + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      add(userinfo.substr(colon + 1));
    }
  }
  if (size_t query = rest.find('?'); query != std::string_view::npos) {
    std::string_view params = rest.substr(query + 1);
    params = params.substr(0, params.find('#'));
    while (!params.empty()) {
      std::string_view param = params.substr(0, params.find('&'));
      if (param.rfind("password=", 0) == 0) add(param.substr(9));
      params.remove_prefix(std::min(params.size(), param.size() + 1));
    }
  }
  return found;
}

void ReplaceAll(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

}  // namespace

std::string DatabaseLocation::display() const {
  return backend == Backend::kPostgres ? RedactPostgresUrl(target) : target;
}

std::string_view DatabaseLocation::backend_name() const {
  return backend == Backend::kPostgres ? "postgresql" : "sqlite";
}

std::string DatabaseLocation::Scrub(std::string_view text) const {
  std::string out(text);
  if (backend != Backend::kPostgres) return out;
  ReplaceAll(out, target, display());
  for (const std::string& password : PasswordsOf(target)) {
    if (password.size() >= kMinScrubbedPassword) ReplaceAll(out, password, "***");
  }
  return out;
}

Result<DatabaseLocation> ParseDatabaseLocation(std::string_view text) {
  if (text.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the database location is empty: give a SQLite file path or a "
                     "postgresql://user@host:port/database URL (--db or N8N_FLEET_DB)");
  }
  size_t separator = text.find("://");
  std::string_view scheme = separator == std::string_view::npos ? "" : text.substr(0, separator);
  bool is_scheme = !scheme.empty() && std::isalpha(static_cast<unsigned char>(scheme[0]));
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      is_scheme = false;
    }
  }
  if (!is_scheme) return DatabaseLocation{DatabaseLocation::Backend::kSqlite, std::string(text)};
  std::string lower = Lower(scheme);
  if (lower != "postgresql" && lower != "postgres") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "unsupported database URL scheme '" + std::string(scheme) +
                         "://' (--db or N8N_FLEET_DB): use a SQLite file path or a "
                         "postgresql://user@host:port/database URL");
  }
  // libpq accepts the scheme in lower case only.
  return DatabaseLocation{DatabaseLocation::Backend::kPostgres,
                          lower + std::string(text.substr(separator))};
}

Result<std::unique_ptr<Store>> OpenStore(const DatabaseLocation& location, bool create) {
  if (location.backend == DatabaseLocation::Backend::kSqlite) {
    return OpenSqliteStore({.path = location.target, .create = create, .busy_timeout_ms = 5000});
  }
  auto store = OpenPostgresStore({.url = location.target, .schema = ""});
  if (!store) {
    Error error = store.error();
    error.message = location.Scrub(error.message);
    return tl::unexpected(error);
  }
  return store;
}

}  // namespace fleet::storage
