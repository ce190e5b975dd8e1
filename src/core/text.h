#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace fleet {

bool IsValidUtf8(std::string_view text);
std::string_view Trim(std::string_view text);  // ASCII white space at both ends

// Names of servers, keys and tokens: 1-100 characters (UTF-8 code points), valid UTF-8,
// none of '/', '\\', NUL or control characters. `what` names the thing in the message.
Result<void> ValidateName(std::string_view name, std::string_view what);

// "eyJhbG…Y_Yw": the first 6 and last 4 characters; shorter secrets become "****".
std::string MaskSecret(std::string_view secret);

// Display width of a UTF-8 string in terminal columns (wide East Asian and emoji count 2).
size_t DisplayWidth(std::string_view text);

}  // namespace fleet
