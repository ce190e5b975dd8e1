#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jwt.h"
#include "testing/subprocess.h"

namespace fleet::testing {

// An n8n-shaped API key (a JWT; the signature is not checked by anything here).
inline std::string MakeApiKey(const std::string& subject, int64_t iat, int64_t exp = 0) {
  nlohmann::json payload = {{"sub", subject}, {"iss", "n8n"}, {"aud", "public-api"}, {"iat", iat}};
  if (exp) payload["exp"] = exp;
  return Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(payload.dump()) +
         "." + Base64UrlEncode("signature-of-" + subject);
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs the real binary in a temporary home, with the user's environment's n8n-fleet variables
// removed so the tests see only what they set.
class CliTest : public ::testing::Test {
 protected:
  std::string home() const { return dir_.path() + "/home"; }
  std::string db() const { return home() + "/fleet.db"; }

  ProcessResult Run(const std::vector<std::string>& args, ProcessOptions options = {}) {
    std::vector<std::string> argv = {FleetBinary(), "--home", home(), "--no-emoji"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* name : {"N8N_FLEET_HOME", "N8N_FLEET_DB", "N8N_FLEET_MASTER_KEY",
                             "N8N_SERVER_URL", "N8N_API_KEY"}) {
      if (!options.env.count(name)) options.unset_env.push_back(name);
    }
    return RunProcess(argv, options);
  }

  // Runs and expects exit 0, printing the output on failure.
  ProcessResult Ok(const std::vector<std::string>& args, ProcessOptions options = {}) {
    auto result = Run(args, std::move(options));
    EXPECT_EQ(result.exit_code, 0) << "stdout: " << result.out << "\nstderr: " << result.err;
    return result;
  }

  nlohmann::json Json(const std::vector<std::string>& args) {
    auto result = Ok(args);
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.out;
    return json;
  }

  // Per day, the stored total of `server` (from `usage show --json`); a day stored twice fails.
  std::map<std::string, int64_t> Totals(const std::string& server) {
    std::map<std::string, int64_t> totals;
    for (const auto& row : Json({"usage", "show", "--server", server, "--json"})) {
      EXPECT_EQ(totals.count(row["day"]), 0u) << "day stored twice: " << row["day"];
      totals[row["day"]] = row["total"];
    }
    return totals;
  }

  TempDir dir_;
};

}  // namespace fleet::testing
