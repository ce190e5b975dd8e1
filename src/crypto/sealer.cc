#include "crypto/sealer.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "core/text.h"

namespace fleet::crypto {
namespace {

constexpr unsigned char kSealVersion = 0x01;
constexpr size_t kHeaderBytes = 1 + crypto_secretbox_NONCEBYTES;

static_assert(kMasterKeyBytes == crypto_secretbox_KEYBYTES);

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      std::fputs("n8n-fleet: libsodium failed to initialise\n", stderr);
      std::abort();
    }
  });
}

// Overwrites a string's bytes before it is released.
void Wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
  secret.clear();
}

std::optional<std::string> DecodeHex(std::string_view text) {
  std::string out(text.size() / 2, '\0');
  size_t out_len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                     text.size(), nullptr, &out_len, &end) != 0 ||
      end != text.data() + text.size()) {
    Wipe(out);
    return std::nullopt;
  }
  out.resize(out_len);
  return out;
}

// Standard base64, with or without padding.
std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING}) {
    size_t out_len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &out_len, &end, variant) == 0 &&
        end == text.data() + text.size()) {
      out.resize(out_len);
      return out;
    }
  }
  Wipe(out);
  return std::nullopt;
}

std::string EncodeBase64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Result<MasterKey> KeyFromEnv(const char* env_value) {
  std::string_view value = Trim(env_value);
  static constexpr char kExpected[] =
      "N8N_FLEET_MASTER_KEY must hold 32 bytes as standard base64 (44 characters, e.g. from "
      "`openssl rand -base64 32`) or as 64 hex digits";
  std::optional<std::string> bytes;
  if (value.size() == 2 * kMasterKeyBytes) bytes = DecodeHex(value);
  if (!bytes) bytes = DecodeBase64(value);
  if (!bytes || bytes->size() != kMasterKeyBytes) {
    if (bytes) Wipe(*bytes);
    return MakeError(ErrorCode::kInvalidArgument,
                     value.empty() ? std::string(kExpected) + "; it is set but empty" : kExpected);
  }
  return MasterKey{std::move(*bytes), "env N8N_FLEET_MASTER_KEY"};
}

// Reads an existing key file, refusing one that others can read.
Result<MasterKey> ReadKeyFile(int raw_fd, const std::string& path) {
  Fd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return MakeError(ErrorCode::kIo,
                     "cannot stat master key file " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return MakeError(ErrorCode::kCorrupt, "master key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return MakeError(ErrorCode::kPermissionDenied, "master key file " + path +
                                                       " is accessible by group or others (mode " +
                                                       mode + "): run `chmod 600 " + path + "`");
  }
  std::string text(static_cast<size_t>(std::min<off_t>(st.st_size, 4096)), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Wipe(text);
      return MakeError(ErrorCode::kIo,
                       "cannot read master key file " + path + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  auto bytes = DecodeBase64(Trim(text));
  Wipe(text);
  if (!bytes || bytes->size() != kMasterKeyBytes) {
    if (bytes) Wipe(*bytes);
    return MakeError(ErrorCode::kCorrupt,
                     "master key file " + path +
                         " does not hold a base64-encoded 32-byte key: restore it from your "
                         "backup (secrets sealed with the old key cannot be opened without it)");
  }
  return MasterKey{std::move(*bytes), "file " + path};
}

// Writes a fresh key to a private temporary file, then links it into place: the key file
// appears complete or not at all, and an existing one is never replaced.
Result<MasterKey> CreateKeyFile(const std::string& path) {
  std::string suffix = RandomBytes(8);
  char hex[2 * 8 + 1];
  sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(suffix.data()),
                 suffix.size());
  std::string tmp = path + ".tmp-" + hex;
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    return MakeError(ErrorCode::kIo,
                     "cannot create master key file " + path + ": " + ErrnoText(errno));
  }
  std::string bytes = RandomBytes(kMasterKeyBytes);
  std::string text = EncodeBase64(bytes) + "\n";
  bool written = ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 ::fsync(fd.get()) == 0;
  int write_errno = errno;
  Wipe(text);
  ::close(fd.Release());
  if (!written) {
    ::unlink(tmp.c_str());
    Wipe(bytes);
    return MakeError(ErrorCode::kIo,
                     "cannot write master key file " + path + ": " + ErrnoText(write_errno));
  }
  int linked = ::link(tmp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    Wipe(bytes);
    if (link_errno == EEXIST) {  // another process created it first: use theirs
      int existing = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (existing >= 0) return ReadKeyFile(existing, path);
    }
    return MakeError(ErrorCode::kIo,
                     "cannot create master key file " + path + ": " + ErrnoText(link_errno));
  }
  return MasterKey{std::move(bytes), "generated " + path};
}

}  // namespace

Result<Sealer> Sealer::FromKey(std::string_view key) {
  if (key.size() != kMasterKeyBytes) {
    return MakeError(ErrorCode::kInvalidArgument, "a master key must be exactly " +
                                                      std::to_string(kMasterKeyBytes) +
                                                      " bytes, got " + std::to_string(key.size()));
  }
  EnsureSodium();
  return Sealer(std::string(key));
}

Sealer::~Sealer() { Wipe(key_); }

std::string Sealer::Seal(std::string_view plaintext) const {
  std::string sealed(kHeaderBytes + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  out[0] = kSealVersion;
  unsigned char* nonce = out + 1;
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out + kHeaderBytes,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, reinterpret_cast<const unsigned char*>(key_.data()));
  return sealed;
}

Result<std::string> Sealer::Open(std::string_view sealed) const {
  if (sealed.size() < kHeaderBytes + crypto_secretbox_MACBYTES) {
    return MakeError(ErrorCode::kCorrupt,
                     "sealed secret is truncated (" + std::to_string(sealed.size()) + " bytes)");
  }
  auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  if (in[0] != kSealVersion) {
    return MakeError(ErrorCode::kCorrupt, "sealed secret has unknown format version " +
                                              std::to_string(in[0]) +
                                              ": was it written by a newer n8n-fleet?");
  }
  std::string plaintext(sealed.size() - kHeaderBytes - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plaintext.data()),
                                 in + kHeaderBytes, sealed.size() - kHeaderBytes, in + 1,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "a sealed secret could not be opened: the master key is not the one it was "
                     "sealed with (check N8N_FLEET_MASTER_KEY or master.key), or the data was "
                     "altered");
  }
  return plaintext;
}

Result<MasterKey> LoadMasterKey(const std::string& home, const char* env_value, bool create) {
  EnsureSodium();
  if (env_value != nullptr) return KeyFromEnv(env_value);
  std::string path = home + "/master.key";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) return ReadKeyFile(fd, path);
  if (errno != ENOENT) {
    return MakeError(errno == EACCES ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
                     "cannot open master key file " + path + ": " + ErrnoText(errno));
  }
  if (!create) {
    return MakeError(ErrorCode::kNotFound, "no master key: " + path +
                                               " does not exist and N8N_FLEET_MASTER_KEY is "
                                               "not set");
  }
  return CreateKeyFile(path);
}

std::string RandomBytes(size_t count) {
  EnsureSodium();
  std::string out(count, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string Sha256Hex(std::string_view data) {
  EnsureSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(sizeof(digest) * 2);
  for (unsigned char byte : digest) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  return out;
}

}  // namespace fleet::crypto
