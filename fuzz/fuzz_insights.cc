// The Insights summary parser (n8n/insights.h) on any answer an instance can send: the input is
// "STATUS\nheaders...\n\nBODY" (fuzz_util.h). Checks the promises of ParseInsightsSummary.

#include <cmath>

#include "fuzz_util.h"
#include "n8n/insights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleet;
  n8n::HttpResponse response = fuzz::ResponseFromText(fuzz::AsText(data, size));
  auto summary = n8n::ParseInsightsSummary(response, "https://n8n.example.com");
  if (summary) {
    FUZZ_CHECK(response.status == 200);
    FUZZ_CHECK(summary->total >= 0 && summary->failed >= 0 && summary->failed <= summary->total);
    FUZZ_CHECK(std::isfinite(summary->time_saved_minutes) && summary->time_saved_minutes >= 0);
    FUZZ_CHECK(std::isfinite(summary->average_run_time_ms) && summary->average_run_time_ms >= 0);
    (void)summary->total_run_time_ms();
  } else {
    FUZZ_CHECK(!summary.error().message.empty());
    if (n8n::IsBeyondHistory(summary.error())) FUZZ_CHECK(response.status == 403);
  }
  return 0;
}
