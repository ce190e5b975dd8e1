#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "n8n/http.h"
#include "testing/fake_n8n.h"

namespace fleet::n8n {
namespace {

using testing::FakeN8n;
using Json = nlohmann::json;

HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.url = url;
  return request;
}

TEST(CurlTransportTest, GetReturnsStatusBodyAndLowerCasedHeaders) {
  FakeN8n fake;
  auto transport = MakeCurlTransport();

  Result<HttpResponse> response = transport->Send(Get(fake.url() + "/healthz"));

  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"status":"ok"})");
  EXPECT_EQ(response->Header("content-type").rfind("application/json", 0), 0u);
  EXPECT_EQ(response->Header("content-length"), "15");
  for (const auto& [name, value] : response->headers) {
    EXPECT_TRUE(std::none_of(name.begin(), name.end(), [](unsigned char c) {
      return std::isupper(c);
    })) << name;
  }
  EXPECT_GT(response->elapsed.count(), 0);
  EXPECT_EQ(fake.Requests(), std::vector<std::string>{"GET /healthz"});
}

TEST(CurlTransportTest, PostSendsBodyAndHeaders) {
  FakeN8n fake;
  fake.AcceptApiKey("key-1");
  auto transport = MakeCurlTransport();
  HttpRequest request;
  request.method = "POST";
  request.url = fake.url() + "/api/v1/workflows";
  request.headers = {{"X-N8N-API-KEY", "key-1"}, {"Content-Type", "application/json"}};
  request.body = R"({"name":"Billing","nodes":[],"connections":{}})";

  Result<HttpResponse> response = transport->Send(request);

  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  Json created = Json::parse(response->body);
  EXPECT_EQ(created["id"], "1");
  EXPECT_EQ(created["name"], "Billing");
  auto recorded = fake.RecordedRequests();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].method, "POST");
  EXPECT_EQ(recorded[0].target, "/api/v1/workflows");
  EXPECT_EQ(recorded[0].body, request.body);
  EXPECT_EQ(recorded[0].Header("x-n8n-api-key"), "key-1");
  EXPECT_EQ(recorded[0].Header("content-type"), "application/json");
  EXPECT_EQ(recorded[0].Header("user-agent").rfind("n8n-fleet/", 0), 0u);
  EXPECT_EQ(recorded[0].Header("expect"), "");
}

TEST(CurlTransportTest, SendsOtherMethodsAndTheConfiguredUserAgent) {
  FakeN8n fake;
  auto transport = MakeCurlTransport(CurlOptions{"probe/1.0", 0});
  HttpRequest request = Get(fake.url() + "/api/v1/workflows/7");
  request.method = "DELETE";

  Result<HttpResponse> response = transport->Send(request);

  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"message":"not found"})");
  auto recorded = fake.RecordedRequests();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].method, "DELETE");
  EXPECT_EQ(recorded[0].Header("user-agent"), "probe/1.0");
}

TEST(CurlTransportTest, RefusedConnectionIsUnavailable) {
  auto transport = MakeCurlTransport();
  std::string url = "http://127.0.0.1:" + std::to_string(testing::ClosedLocalPort()) + "/healthz";

  Result<HttpResponse> response = transport->Send(Get(url));

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response.error().message.find(url), std::string::npos) << response.error().message;
}

TEST(CurlTransportTest, HangingServerTimesOut) {
  FakeN8n fake;
  fake.SetFault(FakeN8n::Fault::kHang, 10000);
  auto transport = MakeCurlTransport();
  HttpRequest request = Get(fake.url() + "/healthz");
  request.total_timeout = std::chrono::milliseconds(300);

  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> response = transport->Send(request);
  auto elapsed = std::chrono::steady_clock::now() - start;

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kTimeout) << response.error().message;
  EXPECT_GE(elapsed, std::chrono::milliseconds(290));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(CurlTransportTest, OversizedBodyIsBadResponse) {
  FakeN8n fake;
  fake.AcceptApiKey("key-1");
  for (int i = 0; i < 200; ++i) fake.AddWorkflow("workflow " + std::to_string(i));
  auto transport = MakeCurlTransport();
  HttpRequest request = Get(fake.url() + "/api/v1/workflows?limit=200");
  request.headers = {{"X-N8N-API-KEY", "key-1"}};
  request.max_response_bytes = 4096;

  Result<HttpResponse> response = transport->Send(request);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kBadResponse);
  EXPECT_NE(response.error().message.find("response larger than 4096 bytes"), std::string::npos)
      << response.error().message;

  request.max_response_bytes = 1 << 20;  // the same request fits a larger limit
  Result<HttpResponse> full = transport->Send(request);
  ASSERT_TRUE(full.has_value()) << full.error().message;
  EXPECT_EQ(Json::parse(full->body)["data"].size(), 200u);
}

TEST(CurlTransportTest, SendIsSafeFromSeveralThreads) {
  FakeN8n fake;
  auto transport = MakeCurlTransport();
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto response = transport->Send(Get(fake.url() + "/healthz"));
        if (response && response->status == 200) ++ok[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, std::vector<int>(4, 25));
  EXPECT_EQ(fake.Requests().size(), 100u);
}

TEST(CurlTransportTest, RunCompletesEveryRequestWithinTheConcurrencyCap) {
  FakeN8n fake;
  fake.SetFault(FakeN8n::Fault::kHang, 5);  // make requests overlap
  auto transport = MakeCurlTransport();
  int ok = 0;
  int failed = 0;
  for (int i = 0; i < 500; ++i) {
    transport->Submit(Get(fake.url() + "/healthz?n=" + std::to_string(i)),
                      [&](Result<HttpResponse> response) {
                        (response && response->status == 200 ? ok : failed)++;
                      });
  }

  transport->Run(8);

  EXPECT_EQ(ok, 500);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(fake.Requests().size(), 500u);
  EXPECT_LE(fake.MaxConcurrent(), 8);
  EXPECT_GE(fake.MaxConcurrent(), 2);
}

TEST(CurlTransportTest, RunReusesConnections) {
  FakeN8n fake;
  auto transport = MakeCurlTransport();
  for (int i = 0; i < 200; ++i) {
    transport->Submit(Get(fake.url() + "/healthz"), [](Result<HttpResponse>) {});
  }
  transport->Run(4);
  std::set<int> ports;
  for (const auto& request : fake.RecordedRequests()) ports.insert(request.remote_port);
  EXPECT_EQ(fake.RecordedRequests().size(), 200u);
  EXPECT_LE(ports.size(), 12u);  // 4 connections, each closed by the fake after 100 requests
}

TEST(CurlTransportTest, CallbacksCanSubmitFollowUps) {
  FakeN8n fake;
  fake.AcceptApiKey("key-1");
  auto transport = MakeCurlTransport();
  std::map<std::string, int> statuses;
  for (int i = 0; i < 10; ++i) {
    transport->Submit(Get(fake.url() + "/healthz"), [&](Result<HttpResponse> health) {
      statuses["health " + std::to_string(health ? health->status : 0)]++;
      HttpRequest list = Get(fake.url() + "/api/v1/workflows?limit=1");
      list.headers = {{"X-N8N-API-KEY", "key-1"}};
      transport->Submit(list, [&](Result<HttpResponse> workflows) {
        statuses["list " + std::to_string(workflows ? workflows->status : 0)]++;
      });
    });
  }

  transport->Run(3);

  EXPECT_EQ(statuses, (std::map<std::string, int>{{"health 200", 10}, {"list 200", 10}}));
  auto requests = fake.Requests();
  EXPECT_EQ(std::count(requests.begin(), requests.end(), "GET /healthz"), 10);
  EXPECT_EQ(std::count(requests.begin(), requests.end(), "GET /api/v1/workflows?limit=1"), 10);
}

TEST(CurlTransportTest, RunReportsEachFailureToItsOwnCallback) {
  FakeN8n fake;
  auto transport = MakeCurlTransport();
  std::string closed = "http://127.0.0.1:" + std::to_string(testing::ClosedLocalPort());
  std::vector<std::string> outcomes(4);
  auto record = [&](size_t i) {
    return [&outcomes, i](Result<HttpResponse> r) {
      outcomes[i] = r ? std::to_string(r->status) : std::string(ErrorCodeName(r.error().code));
    };
  };
  HttpRequest big = Get(fake.url() + "/healthz");
  big.max_response_bytes = 5;
  transport->Submit(Get(fake.url() + "/healthz"), record(0));
  transport->Submit(Get(closed + "/healthz"), record(1));
  transport->Submit(big, record(2));
  transport->Submit(Get(fake.url() + "/nope"), record(3));

  transport->Run(2);

  EXPECT_EQ(outcomes, (std::vector<std::string>{"200", "unavailable", "bad_response", "404"}));
}

TEST(CurlTransportTest, RunTimesOutHangingRequests) {
  FakeN8n fake;
  fake.SetFault(FakeN8n::Fault::kHang, 10000);
  auto transport = MakeCurlTransport();
  int timeouts = 0;
  for (int i = 0; i < 4; ++i) {
    HttpRequest request = Get(fake.url() + "/healthz");
    request.total_timeout = std::chrono::milliseconds(300);
    transport->Submit(request, [&](Result<HttpResponse> r) {
      if (!r && r.error().code == ErrorCode::kTimeout) ++timeouts;
    });
  }
  auto start = std::chrono::steady_clock::now();
  transport->Run(4);
  EXPECT_EQ(timeouts, 4);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(CurlTransportTest, AbortFromAnotherThreadCancelsInFlightAndQueuedRequests) {
  FakeN8n fake;
  fake.SetFault(FakeN8n::Fault::kHang, 10000);
  auto transport = MakeCurlTransport();
  int cancelled = 0, other = 0;
  for (int i = 0; i < 6; ++i) {  // 2 in flight, 4 queued
    transport->Submit(Get(fake.url() + "/healthz"), [&](Result<HttpResponse> r) {
      (!r && r.error().code == ErrorCode::kCancelled ? cancelled : other)++;
      // A follow-up submitted from a cancelled callback fails too, instead of running.
      if (cancelled == 1)
        transport->Submit(Get(fake.url() + "/healthz"), [&](auto r2) {
          (!r2 && r2.error().code == ErrorCode::kCancelled ? cancelled : other)++;
        });
    });
  }
  auto start = std::chrono::steady_clock::now();
  std::thread aborter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    transport->Abort();
  });
  transport->Run(2);
  aborter.join();
  EXPECT_EQ(cancelled, 7);
  EXPECT_EQ(other, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(CurlTransportTest, NewWorkFromACallbackQueuesBehindWhatWaits) {
  FakeN8n fake;
  auto transport = MakeCurlTransport();
  std::vector<std::string> order;
  auto request = [&](const std::string& tag, bool follow_up) {
    HttpRequest r = Get(fake.url() + "/healthz?" + tag);
    r.follow_up = follow_up;
    return r;
  };
  transport->Submit(request("first", true), [&](Result<HttpResponse>) {
    order.push_back("first");
    transport->Submit(request("new", false), [&](Result<HttpResponse>) { order.push_back("new"); });
    transport->Submit(request("follow", true),
                      [&](Result<HttpResponse>) { order.push_back("follow"); });
  });
  transport->Submit(request("queued", true),
                    [&](Result<HttpResponse>) { order.push_back("queued"); });
  transport->Run(1);
  EXPECT_EQ(order, (std::vector<std::string>{"first", "follow", "queued", "new"}));
}

TEST(CurlTransportTest, RunWithNothingQueuedReturnsAtOnce) {
  auto transport = MakeCurlTransport();
  auto start = std::chrono::steady_clock::now();
  transport->Run(8);
  transport->Run(0);  // treated as 1
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(CurlTransportTest, RunHandlesTenThousandRequests) {
  FakeN8n fake;
  auto transport = MakeCurlTransport();
  int ok = 0;
  for (int i = 0; i < 10000; ++i) {
    transport->Submit(Get(fake.url() + "/healthz"), [&](Result<HttpResponse> response) {
      if (response && response->status == 200) ++ok;
    });
  }
  transport->Run(16);
  EXPECT_EQ(ok, 10000);
  EXPECT_EQ(fake.Requests().size(), 10000u);
  EXPECT_LE(fake.MaxConcurrent(), 16);
}

}  // namespace
}  // namespace fleet::n8n
