// The n8n-fleet command line (cli/app.h BuildApp, the app main.cc parses with) on any argument
// list: the input is one argument per line. Parses only: the selected action is never run. A
// parse error must be a CLI::ParseError (main.cc turns it into exit code 2); anything else
// escaping parse() would end the process.

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "core/clock.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleet;
  static std::FILE* null_file = std::fopen("/dev/null", "w");
  std::vector<std::string> args = {"n8n-fleet"};
  std::string_view text = fuzz::AsText(data, size);
  while (!text.empty()) {
    size_t end = text.find('\n');
    args.emplace_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  if (args.size() > 64) return 0;  // a command line is short; keep each run fast
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());

  // One app for the process, as building it takes longer than parsing (CLI11 clears the previous
  // parse's results at each parse); `action` is only ever set, never run.
  static cli::GlobalOptions options;
  static cli::Output out(null_file, null_file);
  static SystemClock clock;
  static cli::Context ctx(options, out, clock);
  static cli::Action action;
  static std::unique_ptr<CLI::App> app = cli::BuildApp(options, ctx, action);
  action = nullptr;
  try {
    app->parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    std::ostringstream out_text, err_text;
    (void)app->exit(e, out_text, err_text);
  }
  return 0;
}
