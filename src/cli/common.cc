#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "core/text.h"
#include "core/time.h"

namespace fleet::cli {

nlohmann::json ServerJson(const Server& server) {
  return {{"name", server.name},
          {"url", server.url},
          {"customer", server.customer},
          {"description", server.description},
          {"auth", AuthModeName(server.auth)},
          {"subject_email", server.subject_email},
          {"role", server.subject_role},
          {"skip_tls_verify", server.skip_tls_verify},
          {"active", server.active},
          {"tracking_since", server.tracking_since},
          {"created_at", FormatTimestamp(server.created_at)},
          {"updated_at", FormatTimestamp(server.updated_at)}};
}

std::string FormatTime(std::optional<int64_t> unix_seconds) {
  if (!unix_seconds) return "-";
  std::string iso = FormatTimestamp(*unix_seconds);
  return iso.substr(0, 10) + " " + iso.substr(11, 5);
}

Result<bool> Confirm(Context& ctx, const std::string& question, const std::string& flag) {
  if (!::isatty(STDIN_FILENO)) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "refusing without confirmation: standard input is not a terminal; add " +
                         flag + " to go ahead");
  }
  std::fprintf(ctx.out().err(), "%s [y/N] ", question.c_str());
  std::fflush(ctx.out().err());
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  answer = std::string(Trim(answer));
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

int PrintReport(Context& ctx, const n8n::KeyCheckReport& report, const std::string& heading,
                nlohmann::json extra, bool json) {
  if (json) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : report.steps) {
      steps.push_back({{"step", s.name}, {"ok", s.ok}, {"detail", s.detail}});
    }
    extra["ok"] = report.ok();
    extra["steps"] = steps;
    ctx.out().Json(extra);
  } else {
    ctx.out().Line(heading);
    for (const auto& s : report.steps) {
      std::string mark = ctx.out().emoji() ? (s.ok ? "\xE2\x9C\x85" : "\xE2\x9D\x8C")
                                           : (s.ok ? "[ok]  " : "[FAIL]");
      ctx.out().Line("  " + mark + " " + s.name + ": " + s.detail);
    }
  }
  return report.ok() ? kExitOk : kExitError;
}

Result<std::string> ReadFileText(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return MakeError(std::ifstream(path).good() ? ErrorCode::kIo : ErrorCode::kNotFound,
                     "cannot read " + path + ": no such file or no permission");
  }
  text << file.rdbuf();
  return text.str();
}

}  // namespace fleet::cli
