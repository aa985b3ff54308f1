#pragma once
// Seed derivation: one run seed, independent streams for split, shuffle, augmentation and init.
// Per-sample seeds come from (seed, stream, epoch, index) so results never depend on threads.
#include <cstdint>
#include <limits>
#include <random>

namespace fer {

/// Named random streams derived from the run seed.
enum class Stream : uint64_t {
  kSplit = 1,
  kShuffle = 2,
  kAugment = 3,
  kInit = 4,
  kSynth = 5,
  kValCarve = 6,
  kBootstrap = 7
};

/// splitmix64 finaliser: a well-mixed 64-bit hash.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Derives an independent seed for `stream` and up to two indices (e.g. epoch, sample).
inline uint64_t derive_seed(uint64_t seed, Stream stream, uint64_t a = 0, uint64_t b = 0) {
  return mix64(mix64(mix64(seed ^ mix64(static_cast<uint64_t>(stream))) + a) + b);
}

/// Uniform in [0, n) without modulo bias, the same on every standard library
/// (std::uniform_int_distribution's sequence is not portable). n > 0.
inline uint64_t bounded(std::mt19937_64& rng, uint64_t n) {
  const uint64_t rem = (std::numeric_limits<uint64_t>::max() % n + 1) % n;  // 2^64 mod n
  uint64_t x = rng();
  while (rem != 0 && x >= 0 - rem) x = rng();
  return x % n;
}

}  // namespace fer
