// End-to-end security checks (docs/SECURITY.md): no secret of any kind in what the commands print,
// in errors or in the service's debug log, even when an instance echoes the credentials it was
// sent; TLS verified by default; an access token of one instance useless on another.
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli_test_util.h"
#include "core/time.h"
#include "n8n/http.h"
#include "n8n/token_exchange.h"
#include "testing/background_process.h"
#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

using namespace std::chrono_literals;
using J = nlohmann::json;

Day Today() { return DayOf(std::time(nullptr)); }

// A hostile "n8n": every request is refused with a message that echoes the credentials it was
// sent (the API key header and the Authorization header), as a compromised instance might, to
// get them into the tracker's logs and outputs.
class EchoingInstance {
 public:
  EchoingInstance() {
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      std::string said = req.get_header_value("X-N8N-API-KEY");
      if (said.empty()) said = req.get_header_value("Authorization");
      res.status = 401;
      res.set_header("WWW-Authenticate", said);
      res.set_content(J{{"message", said}, {"error_description", said}}.dump(), "application/json");
    };
    server_.Get(".*", echo);
    server_.Post(".*", echo);
    server_.Put(".*", echo);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~EchoingInstance() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_{0};
};

// An HTTPS front for a fake n8n with a self-signed certificate: what an instance whose
// certificate the tracker cannot verify looks like (or a man in the middle).
class SelfSignedProxy {
 public:
  SelfSignedProxy(const std::string& dir, int backend_port) {
    cert_ = dir + "/proxy-cert.pem";
    key_ = dir + "/proxy-key.pem";
    auto made = RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                            key_, "-out", cert_, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1"});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    server_ = std::make_unique<httplib::SSLServer>(cert_.c_str(), key_.c_str());
    auto forward = [backend_port](const httplib::Request& req, httplib::Response& res) {
      httplib::Client backend("127.0.0.1", backend_port);
      httplib::Headers headers;
      for (const auto& [name, value] : req.headers) {
        if (name == "X-N8N-API-KEY" || name == "Authorization" || name == "Accept") {
          headers.emplace(name, value);
        }
      }
      std::string target = req.target.empty() ? req.path : req.target;
      auto answer = req.method == "GET" ? backend.Get(target, headers)
                                        : backend.Post(target, headers, req.body,
                                                       req.get_header_value("Content-Type"));
      if (!answer) {
        res.status = 502;
        return;
      }
      res.status = answer->status;
      res.set_content(answer->body, answer->get_header_value("Content-Type"));
    };
    server_->Get(".*", forward);
    server_->Post(".*", forward);
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(1ms);
  }
  ~SelfSignedProxy() {
    server_->stop();
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string cert_, key_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_{0};
};

class SecurityCliTest : public CliTest {
 protected:
  // One secret: the value, and the distinctive parts to look for (a value may be shown in part
  // by design, e.g. a token's "nft_abcd" prefix, so the parts are taken from elsewhere).
  struct Secret {
    std::string kind;
    std::vector<std::string> parts;
  };
  void AddSecret(const std::string& kind, const std::string& value) {
    ASSERT_GE(value.size(), 24u) << kind << ": " << value;
    // The whole value, and 20 characters from its middle (a JWT's payload, a token's random
    // part; a value may share its start or end with others of its kind).
    secrets_.push_back({kind, {value, value.substr(value.size() / 2 - 10, 20)}});
  }
  // Every secret part that appears in `text`, as "kind: where".
  void ExpectNoSecret(const std::string& where, const std::string& text) {
    ++outputs_checked_;
    for (const auto& secret : secrets_) {
      for (const auto& part : secret.parts) {
        EXPECT_EQ(text.find(part), std::string::npos)
            << secret.kind << " appears in " << where << ":\n"
            << text.substr(0, 4000);
      }
    }
  }
  ProcessResult Check(const std::vector<std::string>& args) {
    auto result = Run(args);
    std::string where;
    for (const auto& arg : args) where += arg + " ";
    ExpectNoSecret(where + "(exit " + std::to_string(result.exit_code) + ")",
                   result.out + "\n" + result.err);
    return result;
  }

  std::vector<Secret> secrets_;
  int outputs_checked_{0};
};

TEST_F(SecurityCliTest, NoSecretOfAnyKindIsPrintedLoggedOrEchoedWithoutUnmask) {
  // ---- Seed every kind of secret.
  Ok({"db", "init"});
  std::string pem_file = dir_.path() + "/signing.pem";
  auto made = RunProcess({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-out", pem_file});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  Ok({"key", "import", pem_file, "--kid", "imported", "--activate"});

  FakeN8n good, exchange;
  EchoingInstance hostile;
  std::string yesterday = FormatDay(Today() - 1);
  good.SetDailyInsights(yesterday, {12, 1, 0, 10});
  exchange.SetDailyInsights(yesterday, {7, 0, 0, 10});
  good.SeedWorkflow(WebhookWorkflow("pushed"));
  std::string good_key = MakeApiKey("good-service-account", 1700000000);
  std::string hostile_key = MakeApiKey("hostile-service-account", 1700000000);
  good.AcceptApiKey(good_key);
  Ok({"server", "create", "good", good.url(), "--customer", "acme", "--tracking-since", yesterday});
  Ok({"server", "create", "hostile", hostile.url(), "--customer", "acme", "--tracking-since",
      yesterday});
  Ok({"server", "create", "exchange", exchange.url(), "--customer", "acme", "--auth",
      "token-exchange", "--tracking-since", yesterday});
  TrustKeyEnv(exchange, Json({"key", "env", "--format", "json", "--server", "exchange"}));
  Ok({"apikey", "add", good_key, "--name", "good-key", "--server", "good"});
  Ok({"apikey", "add", hostile_key, "--name", "hostile-key", "--server", "hostile"});
  std::string admin = Json({"token", "create", "admin", "--json"})["token"];
  std::string reader = Json({"token", "create", "reader", "--read-only", "--json"})["token"];
  std::string report = Json({"server", "report-token", "good", "--url", "http://127.0.0.1:9",
                             "--json"})["env"]["N8N_INSTANCE_REPORTING_AUTH_TOKEN"];

  AddSecret("API key", good_key);
  AddSecret("API key echoed back by a hostile instance", hostile_key);
  AddSecret("API token", admin);
  AddSecret("read-only API token", reader);
  AddSecret("report token", report);
  if (!OnPostgres()) {
    std::string master = ReadAll(home() + "/master.key");
    while (!master.empty() && std::isspace(static_cast<unsigned char>(master.back()))) {
      master.pop_back();
    }
    AddSecret("master key", master);
  }
  // The private key: every full line of its PEM body.
  {
    std::istringstream pem(ReadAll(pem_file));
    Secret key{"signing private key", {"PRIVATE KEY"}};
    for (std::string line; std::getline(pem, line);) {
      if (line.rfind("-----", 0) != 0 && line.size() >= 40) key.parts.push_back(line);
    }
    ASSERT_GE(key.parts.size(), 2u);
    secrets_.push_back(key);
  }

  // ---- Every command that prints something about them, in every output mode.
  std::string flow = dir_.path() + "/flow.json";
  std::ofstream(flow) << WebhookWorkflow("secure flow").dump(2) << "\n";
  std::vector<std::vector<std::string>> commands = {
      {"apikey", "list"},
      {"apikey", "list", "--json"},
      {"apikey", "test", "good-key"},
      {"apikey", "test", "good-key", "--json"},
      {"apikey", "test", "hostile-key"},
      {"apikey", "test", "hostile-key", "--json"},
      {"server", "list", "--json"},
      {"server", "show", "good", "--json"},
      {"server", "show", "hostile"},
      {"server", "keys", "good", "--json"},
      {"server", "test", "good"},
      {"server", "test", "good", "--json"},
      {"server", "test", "hostile"},
      {"server", "test", "hostile", "--json"},
      {"server", "test", "exchange", "--json"},
      {"server", "export", "--format", "jsonl"},
      {"env"},
      {"env", "--json"},
      {"db", "status"},
      {"db", "status", "--json"},
      {"key", "list", "--json"},
      {"key", "show", "imported"},
      {"key", "show", "imported", "--json"},
      {"key", "show", "imported", "--public"},
      {"key", "env"},
      {"key", "env", "--format", "json"},
      {"key", "env", "--format", "k8s"},
      {"key", "jwks"},
      {"token", "list"},
      {"token", "list", "--json"},
      {"collect", "--day", yesterday, "--json"},
      {"collect", "--day", yesterday},
      {"runs", "list", "--json"},
      {"runs", "show", "1", "--json"},
      {"usage", "show", "--json"},
      {"wf", "server", "good", "--json"},
      {"wf", "server", "hostile", "--json"},
      {"wf", "push", flow, "--server", "good", "--json"},
      {"wf", "push", flow, "--server", "hostile", "--json"},
      {"wf", "push", flow, "--customer", "acme", "--json"},
      {"wf", "list", "--json"},
  };
  for (const auto& command : commands) Check(command);
  // The hostile instance really was asked (with the key it echoes) and the collect really ran.
  EXPECT_EQ(Json({"usage", "show", "--server", "good", "--json"}).size(), 1u);
  // A positive control: the search finds a secret where it is meant to be shown.
  auto unmasked = Ok({"apikey", "list", "--unmask"});
  EXPECT_NE(unmasked.out.find(good_key), std::string::npos);

  // ---- The service's debug log, while every kind of token is used, refused and echoed.
  std::vector<std::string> argv = {FleetBinary(), "--home",      home(),         "serve",
                                   "--listen",    "127.0.0.1:0", "--log-format", "json",
                                   "--log-level", "debug",       "--collect-at", "23:59"};
  ProcessOptions options;
  CleanEnv(options, {"N8N_FLEET_HOME", "N8N_FLEET_DB", "N8N_FLEET_MASTER_KEY", "N8N_FLEET_CONFIG"});
  BackgroundProcess serve(argv, options, dir_.path());
  ASSERT_TRUE(serve.WaitForOutput("\"serving\"", 20s)) << serve.err();
  int port = 0;
  {
    std::istringstream lines(serve.err());
    for (std::string line; std::getline(lines, line);) {
      auto json = J::parse(line, nullptr, false);
      if (!json.is_discarded() && json.value("msg", "") == "serving") {
        std::string url = json["url"];
        port = std::stoi(url.substr(url.rfind(':') + 1));
      }
    }
  }
  ASSERT_NE(port, 0) << serve.err();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(20);
  auto auth = [](const std::string& token) {
    return httplib::Headers{{"Authorization", "Bearer " + token}};
  };
  EXPECT_EQ(client.Get("/api/v1/servers", auth(admin))->status, 200);
  EXPECT_EQ(client.Get("/api/v1/usage?token=" + admin, auth(reader))->status, 200);
  EXPECT_EQ(client.Get("/metrics", auth(reader))->status, 200);
  EXPECT_EQ(client.Get("/api/v1/servers", auth(report))->status, 403);
  EXPECT_EQ(client.Get("/api/v1/servers", auth(admin + "x"))->status, 401);
  EXPECT_EQ(client.Get("/api/v1/servers", auth(good_key))->status, 401);
  J push = {
      {"instanceId", "i-1"},
      {"batchId", "b-1"},
      {"dataPoints",
       {{{"kind", "daily"}, {"name", "billableExecutions"}, {"value", 3}, {"date", yesterday}}}}};
  EXPECT_EQ(client.Post("/api/v1/instance-reports", auth(report), push.dump(), "application/json")
                ->status,
            201);
  EXPECT_EQ(
      client.Post("/api/v1/instance-reports", auth(admin), push.dump(), "application/json")->status,
      403);
  auto started =
      client.Post("/api/v1/collect", auth(admin), J{{"day", yesterday}}.dump(), "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202) << started->body;
  int64_t run = J::parse(started->body)["run"];
  std::string status = "running";
  for (int i = 0; i < 200 && status == "running"; ++i) {
    std::this_thread::sleep_for(100ms);
    auto shown = client.Get("/api/v1/runs/" + std::to_string(run), auth(reader));
    ASSERT_TRUE(shown);
    status = J::parse(shown->body)["status"];
  }
  EXPECT_NE(status, "running");
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(20s), 0);
  EXPECT_NE(serve.err().find("\"level\":\"debug\""), std::string::npos) << "no debug lines";
  ExpectNoSecret("the serve log (debug)", serve.err() + serve.out());

  // ---- Access and subject tokens the exchange instance issued and saw.
  std::vector<std::string> issued;
  for (const auto& request : exchange.RecordedRequests()) {
    std::string bearer = request.Header("authorization");
    if (bearer.rfind("Bearer ", 0) == 0) issued.push_back(bearer.substr(7));
    size_t at = request.body.find("subject_token=");
    if (at != std::string::npos) {
      std::string subject = request.body.substr(at + 14);
      issued.push_back(subject.substr(0, subject.find('&')));
    }
  }
  ASSERT_GE(issued.size(), 2u) << "the exchange instance was never used";
  secrets_.clear();
  for (const auto& token : issued) AddSecret("exchanged or subject token", token);
  for (const auto& command : commands) Check(command);
  ExpectNoSecret("the serve log (debug), exchanged tokens", serve.err() + serve.out());
  EXPECT_GT(outputs_checked_, 80);
}

TEST_F(SecurityCliTest, TlsIsVerifiedUnlessTheServerWasRegisteredWithSkipTlsVerify) {
  FakeN8n n8n;
  std::string key = MakeApiKey("svc", 1700000000);
  n8n.AcceptApiKey(key);
  std::string yesterday = FormatDay(Today() - 1);
  n8n.SetDailyInsights(yesterday, {5, 0, 0, 10});
  SelfSignedProxy proxy(dir_.path(), n8n.port());
  Ok({"server", "create", "selfsigned", proxy.url(), "--tracking-since", yesterday});
  Ok({"apikey", "add", key, "--name", "svc-key", "--server", "selfsigned"});

  auto refused = Run({"server", "test", "selfsigned"});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE((refused.out + refused.err).find("certificate"), std::string::npos)
      << refused.out << refused.err;
  auto collect = Run({"collect", "--day", yesterday, "--json"});
  EXPECT_NE(collect.exit_code, 0) << collect.out;
  EXPECT_TRUE(n8n.Requests().empty()) << "a request crossed an unverified TLS connection";
  EXPECT_TRUE(Json({"usage", "show", "--json"}).empty());

  auto updated = Ok({"server", "update", "selfsigned", "--skip-tls-verify"});
  EXPECT_NE((updated.out + updated.err).find("TLS verification is off"), std::string::npos)
      << updated.out << updated.err;
  Ok({"server", "test", "selfsigned"});
  Ok({"collect", "--day", yesterday});
  EXPECT_EQ(Json({"usage", "show", "--json"}).size(), 1u);

  auto created = Ok({"server", "create", "other", proxy.url(), "--skip-tls-verify"});
  EXPECT_NE((created.out + created.err).find("TLS verification is off"), std::string::npos)
      << created.out << created.err;
}

TEST_F(SecurityCliTest, AnAccessTokenIssuedByOneInstanceIsRefusedByAnother) {
  FakeN8n first, second;
  Ok({"key", "generate", "--kid", "k"});
  Ok({"server", "create", "first", first.url(), "--auth", "token-exchange"});
  Ok({"server", "create", "second", second.url(), "--auth", "token-exchange"});
  for (auto [n8n, name] : {std::pair{&first, "first"}, std::pair{&second, "second"}}) {
    TrustKeyEnv(*n8n, Json({"key", "env", "--format", "json", "--server", name}));
  }
  std::string subject = Ok({"key", "mint", "first"}).out;
  subject = subject.substr(0, subject.find('\n'));
  auto transport = n8n::MakeCurlTransport();
  auto exchanged = transport->Send(n8n::TokenExchangeRequest({first.url(), true}, subject));
  ASSERT_TRUE(exchanged.has_value());
  ASSERT_EQ(exchanged->status, 200) << exchanged->body;
  std::string access = J::parse(exchanged->body)["access_token"];
  auto use = [&](const FakeN8n& n8n) {
    n8n::HttpRequest request;
    request.url = n8n.url() + "/api/v1/workflows";
    request.headers = {{"Authorization", "Bearer " + access}};
    auto response = transport->Send(request);
    EXPECT_TRUE(response.has_value());
    return response ? response->status : 0;
  };
  EXPECT_EQ(use(first), 200);
  EXPECT_EQ(use(second), 401);
}

}  // namespace
}  // namespace fleet::testing
