#include "testing/http_wire.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/url.h"

namespace fleet::testing::wire {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool HasToken(std::string_view list, std::string_view token) {
  std::string lower = Lower(list);
  std::string_view rest = lower;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    if (Trim(rest.substr(0, comma)) == token) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    default:
      return "Status";
  }
}

ParseResult Bad(int status) { return {ParseStatus::kBad, 0, status, false}; }

}  // namespace

std::string_view Request::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

ParseResult ParseRequest(std::string_view buffer, Request& request) {
  size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    return buffer.size() > kMaxHeaderBytes ? Bad(431) : ParseResult{};
  }
  if (head_end > kMaxHeaderBytes) return Bad(431);
  std::string_view head = buffer.substr(0, head_end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1) return Bad(400);
  std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return Bad(400);
  request = Request{};
  request.method = std::string(line.substr(0, sp1));
  request.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);

  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    size_t end = rest.find("\r\n");
    std::string_view header = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 2);
    size_t colon = header.find(':');
    if (colon == std::string_view::npos || colon == 0) return Bad(400);
    request.headers.emplace_back(Lower(header.substr(0, colon)),
                                 std::string(Trim(header.substr(colon + 1))));
  }
  if (!request.Header("transfer-encoding").empty()) return Bad(501);
  size_t length = 0;
  std::string_view length_text = request.Header("content-length");
  if (!length_text.empty()) {
    auto [ptr, ec] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (ec != std::errc() || ptr != length_text.data() + length_text.size()) return Bad(400);
    if (length > kMaxBodyBytes) return Bad(413);
  }
  std::string_view connection = request.Header("connection");
  request.keep_alive =
      version == "HTTP/1.1" ? !HasToken(connection, "close") : HasToken(connection, "keep-alive");
  size_t body_start = head_end + 4;
  if (buffer.size() - body_start < length) {
    ParseResult incomplete;
    incomplete.wants_continue = HasToken(request.Header("expect"), "100-continue");
    return incomplete;
  }
  request.body = std::string(buffer.substr(body_start, length));
  return {ParseStatus::kComplete, body_start + length, 0, false};
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    size_t eq = pair.find('=');
    if (FormDecode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : FormDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

void AppendResponse(std::string& out, int status, std::string_view content_type,
                    std::string_view body, bool keep_alive, std::string_view extra_headers) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += Reason(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  out += body;
}

}  // namespace fleet::testing::wire
