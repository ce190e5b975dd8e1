#pragma once

#include <map>
#include <string>
#include <vector>

namespace fleet::testing {

struct ProcessResult {
  int exit_code{-1};      // 128+signal when killed by a signal
  bool timed_out{false};  // killed after ProcessOptions::timeout_ms
  std::string out{};
  std::string err{};
};

struct ProcessOptions {
  std::map<std::string, std::string> env{};  // added to / overriding the inherited environment
  std::vector<std::string> unset_env{};      // removed from the inherited environment
  std::string stdin_data{};                  // written to stdin, then closed (stdin is a pipe)
  int timeout_ms{60000};                     // killed (SIGKILL) after this
  std::string cwd{};                         // working directory; "" = the caller's
};

// Runs argv[0] (searched in PATH when it has no '/') with argv, no shell, capturing stdout and
// stderr. The child runs in its own process group; a timeout kills the whole group. When argv[0]
// cannot be started: exit_code 127 and the reason in `err`.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Starts argv[0] (searched in PATH) in its own process group, with default signal handling and
// the environment of `options`, its stdin/stdout/stderr dup'ed from the given descriptors.
// Returns the pid, or -1 with the reason in `error`. RunProcess and BackgroundProcess use it.
int SpawnProcess(const std::vector<std::string>& argv, const ProcessOptions& options, int in_fd,
                 int out_fd, int err_fd, std::string* error);

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The n8n-fleet binary under test ($N8N_FLEET_BIN, set by ctest).
std::string FleetBinary();

}  // namespace fleet::testing
