#pragma once

// Test fixture of the HTTP API: a real SQLite database in a temporary directory, the service on
// 127.0.0.1 (port 0), a fake collection runner and a fake clock.

#include <httplib.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "collector/run.h"
#include "core/time.h"
#include "registry/api_tokens.h"
#include "service/http_server.h"
#include "storage/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/subprocess.h"

namespace fleet::service {

// Records Start() calls; answers with the next run id, or `fail` when set.
class FakeRunner final : public CollectionRunner {
 public:
  Result<int64_t> Start(const collector::CollectionRequest& request) override {
    std::lock_guard lock(mu_);
    requests.push_back(request);
    if (fail) return tl::unexpected(*fail);
    current = next_id;
    return next_id++;
  }
  std::optional<int64_t> Current() const override {
    std::lock_guard lock(mu_);
    return current;
  }

  mutable std::mutex mu_;
  std::vector<collector::CollectionRequest> requests{};
  std::optional<Error> fail{};
  std::optional<int64_t> current{};
  int64_t next_id{41};
};

// 2026-11-24T12:00:00Z.
inline constexpr int64_t kTestNow = 1795521600;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.path() + "/fleet.db";
    auto store = storage::OpenSqliteStore({db_path_});
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    std::string path = db_path_;
    pool_ = std::make_unique<StorePool>([path]() { return storage::OpenSqliteStore({path}); }, 4);
  }
  void TearDown() override {
    if (service_) service_->Stop();
  }

  // Starts the service with `options` (host/port default to 127.0.0.1:0).
  Result<void> StartService(HttpOptions options = {}) {
    if (options.port == 8080) options.port = 0;
    options.threads = 4;
    ServiceDeps deps;
    deps.stores = pool_.get();
    deps.metrics = &metrics_;
    deps.clock = &clock_;
    deps.runner = &runner_;
    deps.scheduler_alive = [this] { return scheduler_alive_; };
    deps.find_asset = [this](std::string_view path) -> const Asset* {
      for (const auto& asset : assets_) {
        if (asset.path == path) return &asset;
      }
      return nullptr;
    };
    deps.on_request = [this](const RequestLog& log) {
      std::lock_guard lock(log_mu_);
      logs_.push_back(log);
    };
    service_ = std::make_unique<HttpService>(options, deps);
    return service_->Start();
  }
  void Start() {
    auto started = StartService();
    ASSERT_TRUE(started) << started.error().message;
  }

  // A fresh token's plaintext: an API token, or a report token for `server`.
  std::string Token(const std::string& name, bool read_only = false,
                    const std::string& server = "") {
    auto issued = registry::IssueApiToken(*store_, name, read_only, server, kTestNow - 3600);
    EXPECT_TRUE(issued) << issued.error().message;
    return issued ? issued->plaintext : "";
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", service_->port());
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    return client;
  }
  httplib::Headers Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  httplib::Result Get(const std::string& path, const std::string& token) {
    return Client().Get(path, Auth(token));
  }
  httplib::Result Post(const std::string& path, const std::string& token, const std::string& body) {
    return Client().Post(path, Auth(token), body, "application/json");
  }
  static nlohmann::json Json(const httplib::Result& res) {
    if (!res) return nullptr;
    return nlohmann::json::parse(res->body, nullptr, false);
  }

  Server AddServer(const std::string& name, const std::string& customer,
                   const std::string& tracking_since = "2026-11-01", bool active = true) {
    Server server;
    server.name = name;
    server.url = "https://" + name + ".example.com";
    server.customer = customer;
    server.tracking_since = tracking_since;
    server.active = active;
    auto created = store_->CreateServer(server, kTestNow - 86400 * 30);
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : server;
  }
  void AddUsage(const std::string& server, const std::string& day, int64_t total, int64_t failed,
                const std::string& source = "pull") {
    DailyUsage row;
    row.server = server;
    row.day = day;
    row.total = total;
    row.failed = failed;
    row.failure_rate = total == 0 ? 0.0 : static_cast<double>(failed) / static_cast<double>(total);
    row.collected_at = kTestNow - 3600;
    row.source = source;
    row.raw_json = "{}";
    auto stored = store_->UpsertDailyUsage({row});
    ASSERT_TRUE(stored) << stored.error().message;
  }

  testing::TempDir dir_;
  std::string db_path_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<StorePool> pool_;
  testing::FakeClock clock_{kTestNow};
  Metrics metrics_;
  FakeRunner runner_;
  bool scheduler_alive_{true};
  std::vector<Asset> assets_{};
  std::mutex log_mu_;
  std::vector<RequestLog> logs_;
  std::unique_ptr<HttpService> service_;
};

}  // namespace fleet::service
