#include "fer/core/sha256.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/data/checksums.hpp"
#include "test_util.hpp"

namespace {

// FIPS 180-4 / NIST example vectors.
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kTwoBlock = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* kMillionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

// Bytes 0..255 repeated, long enough to cross several blocks and a padding boundary.
std::string test_bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 256) & 0xff);
  return s;
}

}  // namespace

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(fer::sha256_hex(""), kEmpty);
  EXPECT_EQ(fer::sha256_hex("abc"), kAbc);
  EXPECT_EQ(fer::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), kTwoBlock);
  EXPECT_EQ(fer::sha256_hex(std::string(1000000, 'a')), kMillionA);
}

TEST(Sha256, IncrementalInOddPiecesEqualsOneShot) {
  for (const size_t n : std::vector<size_t>{0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 4099}) {
    const std::string data = test_bytes(n);
    fer::Sha256 h;
    size_t pos = 0;
    for (size_t piece = 1; pos < data.size(); piece = piece * 3 % 71 + 1) {
      const size_t take = std::min(piece, data.size() - pos);
      h.update(data.data() + pos, take);
      pos += take;
    }
    EXPECT_EQ(h.hex_digest(), fer::sha256_hex(data)) << n << " bytes";
    EXPECT_EQ(h.size(), n);
  }
  // hex_digest does not consume the state: more input may follow.
  fer::Sha256 h;
  h.update("ab", 2);
  EXPECT_EQ(h.hex_digest(), fer::sha256_hex("ab"));
  h.update("c", 1);
  EXPECT_EQ(h.hex_digest(), kAbc);
}

TEST(Sha256, FileEqualsContentDigest) {
  fer::test::TempDir dir;
  const std::string data = test_bytes((size_t{1} << 20) + 12345);  // more than one 1 MiB chunk
  const std::string p = dir.str("blob.bin");
  fer::write_file_atomic(p, data);
  uint64_t bytes = 0;
  EXPECT_EQ(fer::sha256_file(p, &bytes), fer::sha256_hex(data));
  EXPECT_EQ(bytes, data.size());
  fer::write_file_atomic(dir.str("empty"), "");
  EXPECT_EQ(fer::sha256_file(dir.str("empty")), kEmpty);
}

TEST(Sha256, MissingFileOrFolderThrowsIoErrorNamingIt) {
  fer::test::TempDir dir;
  const std::string missing = dir.str("nope.png");
  EXPECT_HAS(fer::test::error_of<fer::IoError>([&] { fer::sha256_file(missing); }), missing);
  EXPECT_HAS(fer::test::error_of<fer::IoError>([&] { fer::sha256_file(dir.str()); }), dir.str());
}

TEST(Sha256, MatchesSha256sumWhenInstalled) {
  if (std::system("command -v sha256sum >/dev/null 2>&1") != 0) GTEST_SKIP() << "sha256sum is not installed";
  fer::test::TempDir dir;
  const std::string p = dir.str("x.bin");
  fer::write_file_atomic(p, test_bytes(70000));
  const std::string out = dir.str("x.sum");
  ASSERT_EQ(std::system(("sha256sum '" + p + "' > '" + out + "'").c_str()), 0);
  EXPECT_EQ(fer::read_file(out).substr(0, 64), fer::sha256_file(p));
}

TEST(Checksums, ParallelResultsInInputOrder) {
  fer::test::TempDir dir;
  std::vector<std::string> files;
  for (int i = 0; i < 7; ++i) {
    files.push_back(dir.str("f" + std::to_string(6 - i)));  // not sorted: order must be kept
    fer::write_file_atomic(files.back(), test_bytes(static_cast<size_t>(i) * 1000));
  }
  const auto one = fer::data::checksum_files(files, 1);
  const auto three = fer::data::checksum_files(files, 3);
  ASSERT_EQ(one.size(), files.size());
  ASSERT_EQ(three.size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(one[i].path, files[i]);
    EXPECT_EQ(one[i].bytes, i * 1000);
    EXPECT_EQ(one[i].sha256, fer::sha256_hex(test_bytes(i * 1000)));
    EXPECT_EQ(three[i].path, one[i].path);
    EXPECT_EQ(three[i].bytes, one[i].bytes);
    EXPECT_EQ(three[i].sha256, one[i].sha256);
  }
  EXPECT_EQ(fer::data::combined_digest(one), fer::data::combined_digest(three));
  EXPECT_TRUE(fer::data::checksum_files({}, 0).empty());

  files.insert(files.begin() + 3, dir.str("gone.png"));
  EXPECT_HAS(fer::test::error_of<fer::IoError>([&] { fer::data::checksum_files(files, 3); }), "gone.png");
}

TEST(Checksums, TextIsSha256sumFormat) {
  const std::vector<fer::data::FileChecksum> sums = {{"data/a.png", 3, kAbc}, {"b c.png", 0, kEmpty}};
  EXPECT_EQ(fer::data::checksums_text(sums), std::string(kAbc) + "  data/a.png\n" + kEmpty + "  b c.png\n");
  EXPECT_EQ(fer::data::combined_digest(sums), fer::sha256_hex(fer::data::checksums_text(sums)));
  EXPECT_EQ(fer::data::checksums_text({{"a\\b\nc", 0, kEmpty}}),
            std::string("\\") + kEmpty + "  a\\\\b\\nc\n");
  EXPECT_EQ(fer::data::checksums_text({}), "");
}

TEST(Checksums, VerifiedBySha256sumWhenInstalled) {
  if (std::system("command -v sha256sum >/dev/null 2>&1") != 0) GTEST_SKIP() << "sha256sum is not installed";
  fer::test::TempDir dir;
  const std::vector<std::string> files = {dir.str("a.png"), dir.str("with space.png")};
  for (const auto& f : files) fer::write_file_atomic(f, f);
  fer::write_file_atomic(dir.str("sums"), fer::data::checksums_text(fer::data::checksum_files(files, 2)));
  EXPECT_EQ(std::system(("sha256sum --quiet -c '" + dir.str("sums") + "'").c_str()), 0);
  fer::write_file_atomic(files[1], "changed");
  EXPECT_NE(std::system(("sha256sum --quiet -c '" + dir.str("sums") + "' >/dev/null 2>&1").c_str()), 0);
}

TEST(Checksums, DatasetFilesFromSourceAndSamples) {
  fer::test::TempDir dir;
  fer::write_file_atomic(dir.str("data.h5"), "x");
  fer::data::Dataset h5;
  h5.format = "ck_plus_h5";
  h5.source = dir.str("data.h5");
  h5.samples.resize(3);  // images in memory: no paths
  EXPECT_EQ(fer::data::dataset_files(h5), std::vector<std::string>{dir.str("data.h5")});

  fer::data::Dataset folders;
  folders.format = "paired_folder";
  folders.source = dir.str();  // a folder, not a file
  fer::data::Sample s;
  s.path = "r/vis/b.png";
  s.modality_paths = {"r/vis/b.png", "r/ir/b.png"};
  folders.samples.push_back(s);
  s.path = "r/vis/a.png";
  s.modality_paths = {"r/vis/a.png", "r/ir/a.png"};
  folders.samples.push_back(s);
  s.modality_paths.clear();
  folders.samples.push_back(s);  // a duplicate path
  const std::vector<std::string> want = {"r/ir/a.png", "r/ir/b.png", "r/vis/a.png", "r/vis/b.png"};
  EXPECT_EQ(fer::data::dataset_files(folders), want);

  // An aligned image folder: its fer_align.json is read by the run too.
  fer::write_file_atomic(dir.str("fer_align.json"), "{}");
  fer::data::Dataset aligned = folders;
  aligned.format = "image_folder";
  std::vector<std::string> want_aligned = want;
  want_aligned.push_back((dir.path() / "fer_align.json").string());
  std::sort(want_aligned.begin(), want_aligned.end());
  EXPECT_EQ(fer::data::dataset_files(aligned), want_aligned);
  EXPECT_EQ(fer::data::dataset_files(folders), want);  // only image_folder reads it
}
