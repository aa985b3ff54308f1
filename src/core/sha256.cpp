#include "fer/core/sha256.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "fer/core/error.hpp"

namespace fer {
namespace {

constexpr size_t kChunk = size_t{1} << 20;  // file read size

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

EVP_MD_CTX* ctx_of(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  FER_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_of(ctx_), EVP_sha256(), nullptr) == 1, IoError,
            "OpenSSL: cannot start a SHA-256 digest");
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_of(ctx_)); }

Sha256::Sha256(const Sha256& other) : ctx_(EVP_MD_CTX_new()), total_(other.total_) {
  FER_CHECK(ctx_ != nullptr && EVP_MD_CTX_copy_ex(ctx_of(ctx_), ctx_of(other.ctx_)) == 1, IoError,
            "OpenSSL: cannot copy a SHA-256 digest");
}

Sha256& Sha256::operator=(const Sha256& other) {
  if (this != &other) {
    FER_CHECK(EVP_MD_CTX_copy_ex(ctx_of(ctx_), ctx_of(other.ctx_)) == 1, IoError,
              "OpenSSL: cannot copy a SHA-256 digest");
    total_ = other.total_;
  }
  return *this;
}

void Sha256::update(const void* data, size_t size) {
  if (size == 0) return;
  FER_CHECK(EVP_DigestUpdate(ctx_of(ctx_), data, size) == 1, IoError, "OpenSSL: SHA-256 update failed");
  total_ += size;
}

std::string Sha256::hex_digest() const {
  Sha256 h = *this;  // the digest finishes a copy, so the caller can keep updating
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  FER_CHECK(EVP_DigestFinal_ex(ctx_of(h.ctx_), md, &len) == 1 && len == 32, IoError,
            "OpenSSL: SHA-256 final failed");
  static const char* const kHex = "0123456789abcdef";
  std::string out(64, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0xf];
  }
  return out;
}

std::string sha256_hex(const std::string& bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

std::string sha256_file(const std::string& path, uint64_t* bytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  FER_CHECK(f.fd >= 0, IoError, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  FER_CHECK(::fstat(f.fd, &st) == 0 && !S_ISDIR(st.st_mode), IoError, "{}: cannot read: {}", path,
            S_ISDIR(st.st_mode) ? "is a folder" : std::strerror(errno));
  ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(kChunk);
  Sha256 h;
  while (true) {
    const ssize_t n = ::read(f.fd, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(fmt::format("{}: read failed after {} bytes: {}", path, h.size(), std::strerror(errno)));
    }
    h.update(buf.data(), static_cast<size_t>(n));
  }
  if (bytes != nullptr) *bytes = h.size();
  return h.hex_digest();
}

}  // namespace fer
