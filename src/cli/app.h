#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"

namespace fleet::cli {

// The whole command line of n8n-fleet: global options into `options`, every subcommand, whose
// callbacks (run by CLI::App::parse) set `action` without running it. main.cc parses argv with
// it and runs the action; the CLI fuzz target only parses.
std::unique_ptr<CLI::App> BuildApp(GlobalOptions& options, Context& ctx, Action& action);

}  // namespace fleet::cli
