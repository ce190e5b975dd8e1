// n8n-fleet: the composition root. Parses the command line once, builds the context and runs
// the selected command; maps errors to exit codes in one place.
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace fleet;
  using namespace fleet::cli;

  CLI::App app{"n8n-fleet: registry, token exchange and usage tracking for fleets of n8n",
               "n8n-fleet"};
  app.set_version_flag("--version", std::string("n8n-fleet ") + N8N_FLEET_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions options;
  app.add_option("--home", options.home,
                 "Data directory (env N8N_FLEET_HOME, default ~/.n8n-fleet)");
  app.add_option("--db", options.db, "Database file (env N8N_FLEET_DB, default <home>/fleet.db)");
  app.add_flag("--no-emoji", options.no_emoji, "Plain output without emoji");

  Output out(stdout, stderr);
  SystemClock clock;
  Context ctx(options, out, clock);
  Action action;
  AddServerCommands(app, ctx, action);
  AddApiKeyCommands(app, ctx, action);
  AddDbCommands(app, ctx, action);
  AddKeyCommands(app, ctx, action);
  AddCollectCommands(app, ctx, action);
  AddUsageCommands(app, ctx, action);
  AddTokenCommands(app, ctx, action);
  AddServeCommand(app, ctx, action);
  AddWorkflowCommands(app, ctx, action);
  AddEnvCommand(app, ctx, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  ctx.set_options(options);
  out.set_emoji(!options.no_emoji);
  if (!action) return kExitUsage;
  auto result = action();
  if (!result) {
    out.Fail(result.error());
    return kExitError;
  }
  return *result;
}
