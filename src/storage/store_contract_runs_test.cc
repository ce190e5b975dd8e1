// Store contract: collection runs and their fetch attempts. Instantiated per backend.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

CollectionRun MakeRun(int64_t started_at, const std::string& description = "yesterday") {
  CollectionRun run;
  run.started_at = started_at;
  run.description = description;
  return run;
}

FetchAttempt MakeAttempt(int64_t run_id, const std::string& server, const std::string& day,
                         const std::string& outcome) {
  return FetchAttempt{run_id, server, day, outcome, outcome == "ok" ? 200 : 0, 15, "", 100};
}

std::vector<int64_t> Ids(const std::vector<CollectionRun>& runs) {
  std::vector<int64_t> ids;
  for (const CollectionRun& run : runs) ids.push_back(run.id);
  return ids;
}

// "server/day:outcome" of a run's attempts, in the store's order.
std::vector<std::string> Attempts(Store& store, int64_t run_id) {
  std::vector<std::string> out;
  auto attempts = store.ListAttempts(run_id);
  EXPECT_TRUE(attempts.has_value()) << attempts.error().message;
  for (const FetchAttempt& attempt : attempts.value_or(std::vector<FetchAttempt>{})) {
    out.push_back(attempt.server + "/" + attempt.day + ":" + attempt.outcome);
  }
  return out;
}

TEST_P(StoreContractTest, CreateRunReturnsANewIdAndGetRunReadsItBack) {
  auto first = store_->CreateRun(MakeRun(1000, "days 2026-03-01..2026-03-02, all servers"));
  auto second = store_->CreateRun(MakeRun(2000));

  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_NE(*first, *second);
  auto read = store_->GetRun(*first);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(read->id, *first);
  EXPECT_EQ(read->started_at, 1000);
  EXPECT_EQ(read->finished_at, std::nullopt);
  EXPECT_EQ(read->status, RunStatus::kRunning);
  EXPECT_EQ(read->description, "days 2026-03-01..2026-03-02, all servers");
  EXPECT_EQ(read->servers_attempted, 0);
  EXPECT_EQ(store_->Status().value().runs, 2);
}

TEST_P(StoreContractTest, FinishRunRecordsTheOutcomeAndKeepsTheStart) {
  const int64_t id = store_->CreateRun(MakeRun(1000)).value();
  CollectionRun finished = MakeRun(9999, "yesterday, 3 servers");
  finished.id = id;
  finished.finished_at = 1060;
  finished.status = RunStatus::kPartial;
  finished.servers_attempted = 3;
  finished.servers_succeeded = 2;
  finished.servers_failed = 1;
  finished.days_stored = 2;

  ASSERT_TRUE(store_->FinishRun(finished).has_value());

  const CollectionRun read = store_->GetRun(id).value();
  EXPECT_EQ(read.started_at, 1000);
  EXPECT_EQ(read.finished_at, 1060);
  EXPECT_EQ(read.status, RunStatus::kPartial);
  EXPECT_EQ(read.description, "yesterday, 3 servers");
  EXPECT_EQ(read.servers_attempted, 3);
  EXPECT_EQ(read.servers_succeeded, 2);
  EXPECT_EQ(read.servers_failed, 1);
  EXPECT_EQ(read.days_stored, 2);
}

TEST_P(StoreContractTest, EveryRunStatusRoundTrips) {
  for (RunStatus status : {RunStatus::kRunning, RunStatus::kSucceeded, RunStatus::kPartial,
                           RunStatus::kFailed, RunStatus::kInterrupted}) {
    CollectionRun run = MakeRun(1);
    run.status = status;
    const int64_t id = store_->CreateRun(run).value();

    EXPECT_EQ(store_->GetRun(id).value().status, status) << RunStatusName(status);
  }
}

TEST_P(StoreContractTest, AMissingRunIsNotFound) {
  CollectionRun ghost = MakeRun(1);
  ghost.id = 424242;

  auto finished = store_->FinishRun(ghost);
  auto read = store_->GetRun(424242);
  auto attempts = store_->ListAttempts(424242);

  ASSERT_FALSE(finished.has_value());
  EXPECT_EQ(finished.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(finished.error().message, HasSubstr("424242"));
  EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(attempts.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Status().value().runs, 0);
}

TEST_P(StoreContractTest, ListRunsIsNewestFirstAndHonoursTheLimit) {
  const int64_t a = store_->CreateRun(MakeRun(3000)).value();
  const int64_t b = store_->CreateRun(MakeRun(1000)).value();  // clock went back: still newer
  const int64_t c = store_->CreateRun(MakeRun(2000)).value();

  EXPECT_THAT(Ids(store_->ListRuns(10).value()), ElementsAre(c, b, a));
  EXPECT_THAT(Ids(store_->ListRuns(2).value()), ElementsAre(c, b));
  EXPECT_THAT(Ids(store_->ListRuns(0).value()), ElementsAre(c, b, a));
}

TEST_P(StoreContractTest, RecordAttemptsKeepsTheirOrderAndEveryField) {
  const int64_t run = store_->CreateRun(MakeRun(1000)).value();
  const int64_t other = store_->CreateRun(MakeRun(1001)).value();
  FetchAttempt timeout = MakeAttempt(run, "alpha", "2026-03-02", "timeout");
  timeout.duration_ms = 30000;
  timeout.message = "no answer within 30 s";
  timeout.at = 1031;

  ASSERT_TRUE(store_->RecordAttempts({MakeAttempt(run, "zulu", "2026-03-01", "ok"),
                                      MakeAttempt(other, "beta", "2026-03-01", "ok"), timeout}));
  ASSERT_TRUE(store_->RecordAttempts({MakeAttempt(run, "alpha", "", "auth_error")}));

  EXPECT_THAT(Attempts(*store_, run),
              ElementsAre("zulu/2026-03-01:ok", "alpha/2026-03-02:timeout", "alpha/:auth_error"));
  EXPECT_THAT(Attempts(*store_, other), ElementsAre("beta/2026-03-01:ok"));
  const FetchAttempt read = store_->ListAttempts(run).value().at(1);
  EXPECT_EQ(read.run_id, run);
  EXPECT_EQ(read.http_status, 0);
  EXPECT_EQ(read.duration_ms, 30000);
  EXPECT_EQ(read.message, "no answer within 30 s");
  EXPECT_EQ(read.at, 1031);
  EXPECT_EQ(store_->ListAttempts(run).value().at(0).http_status, 200);
}

TEST_P(StoreContractTest, AttemptsNamingAnUnknownRunStoreNothing) {
  const int64_t run = store_->CreateRun(MakeRun(1000)).value();

  auto recorded = store_->RecordAttempts(
      {MakeAttempt(run, "alpha", "2026-03-01", "ok"), MakeAttempt(run + 99, "beta", "", "ok")});

  ASSERT_FALSE(recorded.has_value());
  EXPECT_EQ(recorded.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(recorded.error().message, HasSubstr(std::to_string(run + 99)));
  EXPECT_THAT(Attempts(*store_, run), IsEmpty());
}

}  // namespace
}  // namespace fleet::storage
