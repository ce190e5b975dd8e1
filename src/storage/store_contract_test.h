#pragma once

// The Store contract: every backend runs the same TEST_P suites. A backend instantiates them with
// INSTANTIATE_TEST_SUITE_P(Name, StoreContractTest, ::testing::Values(StoreFactory{...}),
// StoreFactoryName) in its own test file (see sqlite_store_test.cc).

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "storage/storage_test_util.h"
#include "storage/store.h"

namespace fleet::storage {

struct StoreFactory {
  std::string name{};
  // Opens a fresh, empty store; `scratch_dir` is an empty directory the test owns.
  std::function<Result<std::unique_ptr<Store>>(const std::filesystem::path& scratch_dir)> open{};
  // Why the backend cannot run here (say, no test server is configured): a non-empty answer
  // skips the test with it as the message. Unset or empty: the test runs.
  std::function<std::string()> unavailable{};
};

// gtest prints a parameter in failure messages; show the backend's name, not its bytes.
inline void PrintTo(const StoreFactory& factory, std::ostream* out) { *out << factory.name; }

inline std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    if (GetParam().unavailable) {
      if (const std::string why = GetParam().unavailable(); !why.empty()) GTEST_SKIP() << why;
    }
    auto store = GetParam().open(scratch_.path());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
  }

  static Server MakeServer(const std::string& name, const std::string& customer = "acme") {
    Server server;
    server.name = name;
    server.url = "https://" + name + ".example.com";
    server.customer = customer;
    server.description = "the " + name + " instance";
    server.tracking_since = "2026-01-01";
    return server;
  }

  static ApiKey MakeKey(const std::string& name) {
    ApiKey key;
    key.name = name;
    key.sealed_secret = std::string("\x01sealed\0bytes-", 14) + name;
    key.masked = "eyJhbG…" + name;
    key.description = "key " + name;
    key.issued_at = 1700000000;
    key.expires_at = 1800000000;
    return key;
  }

  // Creates a server; the test fails (without aborting) if it cannot.
  Server AddServer(const std::string& name, const std::string& customer = "acme") {
    auto created = store_->CreateServer(MakeServer(name, customer), kNow);
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created.value_or(Server{});
  }

  ApiKey AddKey(const std::string& name) {
    auto created = store_->CreateApiKey(MakeKey(name), kNow);
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created.value_or(ApiKey{});
  }

  void AddLink(const std::string& key, const std::string& server, bool primary = false) {
    auto linked = store_->Link(key, server, primary, kNow);
    EXPECT_TRUE(linked.has_value()) << linked.error().message;
  }

  static constexpr int64_t kNow = 1760000000;

  TempDir scratch_{};
  std::unique_ptr<Store> store_{};
};

}  // namespace fleet::storage
