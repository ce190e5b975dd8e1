#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace fleet::testing {

// Test-only JWT signing, written directly on OpenSSL and independent of the product's crypto
// module: tests use it to mint subject tokens the fake n8n accepts or refuses. Aborts on an
// OpenSSL failure (a broken test environment, not a test outcome).
struct TestKey {
  std::string alg{};          // "RS256" (RSA 2048) or "ES256" (P-256)
  std::string private_pem{};  // PKCS#8
  std::string public_pem{};   // SPKI
};

TestKey MakeTestKey(const std::string& alg);

// base64url(header).base64url(claims).base64url(signature) with `key`'s algorithm, whatever
// `header` says (so tests can lie about alg or kid). ES256 signatures are r||s, as JOSE wants.
std::string SignTestJwt(const TestKey& key, const nlohmann::json& header,
                        const nlohmann::json& claims);

}  // namespace fleet::testing
