#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/io/atomic_file.h"
#include "engine/io/mapped_file.h"
#include "engine/io/safetensors.h"
#include "golden.h"
#include "test_util.h"

namespace chimera {
namespace {

std::string with_header(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  return out + json + data;
}

void expect_error(const std::string& bytes, const std::string& fragment) {
  try {
    parse_safetensors(bytes, "case.safetensors");
    FAIL() << "no error, expected one mentioning '" << fragment << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("case.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }
}

TEST(Safetensors, RoundTripKeepsEveryDtypeShapeAndMetadata) {
  Tensor f = Tensor::from_vector({2, 3}, {1, -2, 3.5f, 0, 5, -6});
  Tensor d({2}, DType::f64);
  d.data<double>()[0] = 1e-300;
  d.data<double>()[1] = -2.25;
  Tensor i8({3}, DType::i8);
  i8.data<int8_t>()[0] = -127;
  i8.data<int8_t>()[2] = 127;
  Tensor i64({}, DType::i64);
  i64.data<int64_t>()[0] = int64_t(1) << 40;
  Tensor i32({0, 4}, DType::i32);
  const std::map<std::string, Tensor> in{{"f", f}, {"d", d}, {"i8", i8}, {"i64", i64}, {"e", i32}};
  const Safetensors out = parse_safetensors(serialize_safetensors(in, {{"k", "v"}}), "mem");
  ASSERT_EQ(out.tensors.size(), in.size());
  for (const auto& [name, t] : in) {
    const Tensor& u = out.at(name);
    EXPECT_EQ(u.dtype(), t.dtype()) << name;
    EXPECT_EQ(u.shape(), t.shape()) << name;
    EXPECT_EQ(0, std::memcmp(u.raw(), t.raw(), t.nbytes())) << name;
  }
  EXPECT_EQ(out.metadata.at("k"), "v");
  EXPECT_THROW(out.at("missing"), Error);
}

TEST(Safetensors, WriteIsAtomicAndReadable) {
  test::TempDir temp("chimera_st_test");
  const auto& dir = temp.path;
  const std::string path = (dir / "ckpt.safetensors").string();
  write_safetensors(path, {{"w", Tensor::full({4}, 2.0f)}});
  EXPECT_EQ(read_safetensors(path).at("w").f32()[3], 2.0f);
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename(), "ckpt.safetensors") << "temporary file left behind";
  EXPECT_THROW(write_safetensors((dir / "no/such/dir/x.safetensors").string(), {}), Error);
}

TEST(MappedFile, HoldsTheFileAsItIsAndNamesWhatIsWrong) {
  test::TempDir temp("chimera_map_test");
  const std::string bytes("GGUF\0\x01\xff tail", 11);
  test::write_bytes(temp.path / "f.bin", bytes);
  const MappedFile m = map_file((temp.path / "f.bin").string());
  EXPECT_EQ(std::string(m.bytes()), bytes);
  EXPECT_EQ(read_file((temp.path / "f.bin").string()), bytes);
  test::write_bytes(temp.path / "empty.bin", "");
  const MappedFile e = map_file((temp.path / "empty.bin").string());
  EXPECT_EQ(e.size, 0u);
  EXPECT_NE(e.data, nullptr);
  EXPECT_EQ(read_file((temp.path / "empty.bin").string()), "");
  const std::string missing = test::error_of([&] { map_file((temp.path / "none.bin").string()); });
  EXPECT_NE(missing.find("none.bin"), std::string::npos) << missing;
  EXPECT_NE(missing.find("No such file"), std::string::npos) << missing;
  const std::string folder = test::error_of([&] { map_file(temp.path.string()); });
  EXPECT_NE(folder.find("not a regular file (a folder)"), std::string::npos) << folder;
}

// A file's tensors share its mapping where their data is aligned to their element size (here
// "f" at byte 0 and "g" right after it), are copied where not ("h" starts 3 bytes past a
// multiple of 4), keep the mapping alive after the Safetensors is gone, and writes to them
// never reach the file.
TEST(Safetensors, FileTensorsShareTheMappedFileCopyOnWrite) {
  test::TempDir temp("chimera_st_map_test");
  const std::string path = (temp.path / "m.safetensors").string();
  Tensor g({3}, DType::i8);
  g.data<int8_t>()[0] = -5, g.data<int8_t>()[1] = 7, g.data<int8_t>()[2] = 127;
  const std::map<std::string, Tensor> in{{"f", Tensor::from_vector({4}, {1, -2, 3, 4.5f})},
                                         {"g", g},
                                         {"h", Tensor::from_vector({2}, {-8, 0.25f})}};
  write_safetensors(path, in);
  const std::string on_disk = read_file(path);
  Tensor f, h;
  {
    const Safetensors st = read_safetensors(path);
    for (const auto& [name, t] : in) {
      EXPECT_EQ(st.at(name).shape(), t.shape()) << name;
      EXPECT_EQ(0, std::memcmp(st.at(name).raw(), t.raw(), t.nbytes())) << name;
    }
    f = st.at("f"), h = st.at("h");
    // Adjacent in the file, adjacent in memory: one mapping, no copies.
    EXPECT_EQ(static_cast<const char*>(st.at("g").raw()) - static_cast<const char*>(f.raw()), 16);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(h.raw()) % 64, 0u) << "h was to be copied";
  }
  EXPECT_EQ(f.f32()[3], 4.5f);  // the mapping outlives the Safetensors
  EXPECT_EQ(h.f32()[0], -8.0f);
  f.f32()[0] = 99.0f;
  EXPECT_EQ(read_file(path), on_disk);
  EXPECT_EQ(read_safetensors(path).at("f").f32()[0], 1.0f);
}

TEST(Safetensors, TruncatedBeforeHeaderLength) { expect_error("abc", "truncated"); }

TEST(Safetensors, TruncatedHeader) {
  std::string b = with_header("{\"a\":{}}", "");
  expect_error(b.substr(0, b.size() - 3), "truncated");
}

TEST(Safetensors, TruncatedData) {
  const std::string good = serialize_safetensors({{"w", Tensor::full({8}, 1.0f)}});
  expect_error(good.substr(0, good.size() - 4), "out of range");
}

TEST(Safetensors, BadHeaderJson) { expect_error(with_header("{\"w\": [1, 2", ""), "not valid JSON"); }

TEST(Safetensors, HeaderNotAnObject) { expect_error(with_header("[1,2]", ""), "must be an object"); }

TEST(Safetensors, UnknownDtype) {
  expect_error(with_header(R"({"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})", "xx"),
               "unsupported dtype 'BF16'");
}

TEST(Safetensors, OffsetsOutOfRange) {
  expect_error(with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234"),
               "out of range");
}

TEST(Safetensors, OffsetsDisagreeWithShape) {
  expect_error(with_header(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                           "12345678"),
               "needs 12 bytes");
}

TEST(Safetensors, OverlappingTensors) {
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                           std::string(12, '\0')),
               "overlap");
}

TEST(Safetensors, MissingFieldsAndBadShape) {
  expect_error(with_header(R"({"w":{"dtype":"F32","shape":[1]}})", ""), "data_offsets");
  expect_error(with_header(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", ""),
               "non-negative");
}

TEST(Safetensors, MissingFileNamesThePath) {
  try {
    read_safetensors("/nonexistent/chimera.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/chimera.safetensors"), std::string::npos);
  }
}

TEST(Safetensors, ReadsEveryGoldenFile) {
  // The reference wrote these with the Python safetensors library: our reader must take them.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::golden_dir())) {
    if (entry.path().extension() != ".safetensors") continue;
    const Safetensors st = read_safetensors(entry.path().string());
    EXPECT_FALSE(st.tensors.empty()) << entry.path();
    EXPECT_TRUE(st.metadata.count("params")) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 36);
}

}  // namespace
}  // namespace chimera
