// End-to-end fault injection (issue 8): `collect` through the real binary while one instance
// misbehaves on the wire (refused, reset, slow, huge, invalid UTF-8, an HTML login page, TLS,
// DNS, a skewed clock) or the database becomes unwritable (disk full, read-only). Each test
// asserts the run's status and exit code, the failing server's outcome and message (actionable,
// naming it, no secrets), and that the healthy server of the same run is stored exactly.
#include <sys/resource.h>

#include <chrono>
#include <map>

#include "cli_test_util.h"
#include "core/time.h"
#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

Day Today() { return DayOf(std::time(nullptr)); }
std::string Yesterday() { return FormatDay(Today() - 1); }

int64_t TotalOf(int seed, int days_ago) { return 10 * seed + days_ago; }

// Runs a bash script as root of a new user + mount namespace (mounts there are private to it
// and vanish with it); exits non-zero when this machine does not allow that.
ProcessResult InMountNamespace(const std::string& script, ProcessOptions options = {}) {
  return RunProcess({"unshare", "--user", "--map-root-user", "--mount", "bash", "-ec", script},
                    options);
}

// What one `collect` run did about the faulty server.
struct FaultRun {
  ProcessResult result{};
  nlohmann::json run{};      // collect --json
  nlohmann::json attempt{};  // the faulty server's attempt for yesterday (runs show --json)
  std::string shown{};       // `runs show` as a table
  std::chrono::milliseconds elapsed{};
};

class FaultCliTest : public CliTest {
 protected:
  // A fake instance with figures for the last `days` days, registered as `name` (API key).
  FakeN8n& AddInstance(const std::string& name, int seed, int days = 3) {
    auto& n8n = *instances_.emplace_back(std::make_unique<FakeN8n>());
    for (int ago = 1; ago <= days + 2; ++ago) {
      n8n.SetDailyInsights(FormatDay(Today() - ago),
                           {TotalOf(seed, ago), seed % 3, 1.5 * ago, 100.0 * TotalOf(seed, ago)});
    }
    AddServer(name, n8n.url(), &n8n);
    return n8n;
  }

  // Registers `name` at `url` with its own API key (accepted by `n8n` when given).
  void AddServer(const std::string& name, const std::string& url, FakeN8n* n8n = nullptr) {
    std::string key = MakeApiKey(name + "-secret", 1700000000);
    if (n8n != nullptr) n8n->AcceptApiKey(key);
    keys_.push_back(key);
    Ok({"server", "create", name, url, "--tracking-since", FormatDay(Today() - 3)});
    Ok({"apikey", "add", key, "--name", name + "-key", "--server", name});
  }

  // `collect --day yesterday` with a healthy server "good" and the faulty `faulty`: partial,
  // exit 3, good stored exactly, faulty not stored; returns what happened to faulty.
  FaultRun CollectWithFault(const std::string& faulty, std::vector<std::string> extra = {}) {
    FaultRun out;
    std::vector<std::string> args = {"collect", "--day", "yesterday", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto start = std::chrono::steady_clock::now();
    out.result = Run(args);
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    EXPECT_EQ(out.result.exit_code, 3) << out.result.out << out.result.err;
    out.run = nlohmann::json::parse(out.result.out, nullptr, false);
    EXPECT_FALSE(out.run.is_discarded()) << out.result.out;
    if (out.run.is_discarded()) return out;
    EXPECT_EQ(out.run["status"], "partial");
    EXPECT_EQ(out.run["succeeded"], 1);
    EXPECT_EQ(out.run["failed"], 1);
    EXPECT_EQ(Totals("good")[Yesterday()], TotalOf(1, 1));
    EXPECT_TRUE(Totals(faulty).empty());
    std::string id = std::to_string(out.run["run"].get<int64_t>());
    auto shown = Json({"runs", "show", id, "--json"});
    for (const auto& attempt : shown["attempts"]) {
      if (attempt["server"] == faulty && attempt["day"] == Yesterday()) out.attempt = attempt;
      if (attempt["server"] == "good") {
        EXPECT_EQ(attempt["outcome"], "ok") << attempt.dump();
      }
    }
    EXPECT_FALSE(out.attempt.is_null()) << shown.dump();
    out.shown = Ok({"runs", "show", id}).out;
    for (const auto& key : keys_) {
      for (const std::string* text : {&out.result.out, &out.result.err, &out.shown}) {
        EXPECT_EQ(text->find(key), std::string::npos) << "a secret leaked: " << *text;
      }
    }
    return out;
  }

  static std::string Message(const FaultRun& run) { return run.attempt.value("message", ""); }

  // For the unwritable-database tests (SQLite only).
  std::string WhyNoMounts();
  void StoreData();                                    // three days of "good"
  void ExpectDataIntact(const std::string& home_dir);  // usage and integrity as stored before
  ProcessOptions ScriptEnv() const;  // FLEET_BIN, HOME_DIR, WORK for the namespace's script
  nlohmann::json stored_{};

  std::vector<std::unique_ptr<FakeN8n>> instances_;
  std::vector<std::string> keys_;
};

#define EXPECT_HAS(text, part) \
  EXPECT_NE((text).find(part), std::string::npos) << "no \"" << (part) << "\" in: " << (text)

TEST_F(FaultCliTest, ConnectionRefusedIsUnreachableNamingTheAddress) {
  AddInstance("good", 1);
  std::string url = "http://127.0.0.1:" + std::to_string(ClosedLocalPort());
  AddServer("refused", url);
  auto run = CollectWithFault("refused");
  EXPECT_EQ(run.attempt["outcome"], "unreachable");
  EXPECT_HAS(Message(run), url + "/api/v1/insights/summary");
  EXPECT_HAS(Message(run), "onnect");  // "Couldn't connect to server"
  EXPECT_HAS(run.shown, "refused");
}

TEST_F(FaultCliTest, AConnectionResetMidBodyStoresNothingForThatServer) {
  AddInstance("good", 1);
  auto& reset = AddInstance("reset", 2);
  reset.SetFault(FakeN8n::Fault::kResetMidBody);
  auto run = CollectWithFault("reset");
  EXPECT_EQ(run.attempt["outcome"], "unreachable");
  EXPECT_HAS(Message(run), reset.url());
  EXPECT_HAS(Message(run), "bytes remaining");  // libcurl: transfer closed with N bytes...
}

TEST_F(FaultCliTest, ASlowBodyEndsAtTheRequestTimeout) {
  AddInstance("good", 1);
  auto& slow = AddInstance("slow", 2);
  slow.SetFault(FakeN8n::Fault::kSlowBody, 1000);  // 1 byte/s
  auto run = CollectWithFault("slow", {"--timeout", "2"});
  EXPECT_EQ(run.attempt["outcome"], "timeout");
  EXPECT_HAS(Message(run), slow.url());
  EXPECT_HAS(Message(run), "Operation timed out after 20");  // 2000-2009 ms
  // Three passes of 2 s each plus their backoff, not the body's ~300 s.
  EXPECT_LT(run.elapsed, std::chrono::seconds(20));
  EXPECT_LT(slow.FaultBodyBytesSent(), 30);  // of a ~300-byte body
}

TEST_F(FaultCliTest, AHugeBodyIsRefusedBeyondTheLimitAndMemoryStaysBounded) {
  AddInstance("good", 1);
  auto& huge = AddInstance("huge", 2);
  huge.SetFault(FakeN8n::Fault::kHugeBody);  // announces and streams 1 GiB
  auto run = CollectWithFault("huge");
  EXPECT_EQ(run.attempt["outcome"], "bad_response");
  EXPECT_HAS(Message(run), huge.url());
  EXPECT_HAS(Message(run), "response larger than 65536 bytes");
  // The collector hung up early: little of the 1 GiB left the fake (socket buffers at most),
  // and no child of this test ever grew large.
  EXPECT_LT(huge.FaultBodyBytesSent(), int64_t{64} << 20);
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  EXPECT_LT(usage.ru_maxrss, 256 * 1024) << "KiB";
  EXPECT_LT(run.elapsed, std::chrono::seconds(20));
}

TEST_F(FaultCliTest, InvalidUtf8IsABadResponseAndTheOutputStaysValidJson) {
  AddInstance("good", 1);
  auto& bad = AddInstance("latin1", 2);
  bad.SetFault(FakeN8n::Fault::kInvalidUtf8);
  auto run = CollectWithFault("latin1");
  EXPECT_EQ(run.attempt["outcome"], "bad_response");
  EXPECT_HAS(Message(run), "latin1");
  EXPECT_HAS(Message(run), "JSON");
  // The raw bytes reached neither the database's messages nor any output.
  EXPECT_EQ(run.shown.find('\xFF'), std::string::npos);
  EXPECT_EQ(run.attempt.dump().find('\xFF'), std::string::npos);
}

TEST_F(FaultCliTest, AnHtmlLoginPageWithStatus200IsCalledOut) {
  AddInstance("good", 1);
  auto& login = AddInstance("behind-sso", 2);
  login.SetFault(FakeN8n::Fault::kHtmlLogin);
  auto run = CollectWithFault("behind-sso");
  EXPECT_EQ(run.attempt["outcome"], "bad_response");
  EXPECT_HAS(Message(run), "behind-sso");
  EXPECT_HAS(Message(run), "HTML");
}

TEST_F(FaultCliTest, ATlsHandshakeFailureSaysSo) {
  AddInstance("good", 1);
  auto& plain = *instances_.emplace_back(std::make_unique<FakeN8n>());
  std::string url = "https://127.0.0.1:" + std::to_string(plain.port());  // speaks plain HTTP
  AddServer("tls", url, &plain);
  auto run = CollectWithFault("tls");
  EXPECT_EQ(run.attempt["outcome"], "unreachable");
  EXPECT_HAS(Message(run), url);
  EXPECT_HAS(Message(run), "TLS handshake failed");
}

TEST_F(FaultCliTest, AnUnresolvableNameSaysWhichHost) {
  AddInstance("good", 1);
  AddServer("nowhere", "http://n8n.fleet-fault-test.invalid:5678");
  auto run = CollectWithFault("nowhere");
  EXPECT_EQ(run.attempt["outcome"], "unreachable");
  EXPECT_HAS(Message(run), "resolve host");
  EXPECT_HAS(Message(run), "n8n.fleet-fault-test.invalid");
}

TEST_F(FaultCliTest, ClockSkewBetweenTrackerAndInstanceIsNamedAsSuch) {
  AddInstance("good", 1);
  auto& skewed = *instances_.emplace_back(std::make_unique<FakeN8n>());
  skewed.SetDailyInsights(Yesterday(), {5, 0, 0, 0});
  Ok({"key", "generate"});
  Ok({"server", "create", "skewed", skewed.url(), "--auth", "token-exchange", "--tracking-since",
      FormatDay(Today() - 3)});
  TrustKeyEnv(skewed, Json({"key", "env", "--format", "json", "--server", "skewed"}));
  skewed.SetClockSkew(3600);  // an hour ahead: every subject token has expired there
  auto run = CollectWithFault("skewed");
  EXPECT_EQ(run.attempt["outcome"], "http_status");  // n8n answers 400 invalid_grant
  EXPECT_EQ(run.attempt["http_status"], 400);
  EXPECT_HAS(Message(run), "server 'skewed'");
  EXPECT_HAS(Message(run), "clocks differ");
  EXPECT_HAS(Message(run), "seconds ahead");
  ASSERT_FALSE(skewed.ExchangeFailureReasons().empty());
  EXPECT_EQ(skewed.ExchangeFailureReasons().front(), "expired");
  // The same instance with its clock right is collected.
  skewed.SetClockSkew(0);
  auto again = Json({"collect", "--day", "yesterday", "--server", "skewed", "--json"});
  EXPECT_EQ(again["status"], "succeeded");
  EXPECT_EQ(Totals("skewed")[Yesterday()], 5);
}

// ---- The database becomes unwritable (SQLite only) ----

// Why the unwritable-database tests cannot run here, or "".
std::string FaultCliTest::WhyNoMounts() {
  if (OnPostgres()) return "a SQLite file's filesystem";
  auto check = InMountNamespace("mount -t tmpfs -o size=64k tmpfs " + dir_.path());
  if (check.exit_code == 0) return "";
  return "cannot mount in a user + mount namespace here (unshare: " + check.err +
         "): the disk-full and read-only tests need it";
}

void FaultCliTest::StoreData() {
  AddInstance("good", 1);
  Ok({"collect", "--backfill"});
  stored_ = Json({"usage", "show", "--json"});
  EXPECT_EQ(stored_.size(), 3u);
}

void FaultCliTest::ExpectDataIntact(const std::string& home_dir) {
  ProcessOptions options;
  CleanEnv(options);
  auto after = RunProcess(
      {FleetBinary(), "--home", home_dir, "--no-emoji", "usage", "show", "--json"}, options);
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(nlohmann::json::parse(after.out), stored_);
  auto integrity = RunProcess({"sqlite3", home_dir + "/fleet.db", "PRAGMA integrity_check"});
  EXPECT_EQ(integrity.out, "ok\n") << integrity.err;
}

ProcessOptions FaultCliTest::ScriptEnv() const {
  ProcessOptions options;
  CleanEnv(options);
  options.env["FLEET_BIN"] = FleetBinary();
  options.env["HOME_DIR"] = home();
  options.env["WORK"] = dir_.path();
  return options;
}

TEST_F(FaultCliTest, DiskFullFailsTheRunClearlyAndKeepsWhatWasStored) {
  if (std::string why = WhyNoMounts(); !why.empty()) GTEST_SKIP() << why;
  StoreData();
  // The home on a small tmpfs, filled up to 64 KiB: the next collect opens the database and
  // plans, then cannot commit its run.
  auto result = InMountNamespace(R"(
    mkdir -p "$WORK/full" "$WORK/after"
    mount -t tmpfs -o size=4m tmpfs "$WORK/full"
    cp -a "$HOME_DIR/." "$WORK/full/"
    dd if=/dev/zero of="$WORK/full/filler" bs=4k 2>/dev/null || true
    truncate -s -64K "$WORK/full/filler"  # room to open the database, not to write a run
    set +e
    "$FLEET_BIN" --home "$WORK/full" --no-emoji collect --day yesterday >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
    set -e
    rm "$WORK/full/filler"
    cp -a "$WORK/full/." "$WORK/after/"
  )",
                                 ScriptEnv());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::string err = ReadAll(dir_.path() + "/err");
  EXPECT_NE(ReadAll(dir_.path() + "/rc"), "0\n") << err;
  EXPECT_HAS(err, "disk is full");
  EXPECT_HAS(err, dir_.path() + "/full/fleet.db");
  ExpectDataIntact(dir_.path() + "/after");
}

TEST_F(FaultCliTest, AReadOnlyDatabaseFailsTheRunClearlyAndKeepsWhatWasStored) {
  if (std::string why = WhyNoMounts(); !why.empty()) GTEST_SKIP() << why;
  StoreData();
  // The home's filesystem remounted read-only (root ignores file modes, not a read-only mount).
  auto result = InMountNamespace(R"(
    mount --bind "$HOME_DIR" "$HOME_DIR"
    mount -o remount,bind,ro "$HOME_DIR"
    set +e
    "$FLEET_BIN" --home "$HOME_DIR" --no-emoji collect --day yesterday >"$WORK/out" 2>"$WORK/err"
    echo $? >"$WORK/rc"
  )",
                                 ScriptEnv());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::string err = ReadAll(dir_.path() + "/err");
  EXPECT_NE(ReadAll(dir_.path() + "/rc"), "0\n") << err;
  EXPECT_HAS(err, "read-only");
  EXPECT_HAS(err, db());
  ExpectDataIntact(home());
  // Writable again, the next run works.
  EXPECT_EQ(Json({"collect", "--day", "yesterday", "--json"})["status"], "succeeded");
}

}  // namespace
}  // namespace fleet::testing
