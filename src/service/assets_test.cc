#include "service/assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace fleet::service {
namespace {

// The web/ directory of the source tree (a compile definition from src/service/assets.cmake).
const std::string kWebDir = N8N_FLEET_WEB_DIR;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Expected {
  std::string path;
  std::string file;  // relative to web/
  std::string content_type;
};

const std::vector<Expected>& ExpectedAssets() {
  static const std::vector<Expected> kAssets = {
      {"/", "index.html", "text/html; charset=utf-8"},
      {"/assets/app.js", "app.js", "text/javascript; charset=utf-8"},
      {"/assets/app.css", "app.css", "text/css; charset=utf-8"},
      {"/assets/chart.umd.js", "node_modules/chart.js/dist/chart.umd.js",
       "text/javascript; charset=utf-8"},
  };
  return kAssets;
}

TEST(AssetsTest, EmbedsEachWebFileByteForByte) {
  for (const Expected& want : ExpectedAssets()) {
    const Asset* asset = FindAsset(want.path);
    ASSERT_NE(asset, nullptr) << want.path;
    EXPECT_EQ(asset->path, want.path);
    EXPECT_EQ(asset->content_type, want.content_type) << want.path;
    const std::string bytes = ReadFile(kWebDir + "/" + want.file);
    ASSERT_FALSE(bytes.empty()) << want.file;
    EXPECT_EQ(asset->body.size(), bytes.size()) << want.path;
    EXPECT_TRUE(asset->body == bytes) << want.path << " differs from web/" << want.file;
  }
}

TEST(AssetsTest, ServesTheDashboardPageAtRoot) {
  const Asset* page = FindAsset("/");
  ASSERT_NE(page, nullptr);
  EXPECT_TRUE(page->body.starts_with("<!doctype html>"));
  EXPECT_NE(page->body.find("id=\"monthly-chart\""), std::string_view::npos);
  EXPECT_NE(page->body.find("id=\"token-form\""), std::string_view::npos);
}

TEST(AssetsTest, EmbedsThePinnedChartJsVersion) {
  const auto lock = nlohmann::json::parse(ReadFile(kWebDir + "/package-lock.json"));
  const std::string version = lock["packages"]["node_modules/chart.js"]["version"];
  ASSERT_TRUE(version.starts_with("4.")) << version;
  EXPECT_EQ(lock["packages"][""]["dependencies"]["chart.js"], version) << "pin an exact version";

  const Asset* chart = FindAsset("/assets/chart.umd.js");
  ASSERT_NE(chart, nullptr);
  EXPECT_NE(chart->body.substr(0, 200).find("Chart.js v" + version), std::string_view::npos);
  // The UMD build defines window.Chart, which app.js uses.
  EXPECT_NE(chart->body.find("window.Chart="), std::string_view::npos);
}

TEST(AssetsTest, UnknownPathsAreNotFound) {
  for (const char* path : {"", "/index.html", "/assets/", "/assets/app.js?v=1", "/app.js",
                           "/assets/chart.umd.js.map", "/assets/../app.js", "/ASSETS/APP.JS"}) {
    EXPECT_EQ(FindAsset(path), nullptr) << path;
  }
}

// The running service needs no internet: every script and stylesheet the page loads is
// embedded, and no page file refers to another host.
TEST(AssetsTest, PageLoadsOnlyEmbeddedFiles) {
  const std::string page(FindAsset("/")->body);
  const std::regex reference(R"re((?:src|href)="([^"]*)")re");
  int references = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), reference);
       it != std::sregex_iterator(); ++it) {
    const std::string target = (*it)[1];
    EXPECT_NE(FindAsset(target), nullptr) << "index.html refers to " << target;
    ++references;
  }
  EXPECT_EQ(references, 3);  // app.css, chart.umd.js, app.js
  for (const char* path : {"/", "/assets/app.js", "/assets/app.css"}) {
    const std::string_view body = FindAsset(path)->body;
    EXPECT_EQ(body.find("http://"), std::string_view::npos) << path;
    EXPECT_EQ(body.find("https://"), std::string_view::npos) << path;
    EXPECT_EQ(body.find("//cdn"), std::string_view::npos) << path;
  }
}

}  // namespace
}  // namespace fleet::service
