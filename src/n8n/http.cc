#include "n8n/http.h"

namespace fleet::n8n {

std::string HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

}  // namespace fleet::n8n
