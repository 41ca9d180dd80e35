// Inputs found by fuzzing (tests/fuzz/regressions/, from ../shared/fuzz-finds) and one like each
// per format: every claim of a size is checked against the bytes before anything is allocated
// or decoded, and the error names the file and what was wrong. The fuzz targets replay the same
// files (ctest fuzz_*.Replay); these tests pin the messages.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "harness/experiments/config.h"
#include "model/models/model_file.h"
#include "model/quant/packed_ternary.h"
#include "test_util.h"
#include "train/data/idx_file.h"
#include "train/trainer/checkpoint.h"

namespace chimera {
namespace {

std::string find(const std::string& target, const std::string& name) {
  return std::string(CHIMERA_SOURCE_DIR) + "/tests/fuzz/regressions/" + target + "/" + name;
}

void expect_error(const std::string& e, const std::string& file, const std::string& what) {
  EXPECT_NE(e.find(file), std::string::npos) << e;
  EXPECT_NE(e.find(what), std::string::npos) << e;
}

TEST(FuzzFinds, PackedTensorsClaimingMoreWeightsThanTheirBytesAreRefused) {
  for (const char* name : {"packed-timeout.bin", "packed-64m-claim.bin", "packed-4g-claim.bin"}) {
    const std::string path = find("fuzz_packed", name);
    expect_error(test::error_of([&] { parse_packed(read_file(path), path); }), name,
                 "more than the format allows");
  }
  // The limit is the writer's too: what pack_ternary writes, parse_packed reads back.
  Tensor zeros({512, 512}, DType::i8);  // 262,144 codes, all 0: 4 bytes of rANS
  const std::string e = test::error_of([&] { pack_ternary(zeros, 1.0f, PackFormat::entropy); });
  EXPECT_NE(e.find("store this tensor as i2 or tq1"), std::string::npos) << e;
  Tensor fits({256, 256}, DType::i8);  // 65,536: within the limit even at 0 bits
  const PackedTernary p = pack_ternary(fits, 1.0f, PackFormat::entropy);
  EXPECT_EQ(unpack_codes(parse_packed(serialize_packed(p), "fits")).numel(), 256 * 256);
  // A layer 99.9 % zeros (as sparse as a trained one gets, and more) packs and reads back.
  Tensor sparse({1024, 1024}, DType::i8);
  for (int64_t i = 0; i < sparse.numel(); i += 1000) sparse.data<int8_t>()[i] = i % 2000 ? 1 : -1;
  const PackedTernary sp = pack_ternary(sparse, 1.0f, PackFormat::entropy);
  EXPECT_EQ(unpack_codes(parse_packed(serialize_packed(sp), "sparse")).numel(), 1024 * 1024);
}

TEST(FuzzFinds, ModelFilesAreRefusedBeforeTheyAllocate) {
  const std::string bomb = find("fuzz_model_file", "mf_bomb_1g.chimodel");
  expect_error(test::error_of([&] {
                 for (const auto& [n, t] : read_model_file(bomb).ternary) unpack_codes(t.packed);
               }),
               "mf_bomb_1g.chimodel", "more than the format allows");
  const std::string floats = find("fuzz_model_file", "mf_float_alloc_2g.chimodel");
  expect_error(test::error_of([&] { read_model_file(floats); }), "mf_float_alloc_2g.chimodel",
               "needs 2147483648 bytes of float32, the table gives 0");
  // The CLI says the same (inspect used to run 36 s at 1 GB on the first).
  const test::CliResult cli = test::run_chimera("inspect " + bomb);
  EXPECT_EQ(cli.code, 1);
  EXPECT_NE(cli.out.find("more than the format allows"), std::string::npos) << cli.out;
}

TEST(FuzzFinds, SafetensorsShapesAreCheckedAgainstTheDataAndForOverflow) {
  const std::string alloc = find("fuzz_safetensors", "st_alloc_2g.safetensors");
  expect_error(test::error_of([&] { read_safetensors(alloc); }), "st_alloc_2g.safetensors",
               "needs 2147483648 bytes but data_offsets span 0");
  const std::string overflow = find("fuzz_safetensors", "st_overflow.safetensors");
  expect_error(test::error_of([&] { read_safetensors(overflow); }), "st_overflow.safetensors",
               "more elements than a 64-bit count holds");
  // Checkpoints read through the same parser.
  expect_error(test::error_of([&] { load_checkpoint(overflow); }), "st_overflow.safetensors",
               "more elements than a 64-bit count holds");
  // Element count fine, byte count overflowing: 2^62 f32 values.
  const std::string header = R"({"t":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  bytes += header;
  expect_error(test::error_of([&] { parse_safetensors(bytes, "wide.safetensors"); }),
               "wide.safetensors", "is too large");
}

TEST(FuzzFinds, ShapeElementCountsAreOverflowChecked) {
  EXPECT_EQ(shape_numel({1 << 20, 1 << 20, 1 << 20}), int64_t{1} << 60);
  const std::string e = test::error_of([] { shape_numel({int64_t{1} << 62, 4}); });
  EXPECT_NE(e.find("more elements than a 64-bit count holds"), std::string::npos) << e;
}

TEST(FuzzFinds, IdxDimensionsClaimingMoreThanTheFileAreRefused) {
  // 4 dimensions of 65536: 2^64 bytes claimed, 0 given.
  std::string b = {0, 0, 8, 4};
  for (int d = 0; d < 4; ++d) b += std::string("\x00\x01\x00\x00", 4);
  const std::string e = test::error_of([&] { parse_idx(b, "huge-idx"); });
  EXPECT_NE(e.find("huge-idx"), std::string::npos) << e;
  EXPECT_FALSE(e.empty());
}

TEST(FuzzFinds, ConfigsWithNonTextValuesOrNonScalarKeysFailAtStartUp) {
  const std::string utf8 = find("fuzz_config", "cfg_utf8_logdir_raw.yaml");
  expect_error(test::error_of([&] { load_config(utf8); }), "cfg_utf8_logdir_raw.yaml",
               "key 'log_dir' is not valid UTF-8 text");
  const std::string seqkey = find("fuzz_config", "cfg_seqkey.yaml");
  expect_error(test::error_of([&] { load_config(seqkey); }), "cfg_seqkey.yaml",
               "is not a plain name");
  // The run refuses it before training, not after (it used to train to the end, then fail).
  const test::CliResult cli = test::run_chimera("train-resnet --dataset synthetic --config " + utf8);
  EXPECT_EQ(cli.code, 1);
  EXPECT_EQ(cli.out.find("[resnet_cifar_batch]"), std::string::npos) << cli.out;
  // Arguments go into records too.
  const test::CliResult arg = test::run_chimera("train-lm --steps 1 --run-name \"$(printf '\\214')\"");
  EXPECT_EQ(arg.code, 1);
  EXPECT_NE(arg.out.find("(after '--run-name') is not valid UTF-8 text"), std::string::npos) << arg.out;
}

}  // namespace
}  // namespace chimera
