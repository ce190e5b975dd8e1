#pragma once

// Test helpers of the signing tests: files, the `openssl` command line as the independent
// verifier, and JWT splitting.

#include <openssl/ec.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/jwt.h"
#include "crypto/openssl_handles.h"
#include "crypto/signing.h"
#include "testing/subprocess.h"

namespace fleet::crypto {

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `openssl args...`, every argument "KEY" replaced by `key_path`; returns stdout. A failure
// fails the test with OpenSSL's stderr.
inline std::string Openssl(std::vector<std::string> args, const std::string& key_path = "") {
  for (std::string& arg : args) {
    if (arg == "KEY") arg = key_path;
  }
  args.insert(args.begin(), "openssl");
  testing::ProcessResult result = testing::RunProcess(args);
  EXPECT_EQ(result.exit_code, 0) << "openssl " << args[1] << ": " << result.err;
  return result.out;
}

inline std::vector<std::string> SplitJwt(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot = token.find('.'); dot != std::string::npos; dot = token.find('.', start)) {
    parts.push_back(token.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(token.substr(start));
  return parts;
}

// r||s (RFC 7518) back to the DER SEQUENCE the openssl CLI verifies.
inline std::string RawEcdsaToDer(const std::string& raw) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  EXPECT_EQ(ECDSA_SIG_set0(sig.get(), r, s), 1);
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig.get(), &der);
  EXPECT_GT(size, 0);
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(size > 0 ? size : 0));
  OPENSSL_free(der);
  return out;
}

// True when `openssl dgst -sha256 -verify` accepts the JWT's signature under `public_pem`.
inline bool CliVerifies(const std::string& token, const std::string& public_pem, SigningAlg alg) {
  testing::TempDir dir;
  const std::vector<std::string> parts = SplitJwt(token);
  EXPECT_EQ(parts.size(), 3u);
  if (parts.size() != 3) return false;
  std::string signature = Base64UrlDecode(parts[2]).value_or("");
  if (alg == SigningAlg::kES256) {
    EXPECT_EQ(signature.size(), 64u);
    if (signature.size() != 64) return false;
    signature = RawEcdsaToDer(signature);
  }
  WriteFile(dir.path() + "/pub.pem", public_pem);
  WriteFile(dir.path() + "/input.txt", parts[0] + "." + parts[1]);
  WriteFile(dir.path() + "/sig.bin", signature);
  testing::ProcessResult result =
      testing::RunProcess({"openssl", "dgst", "-sha256", "-verify", dir.path() + "/pub.pem",
                           "-signature", dir.path() + "/sig.bin", dir.path() + "/input.txt"});
  return result.exit_code == 0 && result.out.find("Verified OK") != std::string::npos;
}

// A fresh key pair of the parameter's algorithm for each test.
class GeneratedKeyTest : public ::testing::TestWithParam<SigningAlg> {
 protected:
  void SetUp() override {
    auto pair = GenerateKeyPair(GetParam());
    ASSERT_TRUE(pair.has_value()) << pair.error().message;
    pair_ = *pair;
  }
  KeyPair pair_{};
};

}  // namespace fleet::crypto
