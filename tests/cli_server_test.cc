// End-to-end: `n8n-fleet server ...` run as a subprocess in a temporary home.
#include <sys/stat.h>

#include "cli_test_util.h"

namespace fleet::testing {
namespace {

class ServerCliTest : public CliTest {};

TEST_F(ServerCliTest, CreatesListsAndShowsServersInBothOutputModes) {
  Ok({"server", "create", "Büro \xF0\x9F\x9A\x80", "HTTPS://N8N.Example.com/", "--customer", "acme",
      "--description", "main office"});
  Ok({"server", "create", "beta", "http://127.0.0.1:5678"});

  auto table = Ok({"server", "list"});
  EXPECT_NE(table.out.find("Name"), std::string::npos);
  EXPECT_NE(table.out.find("Büro \xF0\x9F\x9A\x80"), std::string::npos);
  EXPECT_NE(table.out.find("https://n8n.example.com"), std::string::npos);

  auto list = Json({"server", "list", "--json"});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "Büro \xF0\x9F\x9A\x80");
  EXPECT_EQ(list[0]["url"], "https://n8n.example.com");
  EXPECT_EQ(list[0]["customer"], "acme");
  EXPECT_EQ(list[0]["auth"], "api-key");
  EXPECT_EQ(list[1]["name"], "beta");

  auto only_acme = Json({"server", "list", "--customer", "acme", "--json"});
  ASSERT_EQ(only_acme.size(), 1u);

  auto show = Json({"server", "show", "beta", "--json"});
  EXPECT_EQ(show["url"], "http://127.0.0.1:5678");
  EXPECT_EQ(show["keys"].size(), 0u);
  auto show_text = Ok({"server", "show", "beta"});
  EXPECT_NE(show_text.out.find("URL:"), std::string::npos);
}

TEST_F(ServerCliTest, EmojiAppearOnlyWithoutNoEmoji) {
  auto plain = Ok({"server", "create", "a", "http://a.example"});
  EXPECT_EQ(plain.out, "Server 'a' created (http://a.example)\n");
  auto fancy =
      RunProcess({FleetBinary(), "--home", home(), "server", "create", "b", "http://b.example"});
  EXPECT_EQ(fancy.out, "\xE2\x9C\x85 Server 'b' created (http://b.example)\n");
}

TEST_F(ServerCliTest, GlobalOptionsAlsoWorkAfterTheSubcommand) {
  ProcessOptions env;
  CleanEnv(env);
  auto result = RunProcess({FleetBinary(), "server", "create", "late", "http://late.example",
                            "--home", home(), "--no-emoji"},
                           env);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(Json({"server", "list", "--json"}).size(), 1u);
}

TEST_F(ServerCliTest, DuplicateNameFailsWithExitOneAndChangesNothing) {
  Ok({"server", "create", "prod", "http://one.example"});
  auto dup = Run({"server", "create", "prod", "http://two.example"});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
  EXPECT_EQ(Json({"server", "show", "prod", "--json"})["url"], "http://one.example");
}

TEST_F(ServerCliTest, InvalidUrlAndNameAreRefusedWithTheReason) {
  auto no_scheme = Run({"server", "create", "x", "n8n.example.com"});
  EXPECT_EQ(no_scheme.exit_code, 1);
  EXPECT_NE(no_scheme.err.find("no scheme"), std::string::npos) << no_scheme.err;
  auto ftp = Run({"server", "create", "x", "ftp://host"});
  EXPECT_NE(ftp.err.find("http or https"), std::string::npos);
  auto slash = Run({"server", "create", "a/b", "http://host"});
  EXPECT_EQ(slash.exit_code, 1);
  EXPECT_NE(slash.err.find("'/'"), std::string::npos);
  EXPECT_EQ(Json({"server", "list", "--json"}).size(), 0u);
}

TEST_F(ServerCliTest, MissingArgumentsAreAUsageError) {
  auto result = Run({"server", "create", "only-name"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("url"), std::string::npos) << result.err;
}

TEST_F(ServerCliTest, UpdateChangesOnlyWhatIsGiven) {
  Ok({"server", "create", "prod", "http://one.example", "--customer", "acme", "--description",
      "d"});
  Ok({"server", "update", "prod", "--url", "https://two.example/", "--skip-tls-verify"});
  auto show = Json({"server", "show", "prod", "--json"});
  EXPECT_EQ(show["url"], "https://two.example");
  EXPECT_EQ(show["customer"], "acme");
  EXPECT_EQ(show["description"], "d");
  EXPECT_EQ(show["skip_tls_verify"], true);
  auto bad = Run({"server", "update", "prod", "--url", "nope"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(Json({"server", "show", "prod", "--json"})["url"], "https://two.example");
  auto missing = Run({"server", "update", "ghost", "--customer", "x"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("ghost"), std::string::npos);
}

TEST_F(ServerCliTest, RemoveRefusesWithoutConfirmWhenStdinIsNotATerminal) {
  Ok({"server", "create", "prod", "http://one.example"});
  auto refused = Run({"server", "remove", "prod"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("--confirm"), std::string::npos) << refused.err;
  EXPECT_EQ(Json({"server", "list", "--json"}).size(), 1u);
  Ok({"server", "remove", "prod", "--confirm"});
  EXPECT_EQ(Json({"server", "list", "--json"}).size(), 0u);
}

TEST_F(ServerCliTest, RemoveWithDeleteKeysDeletesOnlyKeysLinkedToThatServerAlone) {
  Ok({"server", "create", "a", "http://a.example"});
  Ok({"server", "create", "b", "http://b.example"});
  Ok({"apikey", "add", MakeApiKey("only-a", 1700000000), "--name", "only-a", "--server", "a"});
  Ok({"apikey", "add", MakeApiKey("shared", 1700000000), "--name", "shared", "--server", "a"});
  Ok({"server", "link", "shared", "b"});
  auto removed = Json({"server", "remove", "a", "--confirm", "--delete-keys", "--json"});
  EXPECT_EQ(removed["deleted_keys"], nlohmann::json::array({"only-a"}));
  auto keys = Json({"apikey", "list", "--json"});
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["name"], "shared");
  EXPECT_EQ(keys[0]["servers"], nlohmann::json::array({"b"}));
}

TEST_F(ServerCliTest, RemovePreservesKeysByDefault) {
  Ok({"server", "create", "a", "http://a.example"});
  Ok({"apikey", "add", MakeApiKey("k", 1700000000), "--name", "k", "--server", "a"});
  Ok({"server", "remove", "a", "--confirm"});
  auto keys = Json({"apikey", "list", "--json"});
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["servers"].size(), 0u);
}

TEST_F(ServerCliTest, LinkUnlinkAndKeysKeepOnePrimaryPerServer) {
  Ok({"server", "create", "prod", "http://one.example"});
  Ok({"apikey", "add", MakeApiKey("k1", 1700000000), "--name", "k1"});
  Ok({"apikey", "add", MakeApiKey("k2", 1700000000), "--name", "k2"});
  Ok({"server", "link", "k1", "prod", "--primary"});
  Ok({"server", "link", "k2", "prod", "--primary"});
  auto keys = Json({"server", "keys", "prod", "--json"});
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["name"], "k2");
  EXPECT_EQ(keys[0]["primary"], true);
  EXPECT_EQ(keys[1]["primary"], false);
  auto table = Ok({"server", "keys", "prod"});
  EXPECT_NE(table.out.find("k1"), std::string::npos);
  Ok({"server", "unlink", "k2", "prod"});
  EXPECT_EQ(Json({"server", "keys", "prod", "--json"}).size(), 1u);
  auto again = Run({"server", "unlink", "k2", "prod"});
  EXPECT_EQ(again.exit_code, 1);
  auto ghost = Run({"server", "link", "ghost", "prod"});
  EXPECT_EQ(ghost.exit_code, 1);
  EXPECT_NE(ghost.err.find("ghost"), std::string::npos);
}

}  // namespace
}  // namespace fleet::testing
