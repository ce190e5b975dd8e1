#include "workflows/local_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/sealer.h"
#include "n8n/workflows.h"

namespace fleet::workflows {
namespace {

using Json = nlohmann::json;

// Fields n8n keeps about a workflow rather than in it: they change on every save, activation or
// share, and push never sends them.
constexpr std::array<const char*, 10> kBookkeeping = {
    "createdAt",      "updatedAt",    "versionId", "activeVersionId", "activeVersion",
    "versionCounter", "triggerCount", "shared",    "active",          "isArchived"};

Error FileError(ErrorCode code, const std::string& path, const std::string& what) {
  return Error{code, "workflow file " + path + ": " + what};
}

}  // namespace

std::string AbsolutePath(const std::string& path) {
  std::error_code ignored;
  return std::filesystem::absolute(path, ignored).lexically_normal().string();
}

Result<WorkflowFile> ReadWorkflowFile(const std::string& path) {
  WorkflowFile file;
  file.path = AbsolutePath(path);
  std::error_code error;
  if (std::filesystem::is_directory(file.path, error)) {
    return tl::unexpected(FileError(ErrorCode::kInvalidArgument, file.path, "is a directory"));
  }
  std::ifstream in(file.path, std::ios::binary);
  if (!in) {
    bool exists = std::filesystem::exists(file.path, error);
    return tl::unexpected(FileError(exists ? ErrorCode::kIo : ErrorCode::kNotFound, file.path,
                                    exists ? "cannot be read (permissions?)" : "does not exist"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return tl::unexpected(FileError(ErrorCode::kIo, file.path, "read failed"));
  file.bytes = text.str();
  file.sha256 = crypto::Sha256Hex(file.bytes);
  file.workflow = Json::parse(file.bytes, nullptr, false);
  if (file.workflow.is_discarded()) {
    return tl::unexpected(FileError(ErrorCode::kInvalidArgument, file.path, "is not valid JSON"));
  }
  Result<Json> writable = n8n::WritableWorkflow(file.workflow);
  if (!writable) {
    return tl::unexpected(
        FileError(ErrorCode::kInvalidArgument, file.path, writable.error().message));
  }
  file.name = (*writable)["name"].get<std::string>();
  return file;
}

Json FileForm(const Json& remote) {
  Json form = remote;
  if (!form.is_object()) return form;
  for (const char* key : kBookkeeping) form.erase(key);
  return form;
}

Result<void> WriteFileAtomically(const std::string& path, std::string_view bytes) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::string hidden = ".";  // piece by piece: GCC 12 -O3 warns falsely on "." + std::string
  hidden += target.filename().string();
  hidden += ".XXXXXX";
  std::string temp_name = (dir / hidden).string();
  int fd = ::mkstemp(temp_name.data());
  if (fd < 0) {
    return MakeError(ErrorCode::kIo, "cannot write " + path + ": creating a file in " +
                                         dir.string() + " failed: " + std::strerror(errno));
  }
  auto fail = [&](const char* step) -> Result<void> {
    int saved = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp_name.c_str());
    return MakeError(ErrorCode::kIo,
                     "cannot write " + path + ": " + step + " failed: " + std::strerror(saved));
  };
  // mkstemp makes 0600; a workflow file is an ordinary file (umask decides, like an editor's).
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) return fail("chmod");
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    fd = -1;
    return fail("close");
  }
  fd = -1;
  if (::rename(temp_name.c_str(), path.c_str()) != 0) return fail("rename");
  return {};
}

}  // namespace fleet::workflows
