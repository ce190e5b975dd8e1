#pragma once

#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "core/error.h"
#include "core/types.h"
#include "n8n/client.h"

namespace fleet::cli {

// Exit codes, in one place (README "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;    // the command failed; nothing or only part was done
inline constexpr int kExitUsage = 2;    // the command line was wrong
inline constexpr int kExitPartial = 3;  // fleet work: some servers failed, the rest succeeded
inline constexpr int kExitNothing = 4;  // fleet work: every server failed

// The work a parsed command line selected; returns the exit code or an error (exit 1).
using Action = std::function<Result<int>()>;

// Each group registers its subcommands; their callbacks set `action`.
void AddServerCommands(CLI::App& app, Context& ctx, Action& action);
void AddApiKeyCommands(CLI::App& app, Context& ctx, Action& action);
void AddDbCommands(CLI::App& app, Context& ctx, Action& action);
void AddEnvCommand(CLI::App& app, Context& ctx, Action& action);
void AddKeyCommands(CLI::App& app, Context& ctx, Action& action);
void AddCollectCommands(CLI::App& app, Context& ctx, Action& action);
void AddUsageCommands(CLI::App& app, Context& ctx, Action& action);
void AddTokenCommands(CLI::App& app, Context& ctx, Action& action);
void AddReportTokenCommand(CLI::App& server_group, Context& ctx, Action& action);
void AddServeCommand(CLI::App& app, Context& ctx, Action& action);
void AddWorkflowCommands(CLI::App& app, Context& ctx, Action& action);

// Shared helpers for the command files.
nlohmann::json ServerJson(const Server& server);
std::string FormatTime(std::optional<int64_t> unix_seconds);  // "2026-11-24 16:05" or "-"
// Asks a yes/no question on the terminal. Without a terminal it refuses (kFailedPrecondition)
// and names `flag`, the option that skips the question.
Result<bool> Confirm(Context& ctx, const std::string& question, const std::string& flag);
// Prints the steps of `apikey test` / `server test` (or their JSON with `extra` fields merged)
// and returns the exit code: 0 when every step passed.
int PrintReport(Context& ctx, const n8n::KeyCheckReport& report, const std::string& heading,
                nlohmann::json extra, bool json);
// Reads a whole file ("-" = stdin); kNotFound / kIo with the path.
Result<std::string> ReadFileText(const std::string& path);

}  // namespace fleet::cli
