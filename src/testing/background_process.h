#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "testing/subprocess.h"

namespace fleet::testing {

// A process left running while a test talks to it (e.g. `n8n-fleet serve`). Its stdout and
// stderr go to files (read them at any time); it runs in its own process group, which the
// destructor kills if it is still running.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const ProcessOptions& options,
                    const std::string& log_dir);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool Signal(int signal);  // to the process itself
  // Waits up to `timeout` for it to exit; its exit code (128+signal when killed by one), or -1
  // if it is still running.
  int Wait(std::chrono::milliseconds timeout);
  bool running();
  std::string out() const;
  std::string err() const;
  // Polls err() + out() until `text` appears or `timeout` passes.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);

 private:
  pid_t pid_{-1};
  int exit_code_{-1};
  std::string out_path_;
  std::string err_path_;
};

}  // namespace fleet::testing
