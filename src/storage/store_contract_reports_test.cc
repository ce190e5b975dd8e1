// Store contract: instance reports (pushed batches) and their usage rows. Instantiated per
// backend.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

InstanceReport MakeReport(const std::string& server, const std::string& batch,
                          int64_t received_at = 1770000000) {
  InstanceReport report;
  report.server = server;
  report.batch_id = batch;
  report.instance_id = "instance-" + server;
  report.label = server + " production";
  report.n8n_version = "1.112.0";
  report.received_at = received_at;
  report.payload_json = R"({"batchId":")" + batch + R"("})";
  return report;
}

// A row as the service builds it: the source is left at its default on purpose.
DailyUsage Point(const std::string& server, const std::string& day, int64_t total,
                 int64_t failed = 0) {
  DailyUsage usage;
  usage.server = server;
  usage.day = day;
  usage.total = total;
  usage.failed = failed;
  usage.collected_at = 1770000000;
  return usage;
}

// "server/day=total source" of the rows of `source` ("" = both), in the store's order.
std::vector<std::string> Rows(Store& store, const std::string& source) {
  std::vector<std::string> rows;
  auto usage = store.ListDailyUsage({.source = source});
  EXPECT_TRUE(usage.has_value()) << usage.error().message;
  for (const DailyUsage& row : usage.value_or(std::vector<DailyUsage>{})) {
    rows.push_back(row.server + "/" + row.day + "=" + std::to_string(row.total) + " " + row.source);
  }
  return rows;
}

// "server/batch" of the listed reports, in the store's order.
std::vector<std::string> Reports(Store& store, const std::string& server = "", int limit = 0) {
  std::vector<std::string> rows;
  auto reports = store.ListInstanceReports(server, limit);
  EXPECT_TRUE(reports.has_value()) << reports.error().message;
  for (const InstanceReport& report : reports.value_or(std::vector<InstanceReport>{})) {
    rows.push_back(report.server + "/" + report.batch_id);
  }
  return rows;
}

TEST_P(StoreContractTest, RecordInstanceReportStoresTheBatchAndItsRowsAsPushRows) {
  AddServer("alpha", "acme");
  const InstanceReport report = MakeReport("alpha", "b-1");
  DailyUsage point = Point("alpha", "2026-03-05", 40, 2);
  point.n8n_version = "1.112.0";

  ASSERT_TRUE(store_->RecordInstanceReport(report, {point, Point("alpha", "2026-03-06", 9)}));

  auto reports = store_->ListInstanceReports("", 0);
  ASSERT_TRUE(reports.has_value()) << reports.error().message;
  ASSERT_EQ(reports->size(), 1u);
  const InstanceReport& read = reports->front();
  EXPECT_EQ(read.server, "alpha");
  EXPECT_EQ(read.batch_id, "b-1");
  EXPECT_EQ(read.instance_id, "instance-alpha");
  EXPECT_EQ(read.label, "alpha production");
  EXPECT_EQ(read.n8n_version, "1.112.0");
  EXPECT_EQ(read.received_at, 1770000000);
  EXPECT_EQ(read.payload_json, R"({"batchId":"b-1"})");
  EXPECT_THAT(Rows(*store_, "push"),
              ElementsAre("alpha/2026-03-05=40 push", "alpha/2026-03-06=9 push"));
  EXPECT_THAT(Rows(*store_, "pull"), IsEmpty());
  const DailyUsage stored = store_->ListDailyUsage({.source = "push"}).value().at(0);
  EXPECT_EQ(stored.customer, "acme");
  EXPECT_EQ(stored.failed, 2);
  EXPECT_EQ(stored.n8n_version, "1.112.0");
}

TEST_P(StoreContractTest, ALaterReportReplacesThePushedFiguresOfADayBesideThePulledOnes) {
  AddServer("alpha");
  ASSERT_TRUE(store_->UpsertDailyUsage({Point("alpha", "2026-03-05", 100)}));
  ASSERT_TRUE(
      store_->RecordInstanceReport(MakeReport("alpha", "b-1"), {Point("alpha", "2026-03-05", 90)}));

  ASSERT_TRUE(store_->RecordInstanceReport(MakeReport("alpha", "b-2"),
                                           {Point("alpha", "2026-03-05", 101)}));

  EXPECT_THAT(Rows(*store_, ""),
              ElementsAre("alpha/2026-03-05=100 pull", "alpha/2026-03-05=101 push"));
}

TEST_P(StoreContractTest, ABatchSeenAgainIsAlreadyExistsAndStoresNothing) {
  AddServer("alpha");
  AddServer("beta");
  ASSERT_TRUE(
      store_->RecordInstanceReport(MakeReport("alpha", "b-1"), {Point("alpha", "2026-03-05", 40)}));

  auto again = store_->RecordInstanceReport(
      MakeReport("alpha", "b-1", 1770009999),
      {Point("alpha", "2026-03-05", 41), Point("alpha", "2026-03-06", 5)});

  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(again.error().message, HasSubstr("'b-1'"));
  EXPECT_THAT(again.error().message, HasSubstr("'alpha'"));
  EXPECT_THAT(Rows(*store_, "push"), ElementsAre("alpha/2026-03-05=40 push"));
  EXPECT_THAT(Reports(*store_), ElementsAre("alpha/b-1"));
  // Batch ids are unique per server only.
  EXPECT_TRUE(store_->RecordInstanceReport(MakeReport("beta", "b-1"), {}).has_value());
}

TEST_P(StoreContractTest, AReportWithRowsOfAnotherServerIsRefusedAndStoresNothing) {
  AddServer("alpha");
  AddServer("beta");

  auto recorded = store_->RecordInstanceReport(
      MakeReport("alpha", "b-1"),
      {Point("alpha", "2026-03-05", 1), Point("beta", "2026-03-05", 2)});

  ASSERT_FALSE(recorded.has_value());
  EXPECT_EQ(recorded.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(recorded.error().message, HasSubstr("'beta'"));
  EXPECT_THAT(Rows(*store_, ""), IsEmpty());
  EXPECT_THAT(Reports(*store_), IsEmpty());
}

TEST_P(StoreContractTest, AReportWithImpossibleFiguresIsRefusedAndCanBeSentAgain) {
  AddServer("alpha");

  auto bad = store_->RecordInstanceReport(
      MakeReport("alpha", "b-1"),
      {Point("alpha", "2026-03-05", 1), Point("alpha", "2026-03-06", 3, 4)});
  auto no_batch = store_->RecordInstanceReport(MakeReport("alpha", ""), {});

  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message, HasSubstr("2026-03-06"));
  ASSERT_FALSE(no_batch.has_value());
  EXPECT_EQ(no_batch.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(Rows(*store_, ""), IsEmpty());
  EXPECT_THAT(Reports(*store_), IsEmpty());
  EXPECT_TRUE(store_->RecordInstanceReport(MakeReport("alpha", "b-1"),
                                           {Point("alpha", "2026-03-06", 4, 3)}));
}

TEST_P(StoreContractTest, AReportOfAnUnknownServerIsNotFound) {
  auto recorded =
      store_->RecordInstanceReport(MakeReport("ghost", "b-1"), {Point("ghost", "2026-03-05", 1)});

  ASSERT_FALSE(recorded.has_value());
  EXPECT_EQ(recorded.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(recorded.error().message, HasSubstr("'ghost'"));
  EXPECT_EQ(store_->ListInstanceReports("ghost", 0).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Status().value().usage_rows, 0);
}

TEST_P(StoreContractTest, ListInstanceReportsIsNewestFirstPerServerWithALimit) {
  AddServer("alpha");
  AddServer("beta");
  ASSERT_TRUE(store_->RecordInstanceReport(MakeReport("alpha", "a-old", 100), {}));
  ASSERT_TRUE(store_->RecordInstanceReport(MakeReport("beta", "b-mid", 200), {}));
  ASSERT_TRUE(store_->RecordInstanceReport(MakeReport("alpha", "a-new", 300), {}));
  ASSERT_TRUE(store_->RecordInstanceReport(MakeReport("alpha", "a-same-second", 300), {}));

  EXPECT_THAT(Reports(*store_),
              ElementsAre("alpha/a-same-second", "alpha/a-new", "beta/b-mid", "alpha/a-old"));
  EXPECT_THAT(Reports(*store_, "alpha"),
              ElementsAre("alpha/a-same-second", "alpha/a-new", "alpha/a-old"));
  EXPECT_THAT(Reports(*store_, "", 2), ElementsAre("alpha/a-same-second", "alpha/a-new"));
  EXPECT_THAT(Reports(*store_, "beta", 5), ElementsAre("beta/b-mid"));
  EXPECT_THAT(Reports(*store_, "alpha", -1), ::testing::SizeIs(3));
}

TEST_P(StoreContractTest, DeletingAServerDeletesItsReportsButKeepsItsPushedUsage) {
  AddServer("alpha", "acme");
  AddServer("beta");
  ASSERT_TRUE(
      store_->RecordInstanceReport(MakeReport("alpha", "b-1"), {Point("alpha", "2026-03-05", 40)}));
  ASSERT_TRUE(store_->RecordInstanceReport(MakeReport("beta", "b-1"), {}));

  ASSERT_TRUE(store_->DeleteServer("alpha", false).has_value());

  EXPECT_THAT(Reports(*store_), ElementsAre("beta/b-1"));
  EXPECT_THAT(Rows(*store_, "push"), ElementsAre("alpha/2026-03-05=40 push"));
  EXPECT_EQ(store_->ListDailyUsage({.source = "push"}).value().at(0).customer, "acme");
  // A server registered again under the name starts with no batches.
  AddServer("alpha");
  EXPECT_TRUE(store_->RecordInstanceReport(MakeReport("alpha", "b-1"), {}).has_value());
}

TEST_P(StoreContractTest, APushedDayLeavesTheUnrecoverableMarkOfThatDay) {
  AddServer("alpha");
  ASSERT_TRUE(store_->MarkUnrecoverable({"alpha", "2026-01-02", "beyond history", 10}));

  ASSERT_TRUE(
      store_->RecordInstanceReport(MakeReport("alpha", "b-1"), {Point("alpha", "2026-01-02", 3)}));

  auto marks = store_->ListUnrecoverable("");
  ASSERT_TRUE(marks.has_value()) << marks.error().message;
  ASSERT_EQ(marks->size(), 1u);
  EXPECT_EQ((*marks)[0].day, "2026-01-02");
  EXPECT_THAT(store_->CollectedDays("").value(), IsEmpty());
}

}  // namespace
}  // namespace fleet::storage
