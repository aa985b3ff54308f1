#pragma once
// SHA-256 (FIPS 180-4) through OpenSSL's libcrypto (EVP, which uses the CPU's SHA instructions):
// dataset checksums that `sha256sum` can verify. No OpenSSL in this header.
#include <cstddef>
#include <cstdint>
#include <string>

namespace fer {

/// Incremental SHA-256: feed bytes with update() in pieces of any size, read the digest with
/// hex_digest(), which does not consume the state (more update() calls may follow).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256& other);
  Sha256& operator=(const Sha256& other);
  void update(const void* data, size_t size);
  /// 64 lowercase hex digits of the bytes fed so far.
  std::string hex_digest() const;
  /// Number of bytes fed so far.
  uint64_t size() const { return total_; }

 private:
  void* ctx_ = nullptr;  ///< an EVP_MD_CTX
  uint64_t total_ = 0;
};

/// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(const std::string& bytes);

/// SHA-256 of a file's content, read in 1 MiB chunks (constant memory for any size). Stores the
/// file size in `*bytes` when given. Throws IoError naming the file when it cannot be read.
std::string sha256_file(const std::string& path, uint64_t* bytes = nullptr);

}  // namespace fer
