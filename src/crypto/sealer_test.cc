#include "crypto/sealer.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "testing/subprocess.h"

namespace fleet::crypto {
namespace {

std::string TestKey(char fill = 'k') { return std::string(kMasterKeyBytes, fill); }

Sealer MakeSealer(char fill = 'k') {
  auto sealer = Sealer::FromKey(TestKey(fill));
  EXPECT_TRUE(sealer.has_value());
  return *sealer;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::binary) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

mode_t FileMode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(SealerTest, RoundTripsSecrets) {
  Sealer sealer = MakeSealer();
  for (std::string plaintext : {std::string(), std::string("n8n_api_key"), std::string(5000, 'x'),
                                std::string("\0binary\xff", 8)}) {
    std::string sealed = sealer.Seal(plaintext);
    EXPECT_EQ(sealed.size(), 1 + 24 + 16 + plaintext.size());
    EXPECT_EQ(static_cast<unsigned char>(sealed[0]), 0x01);
    auto opened = sealer.Open(sealed);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(SealerTest, UsesAFreshNonceForEveryMessage) {
  Sealer sealer = MakeSealer();
  std::string a = sealer.Seal("same secret");
  std::string b = sealer.Seal("same secret");
  EXPECT_NE(a.substr(1, 24), b.substr(1, 24));
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find("same secret"), std::string::npos);
}

TEST(SealerTest, CopiesOpenWhatTheOriginalSealed) {
  Sealer original = MakeSealer();
  std::string sealed = original.Seal("secret");
  Sealer copy = original;
  EXPECT_EQ(copy.Open(sealed).value_or(""), "secret");
}

TEST(SealerTest, WrongKeyIsPermissionDenied) {
  std::string sealed = MakeSealer('a').Seal("secret");
  auto opened = MakeSealer('b').Open(sealed);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(opened.error().message.find("master key"), std::string::npos);
}

TEST(SealerTest, TamperedBoxIsPermissionDenied) {
  Sealer sealer = MakeSealer();
  std::string sealed = sealer.Seal("secret");
  sealed.back() ^= 0x01;
  auto opened = sealer.Open(sealed);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, ErrorCode::kPermissionDenied);
}

TEST(SealerTest, TruncatedInputIsCorrupt) {
  Sealer sealer = MakeSealer();
  std::string sealed = sealer.Seal("secret");
  for (size_t size : {size_t{0}, size_t{1}, size_t{25}, size_t{40}}) {
    auto opened = sealer.Open(std::string_view(sealed).substr(0, size));
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error().code, ErrorCode::kCorrupt) << size;
  }
}

TEST(SealerTest, UnknownVersionIsCorrupt) {
  Sealer sealer = MakeSealer();
  std::string sealed = sealer.Seal("secret");
  sealed[0] = 0x02;
  auto opened = sealer.Open(sealed);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(opened.error().message.find("version 2"), std::string::npos);
}

TEST(SealerTest, RejectsKeysOfTheWrongSize) {
  auto sealer = Sealer::FromKey("short");
  ASSERT_FALSE(sealer.has_value());
  EXPECT_EQ(sealer.error().code, ErrorCode::kInvalidArgument);
}

TEST(MasterKeyTest, CreatesAPrivateKeyFileAndReusesIt) {
  testing::TempDir home;
  std::string path = home.path() + "/master.key";

  auto created = LoadMasterKey(home.path(), nullptr, /*create=*/true);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(created->bytes.size(), kMasterKeyBytes);
  EXPECT_EQ(created->source, "generated " + path);
  EXPECT_EQ(FileMode(path), 0600u);
  std::string text = ReadFile(path);
  EXPECT_EQ(text.size(), 45u);  // 44 base64 characters and a newline
  EXPECT_EQ(text.back(), '\n');

  auto reused = LoadMasterKey(home.path(), nullptr, /*create=*/true);
  ASSERT_TRUE(reused.has_value()) << reused.error().message;
  EXPECT_EQ(reused->bytes, created->bytes);
  EXPECT_EQ(reused->source, "file " + path);
  EXPECT_EQ(ReadFile(path), text);
}

TEST(MasterKeyTest, MissingFileWithoutCreateIsNotFound) {
  testing::TempDir home;
  auto key = LoadMasterKey(home.path(), nullptr, /*create=*/false);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, ErrorCode::kNotFound);
  EXPECT_NE(key.error().message.find("N8N_FLEET_MASTER_KEY"), std::string::npos);
}

TEST(MasterKeyTest, RefusesAFileOthersCanRead) {
  testing::TempDir home;
  std::string path = home.path() + "/master.key";
  WriteFile(path, "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=\n", 0644);
  auto key = LoadMasterKey(home.path(), nullptr, /*create=*/true);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(key.error().message.find("chmod 600 " + path), std::string::npos);
}

TEST(MasterKeyTest, ReadsAFileWrittenByHand) {
  testing::TempDir home;
  // base64 of 32 'k' bytes
  WriteFile(home.path() + "/master.key", "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=\n", 0600);
  auto key = LoadMasterKey(home.path(), nullptr, /*create=*/false);
  ASSERT_TRUE(key.has_value()) << key.error().message;
  EXPECT_EQ(key->bytes, TestKey('k'));
}

TEST(MasterKeyTest, FileOfTheWrongLengthIsCorrupt) {
  testing::TempDir home;
  WriteFile(home.path() + "/master.key", "c2hvcnQ=\n", 0600);  // "short"
  auto key = LoadMasterKey(home.path(), nullptr, /*create=*/true);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, ErrorCode::kCorrupt);
}

TEST(MasterKeyTest, AcceptsBase64AndHexFromTheEnvironment) {
  testing::TempDir home;
  std::string hex(64, '6');  // 0x66 = 'f'
  auto from_hex = LoadMasterKey(home.path(), hex.c_str(), true);
  ASSERT_TRUE(from_hex.has_value()) << from_hex.error().message;
  EXPECT_EQ(from_hex->bytes, TestKey('f'));
  EXPECT_EQ(from_hex->source, "env N8N_FLEET_MASTER_KEY");

  auto from_base64 =
      LoadMasterKey(home.path(), "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=", true);
  ASSERT_TRUE(from_base64.has_value()) << from_base64.error().message;
  EXPECT_EQ(from_base64->bytes, TestKey('k'));

  auto unpadded =
      LoadMasterKey(home.path(), " a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s\n", true);
  ASSERT_TRUE(unpadded.has_value()) << unpadded.error().message;
  EXPECT_EQ(unpadded->bytes, TestKey('k'));

  // The environment wins: no file is created.
  EXPECT_EQ(ReadFile(home.path() + "/master.key"), "");
}

TEST(MasterKeyTest, BadEnvironmentValueSaysTheFormatWithoutEchoingIt) {
  testing::TempDir home;
  for (const char* value : {"not-a-key-SECRETVALUE", "", "c2hvcnQ=", "zz"}) {
    auto key = LoadMasterKey(home.path(), value, true);
    ASSERT_FALSE(key.has_value()) << value;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(key.error().message.find("64 hex digits"), std::string::npos);
    EXPECT_EQ(key.error().message.find("SECRETVALUE"), std::string::npos);
  }
  // 64 characters that are not hex and not base64 of 32 bytes.
  std::string not_hex(64, 'g');
  EXPECT_FALSE(LoadMasterKey(home.path(), not_hex.c_str(), true).has_value());
}

TEST(RandomBytesTest, ReturnsTheRequestedNumberOfDistinctBytes) {
  std::string a = RandomBytes(32);
  std::string b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(RandomBytes(0), "");
}

}  // namespace
}  // namespace fleet::crypto
