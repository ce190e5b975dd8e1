#include "service/metrics.h"

#include <set>

#include <fmt/format.h>

#include "collector/run.h"

namespace fleet::service {
namespace {

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string Number(double value) { return fmt::format("{}", value); }

void WriteHistogram(std::string& out, std::string_view name, std::string_view labels,
                    const Histogram& histogram) {
  std::string prefix = labels.empty() ? "" : std::string(labels) + ",";
  int64_t cumulative = 0;
  for (size_t i = 0; i < Histogram::kBounds.size(); ++i) {
    cumulative += histogram.buckets[i];
    out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, Number(Histogram::kBounds[i]),
                       cumulative);
  }
  out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, prefix, histogram.count);
  std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out += fmt::format("{}_sum{} {}\n", name, braces, Number(histogram.sum));
  out += fmt::format("{}_count{} {}\n", name, braces, histogram.count);
}

}  // namespace

void Histogram::Observe(double seconds) {
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++buckets[i];
      break;
    }
  }
  ++count;
  sum += seconds;
}

std::string EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::RecordAttempt(const FetchAttempt& attempt) {
  std::lock_guard lock(mu_);
  ++attempts_by_outcome_[attempt.outcome];
  fetch_latency_.Observe(static_cast<double>(attempt.duration_ms) / 1000.0);
}

void Metrics::RecordRun(const CollectionRun& run) {
  std::lock_guard lock(mu_);
  ++runs_by_status_[std::string(RunStatusName(run.status))];
}

void Metrics::AddTokenExchanges(int64_t count) {
  std::lock_guard lock(mu_);
  token_exchanges_ += count;
}

void Metrics::AddWork(int64_t claims, int64_t lost_leases) {
  std::lock_guard lock(mu_);
  work_claims_ += claims;
  work_lost_leases_ += lost_leases;
}

void Metrics::RecordRequest(std::string_view route, int status, std::chrono::microseconds elapsed) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), status}];
  request_latency_[std::string(route)].Observe(static_cast<double>(elapsed.count()) / 1e6);
}

Result<std::pair<int64_t, int64_t>> Metrics::GapGauges(storage::Store& store, int64_t now) {
  {
    std::lock_guard lock(mu_);
    if (gaps_ && now - gaps_at_ < kGapsCacheSeconds && now >= gaps_at_) return *gaps_;
  }
  Day today = DayOf(now);
  auto gaps = collector::FindGaps(store, today - kGapsWindowDays, today - 1);
  if (!gaps) return tl::unexpected(WithContext(gaps.error(), "metrics: finding gaps"));
  std::set<std::string> servers;
  for (const auto& gap : *gaps) servers.insert(gap.server);
  std::pair<int64_t, int64_t> value{static_cast<int64_t>(servers.size()),
                                    static_cast<int64_t>(gaps->size())};
  std::lock_guard lock(mu_);
  gaps_ = value;
  gaps_at_ = now;
  return value;
}

Result<std::string> Metrics::Render(storage::Store& store, int64_t now) {
  auto last = store.LastCollectedAt();
  if (!last) return tl::unexpected(WithContext(last.error(), "metrics: last collections"));
  auto gaps = GapGauges(store, now);
  if (!gaps) return tl::unexpected(gaps.error());

  std::string out;
  std::lock_guard lock(mu_);
  Header(out, "n8n_fleet_collection_runs_total", "counter",
         "Collection runs finished, by final status.");
  for (const auto& [status, count] : runs_by_status_) {
    out += fmt::format("n8n_fleet_collection_runs_total{{status=\"{}\"}} {}\n", EscapeLabel(status),
                       count);
  }
  Header(out, "n8n_fleet_fetch_attempts_total", "counter",
         "Fetches of one (server, day), by outcome.");
  for (const auto& [outcome, count] : attempts_by_outcome_) {
    out += fmt::format("n8n_fleet_fetch_attempts_total{{outcome=\"{}\"}} {}\n",
                       EscapeLabel(outcome), count);
  }
  Header(out, "n8n_fleet_fetch_duration_seconds", "histogram",
         "Time to fetch one (server, day) from its instance.");
  WriteHistogram(out, "n8n_fleet_fetch_duration_seconds", "", fetch_latency_);
  Header(out, "n8n_fleet_token_exchanges_total", "counter",
         "Token exchanges performed with instances.");
  out += fmt::format("n8n_fleet_token_exchanges_total {}\n", token_exchanges_);
  Header(out, "n8n_fleet_work_claims_total", "counter",
         "Servers this service claimed from the work queue.");
  out += fmt::format("n8n_fleet_work_claims_total {}\n", work_claims_);
  Header(out, "n8n_fleet_work_lost_leases_total", "counter",
         "Servers this service finished after another service had claimed them again.");
  out += fmt::format("n8n_fleet_work_lost_leases_total {}\n", work_lost_leases_);
  Header(out, "n8n_fleet_last_collection_timestamp_seconds", "gauge",
         "Unix time of the newest collected (pulled) usage row, per server.");
  for (const auto& [server, at] : *last) {
    out += fmt::format("n8n_fleet_last_collection_timestamp_seconds{{server=\"{}\"}} {}\n",
                       EscapeLabel(server), at);
  }
  Header(out, "n8n_fleet_servers_with_gaps", "gauge",
         "Active servers missing at least one day of the last 30 (up to yesterday).");
  out += fmt::format("n8n_fleet_servers_with_gaps {}\n", gaps->first);
  Header(out, "n8n_fleet_gap_days", "gauge",
         "Missing (server, day) pairs over the last 30 days (up to yesterday).");
  out += fmt::format("n8n_fleet_gap_days {}\n", gaps->second);
  Header(out, "n8n_fleet_http_requests_total", "counter",
         "HTTP API requests, by route pattern and status.");
  for (const auto& [key, count] : requests_) {
    out += fmt::format("n8n_fleet_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                       EscapeLabel(key.first), key.second, count);
  }
  Header(out, "n8n_fleet_http_request_duration_seconds", "histogram",
         "HTTP API request latency, by route pattern.");
  for (const auto& [route, histogram] : request_latency_) {
    WriteHistogram(out, "n8n_fleet_http_request_duration_seconds",
                   fmt::format("route=\"{}\"", EscapeLabel(route)), histogram);
  }
  return out;
}

}  // namespace fleet::service
