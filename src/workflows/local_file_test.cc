#include "workflows/local_file.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "crypto/sealer.h"

namespace fleet::workflows {
namespace {

using Json = nlohmann::json;

class LocalFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wf-file-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(LocalFileTest, ReadsAWorkflowWithItsHashAndName) {
  std::string text = R"({"name":"Billing","nodes":[],"connections":{}})";
  std::string path = Write("billing.json", text);

  auto file = ReadWorkflowFile(dir_ + "/./sub/../billing.json");

  ASSERT_TRUE(file.has_value()) << file.error().message;
  EXPECT_EQ(file->path, path);
  EXPECT_EQ(file->bytes, text);
  EXPECT_EQ(file->sha256, crypto::Sha256Hex(text));
  EXPECT_EQ(file->name, "Billing");
  EXPECT_EQ(file->workflow["nodes"], Json::array());
}

TEST_F(LocalFileTest, RefusesWhatIsNotAWorkflowNamingTheFile) {
  auto missing = ReadWorkflowFile(dir_ + "/nope.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("nope.json"), std::string::npos);

  auto not_json = ReadWorkflowFile(Write("a.json", "{nodes:"));
  ASSERT_FALSE(not_json.has_value());
  EXPECT_EQ(not_json.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(not_json.error().message.find("not valid JSON"), std::string::npos);

  auto no_nodes = ReadWorkflowFile(Write("b.json", R"({"name":"x","connections":{}})"));
  ASSERT_FALSE(no_nodes.has_value());
  EXPECT_NE(no_nodes.error().message.find("b.json"), std::string::npos);
  EXPECT_NE(no_nodes.error().message.find("'nodes'"), std::string::npos);

  auto directory = ReadWorkflowFile(dir_);
  ASSERT_FALSE(directory.has_value());
  EXPECT_NE(directory.error().message.find("directory"), std::string::npos);
}

TEST_F(LocalFileTest, FileFormDropsTheServersBookkeepingOnly) {
  Json remote = {{"id", "abc"},       {"name", "n"},       {"nodes", Json::array()},
                 {"connections", {}}, {"settings", {}},    {"active", true},
                 {"createdAt", "t1"}, {"updatedAt", "t2"}, {"versionId", "v"},
                 {"shared", {}},      {"triggerCount", 1}, {"isArchived", false},
                 {"tags", {"x"}},     {"pinData", {}},     {"activeVersionId", "v"}};
  Json form = FileForm(remote);
  for (const char* gone : {"active", "createdAt", "updatedAt", "versionId", "shared",
                           "triggerCount", "isArchived", "activeVersionId"}) {
    EXPECT_FALSE(form.contains(gone)) << gone;
  }
  for (const char* kept : {"id", "name", "nodes", "connections", "settings", "tags", "pinData"}) {
    EXPECT_TRUE(form.contains(kept)) << kept;
  }
}

TEST_F(LocalFileTest, WritesAtomicallyAndReplaces) {
  std::string path = Write("w.json", "old");
  ASSERT_TRUE(WriteFileAtomically(path, "new bytes\n").has_value());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "new bytes\n");
  // Nothing else is left in the directory (no temporary file).
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_NE(info.st_mode & S_IRUSR, 0u);

  auto bad = WriteFileAtomically(dir_ + "/no/such/dir/x.json", "x");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kIo);
  EXPECT_NE(bad.error().message.find("no/such/dir/x.json"), std::string::npos);
}

}  // namespace
}  // namespace fleet::workflows
