// The PostgreSQL backend: contract instantiation against a real server, plus what only a shared
// server has (concurrent claimers and closers, concurrent migrators, URLs with passwords).
//
// The server: N8N_FLEET_TEST_POSTGRES=postgresql://user@host:port/db (scripts/postgres.sh start
// DIR PORT starts a throwaway one and prints its URL). Each test works in a fresh schema of that
// database, dropped when the test process ends. Without the variable the tests that need a
// server are skipped, unless N8N_FLEET_REQUIRE_POSTGRES=1 (CI), which makes them fail.

#include "storage/postgres_store.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "core/time.h"
#include "storage/sqlite_store.h"
#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string TestUrl() {
  const char* url = std::getenv("N8N_FLEET_TEST_POSTGRES");
  return url != nullptr ? url : "";
}

bool Required() {
  const char* required = std::getenv("N8N_FLEET_REQUIRE_POSTGRES");
  return required != nullptr && std::string(required) == "1";
}

// Why the tests that need a server cannot run: "" when they can, or must (and then fail).
std::string Unavailable() {
  if (!TestUrl().empty() || Required()) return "";
  return "no PostgreSQL server: set N8N_FLEET_TEST_POSTGRES to a URL (scripts/postgres.sh start "
         "DIR PORT starts one and prints it) to run the PostgreSQL tests";
}

// Runs `sql` on the test database, in `schema` when given; the first column of the first row
// ("" if none or NULL).
std::string QueryPostgres(const std::string& sql, const std::string& schema = "") {
  pqxx::connection connection(TestUrl());
  pqxx::nontransaction tx(connection);
  if (!schema.empty()) tx.exec("SET search_path TO " + schema);
  const pqxx::result result = tx.exec(sql);
  if (result.empty() || result[0][0].is_null()) return "";
  return result[0][0].c_str();
}

// The schemas this process created, dropped when it ends (gtest runs one test per process
// under ctest, so each test's schema goes with it).
class SchemaSweeper : public ::testing::Environment {
 public:
  static std::string NewSchema() {
    static std::atomic<int> counter{0};
    const std::string schema =
        "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
    // A crashed run with the same pid may have left it behind.
    QueryPostgres("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    std::lock_guard<std::mutex> lock(mutex_);
    schemas_.insert(schema);
    return schema;
  }

  void TearDown() override {
    if (TestUrl().empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& schema : schemas_) {
      try {
        QueryPostgres("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      } catch (const std::exception&) {  // the server went away: nothing to clean
      }
    }
    schemas_.clear();
  }

 private:
  static inline std::mutex mutex_{};
  static inline std::set<std::string> schemas_{};
};

[[maybe_unused]] ::testing::Environment* const kSweeper =
    ::testing::AddGlobalTestEnvironment(new SchemaSweeper);

Result<std::unique_ptr<Store>> OpenIn(const std::string& schema) {
  if (TestUrl().empty()) {
    return MakeError(
        ErrorCode::kFailedPrecondition,
        "N8N_FLEET_REQUIRE_POSTGRES=1 but N8N_FLEET_TEST_POSTGRES is not set: the "
        "PostgreSQL tests cannot run (scripts/postgres.sh start DIR PORT prints a URL)");
  }
  return OpenPostgresStore({.url = TestUrl(), .schema = schema});
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(StoreFactory{"Server",
                                                        [](const std::filesystem::path&) {
                                                          return OpenIn(SchemaSweeper::NewSchema());
                                                        },
                                                        Unavailable}),
                         StoreFactoryName);

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = Unavailable(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_FALSE(TestUrl().empty()) << "N8N_FLEET_REQUIRE_POSTGRES=1 but "
                                       "N8N_FLEET_TEST_POSTGRES is not set";
    schema_ = SchemaSweeper::NewSchema();
  }

  std::unique_ptr<Store> Open() {
    auto store = OpenIn(schema_);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  std::string Query(const std::string& sql) { return QueryPostgres(sql, schema_); }

  static Server MakeServer(const std::string& name) {
    Server server;
    server.name = name;
    server.url = "https://" + name + ".example.com";
    server.customer = "acme";
    return server;
  }

  static constexpr int64_t kNow = 1760000000;
  std::string schema_{};
};

// ---- URLs and connection failures (no server needed)

TEST(PostgresUrlTest, RedactionReplacesOnlyThePassword) {
  EXPECT_EQ(RedactPostgresUrl("postgresql://fleet:s3cret@db.example.com:5432/fleet"),
            "postgresql://fleet:***@db.example.com:5432/fleet");
  EXPECT_EQ(RedactPostgresUrl("postgresql://fleet@db.example.com/fleet"),
            "postgresql://fleet@db.example.com/fleet");
  EXPECT_EQ(RedactPostgresUrl("postgres://db.example.com/fleet?sslmode=require"),
            "postgres://db.example.com/fleet?sslmode=require");
  EXPECT_EQ(RedactPostgresUrl("postgresql://fleet:p%40ss:w0rd@10.0.0.5/fleet"),
            "postgresql://fleet:***@10.0.0.5/fleet");
  EXPECT_EQ(RedactPostgresUrl("postgresql://fleet@h/db?sslmode=require&password=s3cret&x=1"),
            "postgresql://fleet@h/db?sslmode=require&password=***&x=1");
  EXPECT_EQ(RedactPostgresUrl("host=h dbname=fleet password=s3cret user=fleet"),
            "host=h dbname=fleet password=*** user=fleet");
  EXPECT_EQ(RedactPostgresUrl("host=h password='s3 cr\\'et' user=fleet"),
            "host=h password=*** user=fleet");
  EXPECT_EQ(RedactPostgresUrl("host=h password = s3cret sslpassword=k3y"),
            "host=h password = *** sslpassword=***");
  EXPECT_EQ(RedactPostgresUrl("postgresql://u:pw@h/db?sslpassword=k3y"),
            "postgresql://u:***@h/db?sslpassword=***");
}

TEST(PostgresUrlTest, AnUnreachableServerIsAnIoErrorNamingHostAndDatabaseNotThePassword) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto store = OpenPostgresStore(
      {.url = "postgresql://fleet:Sup3r-s3cret@127.0.0.1:1/fleet_prod", .schema = "x"});

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kIo);
  EXPECT_THAT(store.error().message, HasSubstr("127.0.0.1"));
  EXPECT_THAT(store.error().message, HasSubstr("fleet_prod"));
  EXPECT_THAT(store.error().message, Not(HasSubstr("Sup3r-s3cret")));
}

TEST(PostgresUrlTest, AMalformedUrlIsAnIoErrorWithoutThePassword) {
  auto store = OpenPostgresStore({.url = "postgresql://fleet:Sup3r-s3cret@[::1/fleet"});

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kIo);
  EXPECT_THAT(store.error().message, Not(HasSubstr("Sup3r-s3cret")));
}

TEST(PostgresUrlTest, AnEmptyUrlIsInvalid) {
  auto store = OpenPostgresStore({});

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
}

// ---- opening and migrating

TEST_F(PostgresStoreTest, OpenCreatesTheSchemaAtTheCurrentVersion) {
  auto store = Open();
  ASSERT_NE(store, nullptr);

  const StoreStatus status = store->Status().value();

  EXPECT_EQ(status.backend, "postgresql");
  EXPECT_EQ(status.location, RedactPostgresUrl(TestUrl()));
  EXPECT_EQ(status.schema_version, CurrentSchemaVersion());
  EXPECT_GT(status.size_bytes, 0);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM schema_version"), std::to_string(CurrentSchemaVersion()));
  EXPECT_EQ(Query("SELECT description FROM schema_version WHERE version = 6"),
            "a data version bumped by every change to usage and servers");
  EXPECT_EQ(Query("SELECT COUNT(*) FROM pg_tables WHERE schemaname = '" + schema_ +
                  "' AND tablename IN ('work_units', 'work_items', 'schedule_slots')"),
            "3");
  EXPECT_EQ(Query("SELECT data_type FROM information_schema.columns WHERE table_schema = '" +
                  schema_ + "' AND table_name = 'api_keys' AND column_name = 'sealed_secret'"),
            "bytea");
}

TEST_F(PostgresStoreTest, ConcurrentOpenersOfAFreshSchemaMigrateItOnce) {
  constexpr int kOpeners = 6;
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&] {
      auto store = OpenIn(schema_);
      if (!store) {
        ADD_FAILURE() << store.error().message;
        return;
      }
      ++opened;
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(opened.load(), kOpeners);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM schema_version"), std::to_string(CurrentSchemaVersion()));
}

TEST_F(PostgresStoreTest, DataSurvivesReopening) {
  ASSERT_TRUE(Open()->CreateServer(MakeServer("alpha"), 42).has_value());

  auto reopened = Open();

  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->GetServer("alpha").value().created_at, 42);
}

TEST_F(PostgresStoreTest, OpenRefusesASchemaFromANewerVersion) {
  ASSERT_NE(Open(), nullptr);
  Query("INSERT INTO schema_version VALUES (999, 0, 'future')");

  auto store = OpenIn(schema_);

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(store.error().message, HasSubstr("999"));
}

TEST_F(PostgresStoreTest, OpenRefusesAnotherApplicationsSchemaAndLeavesItAlone) {
  QueryPostgres("CREATE SCHEMA " + schema_ + "; CREATE TABLE " + schema_ +
                ".api_keys (id INTEGER PRIMARY KEY, name TEXT)");

  auto store = OpenIn(schema_);

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(store.error().message, HasSubstr("schema_version"));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM pg_tables WHERE schemaname = '" + schema_ + "'"), "1");
}

TEST_F(PostgresStoreTest, SecretsAreStoredAsBytesAndReadBackExactly) {
  auto store = Open();
  ApiKey key;
  key.name = "k1";
  key.sealed_secret = std::string("\x00\x01\xff\"\\{},'", 10);
  ASSERT_TRUE(store->CreateApiKey(key, kNow).has_value());
  ASSERT_TRUE(store->SetMeta("check", std::string("\x00sealed\xfe", 8)).has_value());

  EXPECT_EQ(store->GetApiKey("k1").value().sealed_secret, key.sealed_secret);
  EXPECT_EQ(store->GetMeta("check").value(), std::string("\x00sealed\xfe", 8));
  EXPECT_EQ(Query("SELECT octet_length(sealed_secret) FROM api_keys"), "10");
}

TEST_F(PostgresStoreTest, TextWithQuotesAndBackslashesSurvivesABatch) {
  auto store = Open();
  ASSERT_TRUE(store->CreateServer(MakeServer("we\"ird\\name,{x}"), kNow).has_value());
  DailyUsage usage;
  usage.server = "we\"ird\\name,{x}";
  usage.day = "2026-03-01";
  usage.total = 3;
  usage.raw_json = R"({"a":"b\"c","d":[1,2]})";

  ASSERT_TRUE(store->UpsertDailyUsage({usage}).has_value());

  const std::vector<DailyUsage> rows = store->ListDailyUsage({}).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].server, usage.server);
  EXPECT_EQ(rows[0].raw_json, usage.raw_json);
}

// ---- several connections

TEST_F(PostgresStoreTest, AWriteOnOneConnectionChangesTheVersionAnotherReads) {
  auto writer = Open();
  auto reader = Open();
  const int64_t before = reader->DataVersion().value();

  ASSERT_TRUE(writer->CreateServer(MakeServer("alpha"), kNow).has_value());

  EXPECT_EQ(reader->DataVersion().value(), writer->DataVersion().value());
  EXPECT_NE(reader->DataVersion().value(), before);
}

TEST_F(PostgresStoreTest, ConcurrentClaimersNeverShareAUnitAndOneClosesTheRun) {
  constexpr int kServers = 120;
  constexpr int kClaimers = 4;
  auto setup = Open();
  ASSERT_NE(setup, nullptr);
  std::vector<Server> servers;
  std::vector<WorkItem> items;
  for (int i = 0; i < kServers; ++i) {
    servers.push_back(MakeServer("server-" + std::to_string(1000 + i)));
    items.push_back({servers.back().name, "2026-03-01"});
    items.push_back({servers.back().name, "2026-03-02"});
  }
  ASSERT_TRUE(setup->UpsertServers(servers, kNow).has_value());
  const int64_t run = setup->CreateRun(CollectionRun{}).value();
  ASSERT_TRUE(setup->EnqueueWork(run, items).has_value());

  std::mutex mutex;
  std::vector<std::string> claimed;  // server names, as many times as claimed
  std::atomic<int> closers{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClaimers; ++t) {
    threads.emplace_back([&, t] {
      auto store = OpenIn(schema_);
      if (!store) {
        ADD_FAILURE() << store.error().message;
        return;
      }
      const std::string owner = "claimer-" + std::to_string(t);
      for (int round = 0; round < kServers; ++round) {  // bounded: each round takes >= 1 unit
        auto claims =
            (*store)->ClaimWork({.owner = owner, .run_id = run, .now = kNow, .max_servers = 3});
        if (!claims) {
          ADD_FAILURE() << claims.error().message;
          return;
        }
        if (claims->empty()) break;
        for (const WorkClaim& claim : *claims) {
          {
            std::lock_guard<std::mutex> lock(mutex);
            claimed.push_back(claim.server.name);
          }
          std::vector<WorkDayResult> days;
          for (const std::string& day : claim.days) days.push_back({day, "done"});
          auto finished = (*store)->FinishWork(owner, run, claim.server.name, days);
          if (!finished) ADD_FAILURE() << finished.error().message;
        }
      }
      auto closed = (*store)->CloseRunIfDone(run, kNow + 1);
      if (!closed) ADD_FAILURE() << closed.error().message;
      if (closed && closed->has_value()) ++closers;
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<std::string> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kServers)) << "a unit was claimed twice";
  EXPECT_EQ(unique.size(), static_cast<size_t>(kServers));
  EXPECT_EQ(closers.load(), 1);
  const CollectionRun stored = setup->GetRun(run).value();
  EXPECT_EQ(stored.status, RunStatus::kSucceeded);
  EXPECT_EQ(stored.servers_succeeded, kServers);
  EXPECT_EQ(stored.days_stored, 2 * kServers);
  EXPECT_EQ(Query("SELECT SUM(claims) FROM work_units"), std::to_string(kServers));
}

TEST_F(PostgresStoreTest, ConcurrentClosersOfAFinishedRunCloseItOnce) {
  auto setup = Open();
  ASSERT_NE(setup, nullptr);
  constexpr int kRuns = 20;
  constexpr int kClosers = 4;
  std::vector<int64_t> runs;
  for (int i = 0; i < kRuns; ++i) runs.push_back(setup->CreateRun(CollectionRun{}).value());

  std::atomic<int> closed_runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClosers; ++t) {
    threads.emplace_back([&] {
      auto store = OpenIn(schema_);
      if (!store) {
        ADD_FAILURE() << store.error().message;
        return;
      }
      for (int64_t run : runs) {
        auto closed = (*store)->CloseRunIfDone(run, kNow);
        if (!closed) ADD_FAILURE() << closed.error().message;
        if (closed && closed->has_value()) ++closed_runs;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(closed_runs.load(), kRuns);
}

// The daily run's slot, taken over from an interrupted run by two processes at once: the second
// waits for the first's lock, then must see the slot taken by a running run (its snapshot predates
// that run: the check must not mistake an invisible run for a deleted one).
TEST_F(PostgresStoreTest, ASlotIsTakenOverByOneOfTwoConcurrentClaimers) {
  auto setup = Open();
  ASSERT_NE(setup, nullptr);
  const std::string slot = "daily:2026-11-24";
  CollectionRun interrupted;
  interrupted.id = setup->CreateRun(CollectionRun{}).value();
  ASSERT_TRUE(setup->ClaimSlot(slot, interrupted.id, kNow).value());
  interrupted.status = RunStatus::kInterrupted;
  ASSERT_TRUE(setup->FinishRun(interrupted).has_value());

  std::atomic<int> taken{0};
  const auto claim = [&](std::chrono::milliseconds wait_before, std::chrono::milliseconds hold) {
    auto store = OpenIn(schema_);
    if (!store) {
      ADD_FAILURE() << store.error().message;
      return;
    }
    std::this_thread::sleep_for(wait_before);
    auto done = (*store)->Transaction([&]() -> Result<void> {
      auto run = (*store)->CreateRun(CollectionRun{});
      if (!run) return tl::unexpected(run.error());
      auto claimed = (*store)->ClaimSlot(slot, *run, kNow + 1);
      if (!claimed) return tl::unexpected(claimed.error());
      if (!*claimed) return MakeError(ErrorCode::kAlreadyExists, "taken");
      ++taken;
      std::this_thread::sleep_for(hold);  // the slot's row stays locked meanwhile
      return {};
    });
    if (!done && done.error().code != ErrorCode::kAlreadyExists) {
      ADD_FAILURE() << done.error().message;
    }
  };
  std::thread first(claim, std::chrono::milliseconds(0), std::chrono::milliseconds(400));
  std::thread second(claim, std::chrono::milliseconds(150), std::chrono::milliseconds(0));
  first.join();
  second.join();

  EXPECT_EQ(taken.load(), 1);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM runs WHERE id = (SELECT run_id FROM schedule_slots) "
                  "AND status = 'running'"),
            "1");
}

TEST_F(PostgresStoreTest, AWriteFailingInsideATransactionLeavesItUsable) {
  auto store = Open();
  ASSERT_TRUE(store->CreateServer(MakeServer("alpha"), kNow).has_value());

  auto done = store->Transaction([&]() -> Result<void> {
    auto taken = store->CreateServer(MakeServer("alpha"), kNow);
    EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
    auto created = store->CreateServer(MakeServer("beta"), kNow);
    if (!created) return tl::unexpected(created.error());
    return {};
  });

  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_TRUE(store->GetServer("beta").has_value());
}

// ---- figures (run by hand: --gtest_also_run_disabled_tests --gtest_filter='*Measure*')

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// What bench/api_bench.sh reads, seeded as tools/seed_usage_main.cc does (10,000 servers of 200
// customers, 365 days each, batches of about 10,000 rows): the seeding rate and the monthly
// totals' latency.
TEST_F(PostgresStoreTest, DISABLED_MeasureAYearOfTenThousandServers) {
  constexpr int kServers = 10000;
  constexpr int kDays = 365;
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const Day last = ParseDay("2026-10-31").value();
  const Day first = last - (kDays - 1);
  std::vector<Server> servers;
  for (int i = 0; i < kServers; ++i) {
    Server server = MakeServer("bench-" + std::to_string(100000 + i));
    server.customer = "customer-" + std::to_string(1000 + i * 200 / kServers);
    server.tracking_since = FormatDay(first);
    servers.push_back(std::move(server));
  }
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->UpsertServers(servers, kNow).has_value());
  std::printf("UpsertServers(10000): %.3f s\n", SecondsSince(start));

  start = std::chrono::steady_clock::now();
  double slowest_batch = 0;
  std::vector<DailyUsage> batch;
  const int servers_per_batch = 10000 / kDays;
  for (int lo = 0; lo < kServers; lo += servers_per_batch) {
    batch.clear();
    for (int i = lo; i < std::min(kServers, lo + servers_per_batch); ++i) {
      for (Day d = first; d <= last; d = d + 1) {
        DailyUsage usage;
        usage.server = servers[static_cast<size_t>(i)].name;
        usage.day = FormatDay(d);
        usage.total = (i * 7919 + d.days_since_epoch * 104729) % 1000;
        usage.failed = usage.total / 50;
        usage.failure_rate = 0.02;
        usage.average_run_time_ms = 250.5;
        usage.raw_json = std::string(200, 'j');
        usage.collected_at = kNow;
        usage.n8n_version = "2.40.7";
        batch.push_back(std::move(usage));
      }
    }
    const auto batch_start = std::chrono::steady_clock::now();
    ASSERT_TRUE(store->UpsertDailyUsage(batch).has_value());
    slowest_batch = std::max(slowest_batch, SecondsSince(batch_start));
  }
  const double seeding = SecondsSince(start);
  std::printf("UpsertDailyUsage: %d rows in %.1f s (%.0f rows/s), slowest %d-row batch %.3f s\n",
              kServers * kDays, seeding, kServers * kDays / seeding, servers_per_batch * kDays,
              slowest_batch);
  Query("VACUUM ANALYZE usage_daily");  // what autovacuum does after a bulk load

  const auto time = [&](const char* what, auto read) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      const auto read_start = std::chrono::steady_clock::now();
      read();
      best = std::min(best, SecondsSince(read_start));
    }
    std::printf("%s: %.3f s (best of 3)\n", what, best);
    return best;
  };
  const double month = time("UsageTotals month by customer", [&] {
    EXPECT_EQ(store->UsageTotals("2026-10-01", "2026-10-31", GroupBy::kCustomer)->size(), 200u);
  });
  time("UsageTotals month by server", [&] {
    EXPECT_EQ(store->UsageTotals("2026-10-01", "2026-10-31", GroupBy::kServer)->size(), 10000u);
  });
  time("UsageTotals year by customer", [&] {
    EXPECT_EQ(store->UsageTotals(FormatDay(first), FormatDay(last), GroupBy::kCustomer)->size(),
              200u);
  });
  time("LastCollectedAt", [&] { EXPECT_EQ(store->LastCollectedAt()->size(), 10000u); });
  time("CollectedDays (30 days)",
       [&] { EXPECT_EQ(store->CollectedDays("2026-10-02")->size(), 10000u); });

  // The budgets: the month report the API serves, and one collector flush (a year of the whole
  // fleet is printed above, not held to them: it reads every row).
  EXPECT_LT(month, 1.0);
  EXPECT_LT(slowest_batch, 1.0);
}

}  // namespace
}  // namespace fleet::storage
