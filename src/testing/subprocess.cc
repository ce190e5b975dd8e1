#include "testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>

extern char** environ;

namespace fleet::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_{-1};
};

struct Pipe {
  Fd read;
  Fd write;
};

bool MakePipe(Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  pipe.read.Reset(fds[0]);
  pipe.write.Reset(fds[1]);
  return true;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "RunProcess: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// The inherited environment with the overrides applied, as "NAME=value" strings.
std::vector<std::string> BuildEnv(const ProcessOptions& options) {
  std::set<std::string> drop(options.unset_env.begin(), options.unset_env.end());
  for (const auto& [name, value] : options.env) drop.insert(name);
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string name(text.substr(0, text.find('=')));
    if (drop.count(name) == 0) env.emplace_back(text);
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Writes to a pipe whose reader may be gone without raising SIGPIPE in this process.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = ::write(fd, data, size);
  if (n < 0 && errno == EPIPE) {
    int saved = errno;
    timespec zero{};
    sigtimedwait(&pipe_set, nullptr, &zero);  // consume the pending SIGPIPE
    errno = saved;
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  return n;
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

int SpawnProcess(const std::vector<std::string>& argv, const ProcessOptions& options, int in_fd,
                 int out_fd, int err_fd, std::string* error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout also kills what it started; default signal handling.
  sigset_t no_signals, all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setsigdefault(&attr, &all_signals);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> args(argv);
  std::vector<std::string> env = BuildEnv(options);
  std::vector<char*> c_args = CStrings(args);
  std::vector<char*> c_env = CStrings(env);
  pid_t pid = -1;
  int spawn_error = posix_spawnp(&pid, c_args[0], &actions, &attr, c_args.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawn_error != 0) {
    if (error) *error = "cannot run " + argv[0] + ": " + std::strerror(spawn_error);
    return -1;
  }
  return pid;
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) {
    std::fputs("RunProcess: empty argv\n", stderr);
    std::abort();
  }
  Pipe in, out, err;
  if (!MakePipe(in) || !MakePipe(out) || !MakePipe(err)) Die("pipe2");

  ProcessResult result;
  std::string spawn_error;
  int pid =
      SpawnProcess(argv, options, in.read.get(), out.write.get(), err.write.get(), &spawn_error);
  if (pid < 0) {
    result.exit_code = 127;
    result.err = spawn_error;
    return result;
  }
  in.read.Close();
  out.write.Close();
  err.write.Close();
  ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);

  const auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
  };
  bool killed = false;
  auto kill_group = [&] {
    if (!killed) ::kill(-pid, SIGKILL);
    killed = true;
  };

  size_t written = 0;
  if (options.stdin_data.empty()) in.write.Close();
  char buffer[65536];
  while (out.read.get() >= 0 || err.read.get() >= 0 || in.write.get() >= 0) {
    pollfd fds[3];
    nfds_t count = 0;
    auto add = [&](Fd& fd, short events) {
      if (fd.get() >= 0) fds[count++] = pollfd{fd.get(), events, 0};
    };
    add(in.write, POLLOUT);
    add(out.read, POLLIN);
    add(err.read, POLLIN);
    int ready = ::poll(fds, count, remaining_ms());
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) Die("poll");
    if (ready == 0) {  // timed out
      kill_group();
      break;
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in.write.get()) {
        ssize_t n = WriteNoSigpipe(in.write.get(), options.stdin_data.data() + written,
                                   options.stdin_data.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == options.stdin_data.size()) {
          in.write.Close();
        }
        continue;
      }
      Fd& source = fds[i].fd == out.read.get() ? out.read : err.read;
      std::string& sink = fds[i].fd == out.read.get() ? result.out : result.err;
      ssize_t n = ::read(source.get(), buffer, sizeof buffer);
      if (n > 0) {
        sink.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        source.Close();
      }
    }
  }

  // The pipes are closed; the process may still run (it closed them, or it hung).
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, killed ? 0 : WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) Die("waitpid");
    if (remaining_ms() == 0) {
      kill_group();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  result.exit_code = ExitCodeOf(status);
  result.timed_out = killed;
  return result;
}

TempDir::TempDir() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") + "/n8n-fleet-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) Die(("mkdtemp " + pattern).c_str());
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string FleetBinary() {
  const char* bin = std::getenv("N8N_FLEET_BIN");
  if (bin == nullptr || *bin == '\0') {
    std::fputs(
        "N8N_FLEET_BIN is not set: run this test through ctest, or set it to the path of the "
        "n8n-fleet binary under test\n",
        stderr);
    std::abort();
  }
  return bin;
}

}  // namespace fleet::testing
