#include "cli/app.h"

#include <string>

namespace fleet::cli {

std::unique_ptr<CLI::App> BuildApp(GlobalOptions& options, Context& ctx, Action& action) {
  auto app = std::make_unique<CLI::App>(
      "n8n-fleet: registry, token exchange and usage tracking for fleets of n8n", "n8n-fleet");
  app->set_version_flag("--version", std::string("n8n-fleet ") + N8N_FLEET_VERSION);
  app->require_subcommand(1);
  app->fallthrough();
  app->add_option("--home", options.home,
                  "Data directory (env N8N_FLEET_HOME, default ~/.n8n-fleet)");
  app->add_option("--db", options.db, "Database file (env N8N_FLEET_DB, default <home>/fleet.db)");
  app->add_flag("--no-emoji", options.no_emoji, "Plain output without emoji");

  AddServerCommands(*app, ctx, action);
  AddApiKeyCommands(*app, ctx, action);
  AddDbCommands(*app, ctx, action);
  AddKeyCommands(*app, ctx, action);
  AddCollectCommands(*app, ctx, action);
  AddUsageCommands(*app, ctx, action);
  AddTokenCommands(*app, ctx, action);
  AddServeCommand(*app, ctx, action);
  AddWorkflowCommands(*app, ctx, action);
  AddEnvCommand(*app, ctx, action);
  return app;
}

}  // namespace fleet::cli
