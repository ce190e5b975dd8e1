#include "testing/subprocess.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace fleet::testing {
namespace {

ProcessResult Shell(const std::string& script, const ProcessOptions& options = {}) {
  return RunProcess({"/bin/sh", "-c", script}, options);
}

TEST(RunProcessTest, CapturesStdoutAndStderrSeparately) {
  ProcessResult result = Shell("echo hello; echo oops >&2");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "hello\n");
  EXPECT_EQ(result.err, "oops\n");
  EXPECT_FALSE(result.timed_out);
}

TEST(RunProcessTest, ReportsExitCodes) {
  EXPECT_EQ(Shell("exit 3").exit_code, 3);
  EXPECT_EQ(Shell("kill -TERM $$").exit_code, 128 + 15);
}

TEST(RunProcessTest, FeedsStdin) {
  ProcessOptions options;
  options.stdin_data = "line one\nline two\n";
  ProcessResult result = RunProcess({"cat"}, options);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "line one\nline two\n");
}

TEST(RunProcessTest, SurvivesAChildThatIgnoresStdin) {
  ProcessOptions options;
  options.stdin_data = std::string(1 << 20, 'x');  // more than a pipe buffer
  ProcessResult result = Shell("exec 0<&-; echo done", options);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "done\n");
}

TEST(RunProcessTest, DrainsLargeOutputOnBothStreamsWithoutDeadlock) {
  ProcessOptions options;
  options.stdin_data = std::string(3 << 20, 'a');  // 3 MiB through cat and back
  ProcessResult result = Shell("head -c 2000000 /dev/zero >&2; cat", options);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out.size(), 3u << 20);
  EXPECT_EQ(result.err.size(), 2000000u);
}

TEST(RunProcessTest, KillsTheProcessGroupAfterTheTimeout) {
  ProcessOptions options;
  options.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  ProcessResult result = Shell("echo started; sleep 30; echo never", options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, 128 + 9);
  EXPECT_EQ(result.out, "started\n");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(RunProcessTest, OverridesAndUnsetsEnvironmentVariables) {
  ::setenv("FLEET_TEST_INHERITED", "kept", 1);
  ::setenv("FLEET_TEST_REMOVED", "gone", 1);
  ProcessOptions options;
  options.env = {{"FLEET_TEST_ADDED", "new"}, {"FLEET_TEST_INHERITED", "overridden"}};
  options.unset_env = {"FLEET_TEST_REMOVED"};
  ProcessResult result = Shell(
      "echo \"$FLEET_TEST_ADDED/$FLEET_TEST_INHERITED/${FLEET_TEST_REMOVED-unset}\"", options);
  EXPECT_EQ(result.out, "new/overridden/unset\n");
  ::unsetenv("FLEET_TEST_INHERITED");
  ::unsetenv("FLEET_TEST_REMOVED");
}

TEST(RunProcessTest, MissingProgramExits127) {
  ProcessResult result = RunProcess({"/nonexistent/program"});
  EXPECT_EQ(result.exit_code, 127);
  EXPECT_NE(result.err.find("/nonexistent/program"), std::string::npos);
}

TEST(TempDirTest, CreatesAPrivateDirectoryAndRemovesItWithItsContents) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(path));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u);
    std::filesystem::create_directories(path + "/a/b");
    std::ofstream(path + "/a/b/file") << "data";
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace fleet::testing
