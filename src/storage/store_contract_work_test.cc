// Store contract: the work queue (units leased per run and server, items per day) and schedule
// slots. Instantiated per backend.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kD1[] = "2026-03-01";
constexpr char kD2[] = "2026-03-02";
constexpr char kD3[] = "2026-03-03";

int64_t NewRun(Store& store) {
  CollectionRun run;
  run.started_at = 1000;
  run.description = "work-queue run";
  auto id = store.CreateRun(run);
  EXPECT_TRUE(id.has_value()) << id.error().message;
  return id.value_or(0);
}

void Enqueue(Store& store, int64_t run_id, const std::vector<WorkItem>& items) {
  auto queued = store.EnqueueWork(run_id, items);
  EXPECT_TRUE(queued.has_value()) << queued.error().message;
}

std::vector<WorkClaim> Claim(Store& store, const std::string& owner, int64_t now,
                             int max_servers = 64, int64_t run_id = 0) {
  auto claims = store.ClaimWork({.owner = owner,
                                 .run_id = run_id,
                                 .now = now,
                                 .lease_seconds = 300,
                                 .max_servers = max_servers});
  EXPECT_TRUE(claims.has_value()) << claims.error().message;
  return claims.value_or(std::vector<WorkClaim>{});
}

// "<run>/<server>:<day>,<day>" per claim, in the store's order.
std::vector<std::string> Units(const std::vector<WorkClaim>& claims) {
  std::vector<std::string> out;
  for (const WorkClaim& claim : claims) {
    std::string unit = std::to_string(claim.run_id) + "/" + claim.server.name + ":";
    for (size_t i = 0; i < claim.days.size(); ++i) unit += (i > 0 ? "," : "") + claim.days[i];
    out.push_back(unit);
  }
  return out;
}

std::string Unit(int64_t run_id, const std::string& server, const std::string& days) {
  return std::to_string(run_id) + "/" + server + ":" + days;
}

// Every day of `claim` ended `state`.
std::vector<WorkDayResult> AllDays(const WorkClaim& claim, const std::string& state) {
  std::vector<WorkDayResult> days;
  for (const std::string& day : claim.days) days.push_back({day, state});
  return days;
}

void Finish(Store& store, const std::string& owner, const WorkClaim& claim,
            const std::vector<WorkDayResult>& days) {
  auto finished = store.FinishWork(owner, claim.run_id, claim.server.name, days);
  EXPECT_TRUE(finished.has_value()) << finished.error().message;
}

std::string Summary(const WorkProgress& p) {
  return "servers " + std::to_string(p.servers_total) + ": pending " +
         std::to_string(p.servers_pending) + " (leased " + std::to_string(p.servers_leased) +
         "), done " + std::to_string(p.servers_done) + ", failed " +
         std::to_string(p.servers_failed) + ", cancelled " + std::to_string(p.servers_cancelled) +
         "; days done " + std::to_string(p.days_done) + ", failed " +
         std::to_string(p.days_failed) + ", unrecoverable " + std::to_string(p.days_unrecoverable);
}

std::string Progress(Store& store, int64_t run_id, int64_t now) {
  auto progress = store.GetWorkProgress(run_id, now);
  EXPECT_TRUE(progress.has_value()) << progress.error().message;
  return progress ? Summary(*progress) : "error";
}

std::string Summary(const CollectionRun& run) {
  return std::string(RunStatusName(run.status)) + ": attempted " +
         std::to_string(run.servers_attempted) + ", succeeded " +
         std::to_string(run.servers_succeeded) + ", failed " + std::to_string(run.servers_failed) +
         ", days stored " + std::to_string(run.days_stored);
}

// The run CloseRunIfDone returned, summarised; "open" when it returned none.
std::string Close(Store& store, int64_t run_id, int64_t now) {
  auto closed = store.CloseRunIfDone(run_id, now);
  EXPECT_TRUE(closed.has_value()) << closed.error().message;
  if (!closed) return "error";
  return closed->has_value() ? Summary(**closed) : "open";
}

// ---- EnqueueWork

TEST_P(StoreContractTest, EnqueueWorkRefusesAnUnknownRunOrServerAndAMalformedDay) {
  AddServer("alpha");
  const int64_t run = NewRun(*store_);

  auto unknown_run = store_->EnqueueWork(run + 99, {{"alpha", kD1}});
  auto unknown_server = store_->EnqueueWork(run, {{"ghost", kD1}});
  auto malformed = store_->EnqueueWork(run, {{"alpha", "2026-3-1"}});
  auto empty_day = store_->EnqueueWork(run, {{"alpha", ""}});

  ASSERT_FALSE(unknown_run.has_value());
  EXPECT_EQ(unknown_run.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(unknown_run.error().message, HasSubstr(std::to_string(run + 99)));
  ASSERT_FALSE(unknown_server.has_value());
  EXPECT_EQ(unknown_server.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(unknown_server.error().message, HasSubstr("ghost"));
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(malformed.error().message, HasSubstr("2026-3-1"));
  ASSERT_FALSE(empty_day.has_value());
  EXPECT_EQ(empty_day.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Progress(*store_, run, kNow),
            "servers 0: pending 0 (leased 0), done 0, failed 0, cancelled 0; "
            "days done 0, failed 0, unrecoverable 0");
  EXPECT_THAT(Claim(*store_, "a", kNow), IsEmpty());
}

TEST_P(StoreContractTest, EnqueueingAQueuedItemAgainLeavesItAsItIs) {
  AddServer("alpha");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"alpha", kD2}, {"alpha", kD1}});
  Enqueue(*store_, run, {{"alpha", kD2}});
  const std::vector<WorkClaim> first = Claim(*store_, "a", kNow);
  ASSERT_THAT(Units(first), ElementsAre(Unit(run, "alpha", "2026-03-01,2026-03-02")));
  Finish(*store_, "a", first[0], {{kD1, "done"}});  // kD2 stays pending

  Enqueue(*store_, run, {{"alpha", kD1}, {"alpha", kD3}});

  EXPECT_THAT(Units(Claim(*store_, "b", kNow)),
              ElementsAre(Unit(run, "alpha", "2026-03-02,2026-03-03")));
  EXPECT_EQ(Progress(*store_, run, kNow),
            "servers 1: pending 1 (leased 1), done 0, failed 0, cancelled 0; "
            "days done 1, failed 0, unrecoverable 0");
}

// ---- ClaimWork

TEST_P(StoreContractTest, ClaimWorkLeasesWholeServersWithTheirDaysAscending) {
  const Server alpha = AddServer("alpha");
  AddServer("beta");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"beta", kD2}, {"alpha", kD3}, {"alpha", kD1}, {"alpha", kD2}});
  Server moved = MakeServer("alpha", "globex");
  moved.url = "https://alpha.moved.example.com";
  ASSERT_TRUE(store_->UpdateServer(moved, kNow + 1).has_value());

  const std::vector<WorkClaim> claims = Claim(*store_, "a", kNow + 2);

  ASSERT_THAT(Units(claims), ElementsAre(Unit(run, "alpha", "2026-03-01,2026-03-02,2026-03-03"),
                                         Unit(run, "beta", "2026-03-02")));
  EXPECT_EQ(claims[0].server.id, alpha.id);
  EXPECT_EQ(claims[0].server.url, "https://alpha.moved.example.com");  // as stored now
  EXPECT_EQ(claims[0].server.customer, "globex");
  EXPECT_EQ(claims[1].server.description, "the beta instance");
}

TEST_P(StoreContractTest, ClaimWorkTakesTheOldestRunFirstThenServersByNameUpToMaxServers) {
  AddServer("alpha");
  AddServer("mike");
  AddServer("zulu");
  const int64_t older = NewRun(*store_);
  const int64_t newer = NewRun(*store_);
  Enqueue(*store_, newer, {{"zulu", kD1}, {"alpha", kD1}});
  Enqueue(*store_, older, {{"mike", kD2}});

  const std::vector<WorkClaim> first = Claim(*store_, "a", kNow, 2);
  const std::vector<WorkClaim> second = Claim(*store_, "a", kNow, 2);
  const std::vector<WorkClaim> third = Claim(*store_, "a", kNow, 2);

  EXPECT_THAT(Units(first),
              ElementsAre(Unit(older, "mike", kD2), Unit(newer, "alpha", "2026-03-01")));
  EXPECT_THAT(Units(second), ElementsAre(Unit(newer, "zulu", kD1)));
  EXPECT_THAT(third, IsEmpty());
}

TEST_P(StoreContractTest, ClaimWorkForOneRunTakesOnlyThatRunsWork) {
  AddServer("alpha");
  AddServer("beta");
  const int64_t first = NewRun(*store_);
  const int64_t second = NewRun(*store_);
  Enqueue(*store_, first, {{"alpha", kD1}});
  Enqueue(*store_, second, {{"alpha", kD1}, {"beta", kD1}});

  EXPECT_THAT(Units(Claim(*store_, "a", kNow, 64, second)),
              ElementsAre(Unit(second, "alpha", kD1), Unit(second, "beta", kD1)));
  EXPECT_THAT(Claim(*store_, "a", kNow, 64, second), IsEmpty());
  EXPECT_THAT(Claim(*store_, "a", kNow, 64, second + 99), IsEmpty());
  EXPECT_THAT(Units(Claim(*store_, "a", kNow)), ElementsAre(Unit(first, "alpha", kD1)));
}

TEST_P(StoreContractTest, ClaimWorkSkipsRunsThatAreNoLongerRunning) {
  AddServer("alpha");
  const int64_t stopped = NewRun(*store_);
  const int64_t running = NewRun(*store_);
  Enqueue(*store_, stopped, {{"alpha", kD1}});
  Enqueue(*store_, running, {{"alpha", kD2}});
  CollectionRun finished = store_->GetRun(stopped).value();
  finished.status = RunStatus::kInterrupted;
  finished.finished_at = kNow;
  ASSERT_TRUE(store_->FinishRun(finished).has_value());

  EXPECT_THAT(Claim(*store_, "a", kNow, 64, stopped), IsEmpty());
  EXPECT_THAT(Units(Claim(*store_, "a", kNow)), ElementsAre(Unit(running, "alpha", kD2)));
}

// ---- leases

TEST_P(StoreContractTest, ALeasedServerIsClaimableAgainOnlyWhenItsLeaseExpires) {
  AddServer("alpha");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"alpha", kD2}});
  ASSERT_THAT(Claim(*store_, "a", kNow), SizeIs(1));  // leased until kNow + 300

  EXPECT_THAT(Claim(*store_, "a", kNow + 1), IsEmpty());
  EXPECT_THAT(Claim(*store_, "b", kNow + 299), IsEmpty());
  EXPECT_EQ(Progress(*store_, run, kNow + 299),
            "servers 1: pending 1 (leased 1), done 0, failed 0, cancelled 0; "
            "days done 0, failed 0, unrecoverable 0");
  EXPECT_EQ(Progress(*store_, run, kNow + 300),
            "servers 1: pending 1 (leased 0), done 0, failed 0, cancelled 0; "
            "days done 0, failed 0, unrecoverable 0");
  EXPECT_THAT(Units(Claim(*store_, "b", kNow + 300)),
              ElementsAre(Unit(run, "alpha", "2026-03-01,2026-03-02")));
  EXPECT_THAT(Claim(*store_, "c", kNow + 599), IsEmpty());  // b's lease runs to kNow + 600
  EXPECT_THAT(Units(Claim(*store_, "c", kNow + 600)),
              ElementsAre(Unit(run, "alpha", "2026-03-01,2026-03-02")));
}

TEST_P(StoreContractTest, FinishWorkByAnOwnerWhoLostTheLeaseIsRefusedAndChangesNothing) {
  AddServer("alpha");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}});
  const WorkClaim lost = Claim(*store_, "a", kNow).at(0);
  const WorkClaim taken = Claim(*store_, "b", kNow + 300).at(0);

  auto refused = store_->FinishWork("a", run, "alpha", AllDays(lost, "done"));

  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(refused.error().message, HasSubstr("alpha"));
  EXPECT_EQ(Progress(*store_, run, kNow + 301),
            "servers 1: pending 1 (leased 1), done 0, failed 0, cancelled 0; "
            "days done 0, failed 0, unrecoverable 0");
  EXPECT_EQ(store_->RenewWork("a", kNow + 301, 300).value(), 0);
  EXPECT_EQ(store_->ReleaseWork("a").value(), 0);
  EXPECT_THAT(Claim(*store_, "c", kNow + 301), IsEmpty());  // b still holds it
  Finish(*store_, "b", taken, AllDays(taken, "failed"));
  EXPECT_EQ(Progress(*store_, run, kNow + 302),
            "servers 1: pending 0 (leased 0), done 0, failed 1, cancelled 0; "
            "days done 0, failed 1, unrecoverable 0");
}

TEST_P(StoreContractTest, RenewWorkExtendsOnlyTheOwnersUnfinishedLeases) {
  AddServer("alpha");
  AddServer("beta");
  AddServer("gamma");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"beta", kD1}, {"gamma", kD1}});
  const std::vector<WorkClaim> mine = Claim(*store_, "a", kNow, 2);  // alpha, beta
  ASSERT_THAT(Claim(*store_, "c", kNow), SizeIs(1));                 // gamma
  Finish(*store_, "a", mine.at(1), AllDays(mine.at(1), "done"));

  auto renewed = store_->RenewWork("a", kNow + 200, 300);  // alpha: until kNow + 500

  ASSERT_TRUE(renewed.has_value()) << renewed.error().message;
  EXPECT_EQ(*renewed, 1);
  EXPECT_EQ(store_->RenewWork("nobody", kNow + 200, 300).value(), 0);
  EXPECT_THAT(Units(Claim(*store_, "b", kNow + 400)), ElementsAre(Unit(run, "gamma", kD1)));
  EXPECT_THAT(Units(Claim(*store_, "b", kNow + 500)), ElementsAre(Unit(run, "alpha", kD1)));
}

TEST_P(StoreContractTest, RenewWorkKeepsALeaseThatExpiredUnclaimed) {
  AddServer("alpha");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}});
  ASSERT_THAT(Claim(*store_, "a", kNow), SizeIs(1));

  EXPECT_EQ(store_->RenewWork("a", kNow + 350, 300).value(), 1);

  EXPECT_THAT(Claim(*store_, "b", kNow + 649), IsEmpty());
  EXPECT_THAT(Claim(*store_, "b", kNow + 650), SizeIs(1));
}

TEST_P(StoreContractTest, ReleaseWorkMakesTheOwnersServersClaimableAtOnce) {
  AddServer("alpha");
  AddServer("beta");
  AddServer("gamma");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"beta", kD1}, {"gamma", kD1}});
  const std::vector<WorkClaim> mine = Claim(*store_, "a", kNow, 2);  // alpha, beta
  ASSERT_THAT(Claim(*store_, "c", kNow), SizeIs(1));                 // gamma
  Finish(*store_, "a", mine.at(0), AllDays(mine.at(0), "done"));

  auto released = store_->ReleaseWork("a");

  ASSERT_TRUE(released.has_value()) << released.error().message;
  EXPECT_EQ(*released, 1);
  EXPECT_EQ(store_->ReleaseWork("nobody").value(), 0);
  EXPECT_EQ(store_->RenewWork("a", kNow + 1, 300).value(), 0);
  EXPECT_THAT(Units(Claim(*store_, "b", kNow + 1)), ElementsAre(Unit(run, "beta", kD1)));
  EXPECT_EQ(Progress(*store_, run, kNow + 1),
            "servers 3: pending 2 (leased 2), done 1, failed 0, cancelled 0; "
            "days done 1, failed 0, unrecoverable 0");
}

// ---- FinishWork

TEST_P(StoreContractTest, FinishWorkRecordsEachDayAndFinishesTheServer) {
  AddServer("alpha");
  AddServer("beta");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"alpha", kD2}, {"beta", kD1}, {"beta", kD2}});
  const std::vector<WorkClaim> claims = Claim(*store_, "a", kNow);
  ASSERT_THAT(claims, SizeIs(2));

  Finish(*store_, "a", claims[0], {{kD1, "done"}, {kD2, "unrecoverable"}});
  EXPECT_EQ(Progress(*store_, run, kNow),
            "servers 2: pending 1 (leased 1), done 1, failed 0, cancelled 0; "
            "days done 1, failed 0, unrecoverable 1");
  Finish(*store_, "a", claims[1], {{kD2, "failed"}, {kD1, "done"}});

  EXPECT_EQ(Progress(*store_, run, kNow),
            "servers 2: pending 0 (leased 0), done 1, failed 1, cancelled 0; "
            "days done 2, failed 1, unrecoverable 1");
  EXPECT_EQ(store_->RenewWork("a", kNow, 300).value(), 0);
  EXPECT_THAT(Claim(*store_, "b", kNow + 1000), IsEmpty());
}

TEST_P(StoreContractTest, FinishWorkWithoutSomeDaysReleasesTheServerWithTheRest) {
  AddServer("alpha");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"alpha", kD2}, {"alpha", kD3}});
  const WorkClaim first = Claim(*store_, "a", kNow).at(0);

  Finish(*store_, "a", first, {{kD1, "done"}, {kD2, "failed"}});

  EXPECT_EQ(Progress(*store_, run, kNow),
            "servers 1: pending 1 (leased 0), done 0, failed 0, cancelled 0; "
            "days done 1, failed 1, unrecoverable 0");
  EXPECT_EQ(store_->RenewWork("a", kNow, 300).value(), 0);
  auto again = store_->FinishWork("a", run, "alpha", {{kD3, "done"}});
  ASSERT_FALSE(again.has_value());  // released: "a" no longer holds it
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  const std::vector<WorkClaim> rest = Claim(*store_, "b", kNow);
  ASSERT_THAT(Units(rest), ElementsAre(Unit(run, "alpha", kD3)));
  Finish(*store_, "b", rest[0], AllDays(rest[0], "done"));
  // Finished now; a day failed (in the first pass), so the server failed.
  EXPECT_EQ(Progress(*store_, run, kNow),
            "servers 1: pending 0 (leased 0), done 0, failed 1, cancelled 0; "
            "days done 2, failed 1, unrecoverable 0");
}

// ---- CancelWork

TEST_P(StoreContractTest, CancelWorkCancelsPendingServersButNotLiveLeases) {
  AddServer("alpha");
  AddServer("beta");
  AddServer("gamma");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"beta", kD1}, {"beta", kD2}, {"gamma", kD1}});
  const WorkClaim alpha = Claim(*store_, "a", kNow, 1).at(0);

  auto cancelled = store_->CancelWork(run, kNow + 10);

  ASSERT_TRUE(cancelled.has_value()) << cancelled.error().message;
  EXPECT_EQ(*cancelled, 2);
  EXPECT_EQ(Progress(*store_, run, kNow + 10),
            "servers 3: pending 1 (leased 1), done 0, failed 0, cancelled 2; "
            "days done 0, failed 0, unrecoverable 0");
  EXPECT_THAT(Claim(*store_, "b", kNow + 10), IsEmpty());
  EXPECT_EQ(Close(*store_, run, kNow + 10), "open");
  Finish(*store_, "a", alpha, AllDays(alpha, "done"));
  EXPECT_EQ(store_->CancelWork(run, kNow + 20).value(), 0);
  EXPECT_EQ(Close(*store_, run, kNow + 20),
            "interrupted: attempted 3, succeeded 1, failed 0, days stored 1");
}

TEST_P(StoreContractTest, CancelWorkCancelsServersWhoseLeaseExpired) {
  AddServer("alpha");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}});
  ASSERT_THAT(Claim(*store_, "a", kNow), SizeIs(1));

  EXPECT_EQ(store_->CancelWork(run, kNow + 299).value(), 0);
  EXPECT_EQ(store_->CancelWork(run, kNow + 300).value(), 1);

  EXPECT_EQ(Progress(*store_, run, kNow + 300),
            "servers 1: pending 0 (leased 0), done 0, failed 0, cancelled 1; "
            "days done 0, failed 0, unrecoverable 0");
  EXPECT_EQ(Close(*store_, run, kNow + 300),
            "interrupted: attempted 1, succeeded 0, failed 0, days stored 0");
}

// ---- GetWorkProgress and CloseRunIfDone

TEST_P(StoreContractTest, ProgressAndCloseOfAnUnknownRunAreNotFound) {
  auto progress = store_->GetWorkProgress(4242, kNow);
  auto closed = store_->CloseRunIfDone(4242, kNow);

  ASSERT_FALSE(progress.has_value());
  EXPECT_EQ(progress.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(progress.error().message, HasSubstr("4242"));
  ASSERT_FALSE(closed.has_value());
  EXPECT_EQ(closed.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, CloseRunIfDoneClosesTheRunOnceWhenNoServerIsPending) {
  AddServer("alpha");
  AddServer("beta");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"alpha", kD2}, {"beta", kD1}});
  const std::vector<WorkClaim> claims = Claim(*store_, "a", kNow);
  ASSERT_THAT(claims, SizeIs(2));

  EXPECT_EQ(Close(*store_, run, kNow), "open");
  Finish(*store_, "a", claims[0], AllDays(claims[0], "done"));
  EXPECT_EQ(Close(*store_, run, kNow), "open");
  EXPECT_EQ(store_->GetRun(run).value().status, RunStatus::kRunning);
  Finish(*store_, "a", claims[1], AllDays(claims[1], "done"));
  auto closed = store_->CloseRunIfDone(run, kNow + 60);

  ASSERT_TRUE(closed.has_value()) << closed.error().message;
  ASSERT_TRUE(closed->has_value());
  const CollectionRun& done = **closed;
  EXPECT_EQ(done.id, run);
  EXPECT_EQ(Summary(done), "succeeded: attempted 2, succeeded 2, failed 0, days stored 3");
  EXPECT_EQ(done.finished_at, kNow + 60);
  EXPECT_EQ(done.started_at, 1000);
  EXPECT_EQ(done.description, "work-queue run");
  EXPECT_EQ(Close(*store_, run, kNow + 61), "open");  // only one caller gets the run
  const CollectionRun stored = store_->GetRun(run).value();
  EXPECT_EQ(Summary(stored), Summary(done));
  EXPECT_EQ(stored.finished_at, kNow + 60);
}

TEST_P(StoreContractTest, CloseRunIfDoneTakesTheStatusFromTheServers) {
  AddServer("alpha");
  AddServer("beta");
  const int64_t partial = NewRun(*store_);
  const int64_t failed = NewRun(*store_);
  const int64_t unrecoverable = NewRun(*store_);
  Enqueue(*store_, partial, {{"alpha", kD1}, {"beta", kD1}, {"beta", kD2}});
  Enqueue(*store_, failed, {{"alpha", kD1}, {"beta", kD1}});
  Enqueue(*store_, unrecoverable, {{"alpha", kD1}, {"alpha", kD2}});
  const std::vector<WorkClaim> claims = Claim(*store_, "a", kNow);
  ASSERT_THAT(claims, SizeIs(5));

  Finish(*store_, "a", claims[0], AllDays(claims[0], "done"));
  Finish(*store_, "a", claims[1], {{kD1, "done"}, {kD2, "failed"}});
  Finish(*store_, "a", claims[2], AllDays(claims[2], "failed"));
  Finish(*store_, "a", claims[3], AllDays(claims[3], "failed"));
  Finish(*store_, "a", claims[4], {{kD1, "unrecoverable"}, {kD2, "done"}});

  EXPECT_EQ(Close(*store_, partial, kNow),
            "partial: attempted 2, succeeded 1, failed 1, days stored 2");
  EXPECT_EQ(Close(*store_, failed, kNow),
            "failed: attempted 2, succeeded 0, failed 2, days stored 0");
  EXPECT_EQ(Close(*store_, unrecoverable, kNow),
            "succeeded: attempted 1, succeeded 1, failed 0, days stored 1");
}

TEST_P(StoreContractTest, ARunWithoutWorkClosesAsSucceeded) {
  const int64_t run = NewRun(*store_);

  EXPECT_EQ(Close(*store_, run, kNow),
            "succeeded: attempted 0, succeeded 0, failed 0, days stored 0");
  EXPECT_EQ(store_->GetRun(run).value().finished_at, kNow);
}

TEST_P(StoreContractTest, CloseRunIfDoneLeavesAFinishedRunAlone) {
  const int64_t run = NewRun(*store_);
  CollectionRun finished = store_->GetRun(run).value();
  finished.status = RunStatus::kFailed;
  finished.finished_at = kNow;
  finished.servers_attempted = 7;
  ASSERT_TRUE(store_->FinishRun(finished).has_value());

  EXPECT_EQ(Close(*store_, run, kNow + 1), "open");

  const CollectionRun stored = store_->GetRun(run).value();
  EXPECT_EQ(Summary(stored), "failed: attempted 7, succeeded 0, failed 0, days stored 0");
  EXPECT_EQ(stored.finished_at, kNow);
}

// ---- schedule slots

TEST_P(StoreContractTest, ClaimSlotTakesEachSlotOnce) {
  const int64_t first = NewRun(*store_);
  const int64_t second = NewRun(*store_);

  auto taken = store_->ClaimSlot("daily:2026-11-24", first, kNow);

  ASSERT_TRUE(taken.has_value()) << taken.error().message;
  EXPECT_TRUE(*taken);
  EXPECT_FALSE(store_->ClaimSlot("daily:2026-11-24", second, kNow + 1).value());
  EXPECT_FALSE(store_->ClaimSlot("daily:2026-11-24", first, kNow + 2).value());
  EXPECT_TRUE(store_->ClaimSlot("daily:2026-11-25", second, kNow + 3).value());
}

TEST_P(StoreContractTest, ASlotWhoseRunWasInterruptedOrFailedIsTakenOver) {
  for (RunStatus ended : {RunStatus::kInterrupted, RunStatus::kFailed}) {
    const std::string slot = "daily:" + std::string(RunStatusName(ended));
    const int64_t first = NewRun(*store_);
    ASSERT_TRUE(store_->ClaimSlot(slot, first, kNow).value());
    auto run = store_->GetRun(first).value();
    run.status = ended;
    run.finished_at = kNow + 1;
    ASSERT_TRUE(store_->FinishRun(run).has_value());

    const int64_t again = NewRun(*store_);
    EXPECT_TRUE(store_->ClaimSlot(slot, again, kNow + 2).value()) << slot;
    // Taken by a run that is running (or later succeeded): not again.
    EXPECT_FALSE(store_->ClaimSlot(slot, NewRun(*store_), kNow + 3).value()) << slot;
  }
  const int64_t done = NewRun(*store_);
  ASSERT_TRUE(store_->ClaimSlot("daily:succeeded", done, kNow).value());
  auto run = store_->GetRun(done).value();
  run.status = RunStatus::kSucceeded;
  ASSERT_TRUE(store_->FinishRun(run).has_value());
  EXPECT_FALSE(store_->ClaimSlot("daily:succeeded", NewRun(*store_), kNow + 1).value());
}

TEST_P(StoreContractTest, ATakenSlotRollsBackTheRunCreatedWithIt) {
  auto start = [&]() {
    return store_->Transaction([&]() -> Result<void> {
      const int64_t run = NewRun(*store_);
      auto taken = store_->ClaimSlot("daily:2026-11-24", run, kNow);
      if (!taken) return tl::unexpected(taken.error());
      if (!*taken) return MakeError(ErrorCode::kAlreadyExists, "the daily run already started");
      return {};
    });
  };

  auto first = start();
  auto second = start();

  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(store_->ListRuns(0).value(), SizeIs(1));
}

// ---- servers removed mid-run

TEST_P(StoreContractTest, RemovingAServerRemovesItsWork) {
  AddServer("alpha");
  AddServer("beta");
  const int64_t run = NewRun(*store_);
  Enqueue(*store_, run, {{"alpha", kD1}, {"beta", kD1}});
  const std::vector<WorkClaim> claims = Claim(*store_, "a", kNow);
  ASSERT_THAT(claims, SizeIs(2));

  ASSERT_TRUE(store_->DeleteServer("alpha", false).has_value());

  EXPECT_EQ(Progress(*store_, run, kNow),
            "servers 1: pending 1 (leased 1), done 0, failed 0, cancelled 0; "
            "days done 0, failed 0, unrecoverable 0");
  auto gone = store_->FinishWork("a", run, "alpha", AllDays(claims[0], "done"));
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->RenewWork("a", kNow, 300).value(), 1);
  Finish(*store_, "a", claims[1], AllDays(claims[1], "done"));
  EXPECT_EQ(Close(*store_, run, kNow),
            "succeeded: attempted 1, succeeded 1, failed 0, days stored 1");
}

}  // namespace
}  // namespace fleet::storage
