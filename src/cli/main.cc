// n8n-fleet: the composition root. Parses the command line once, builds the context and runs
// the selected command; maps errors to exit codes in one place.
#include <cstdio>

#include "cli/app.h"

int main(int argc, char** argv) {
  using namespace fleet;
  using namespace fleet::cli;

  GlobalOptions options;
  Output out(stdout, stderr);
  SystemClock clock;
  Context ctx(options, out, clock);
  Action action;
  std::unique_ptr<CLI::App> app = BuildApp(options, ctx, action);

  try {
    app->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app->exit(e);
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
