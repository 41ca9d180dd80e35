// The deployable model file: format round trip, every kind of damage reported as an error,
// inference from packed weights bit-identical to the source model's eval forward (each format,
// each mode), inspection numbers, and export -> inspect -> eval --model through the binary.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/io/atomic_file.h"
#include "engine/kernels/conv2d_i8t.h"
#include "engine/kernels/i2_layout.h"
#include "engine/rng.h"
#include "harness/experiments/inspect_model.h"
#include "engine/io/sha256.h"
#include "model/models/model_file.h"
#include "model/models/resnet20_file.h"
#include "model/quant/pack_tq1.h"
#include "test_util.h"
#include "train/optim/sgd.h"
#include "train/trainer/train_step.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using test::error_of;
using test::TempDir;

struct Variant {
  const char* name;
  ModelMode mode;
  bool first_last_fp32;
  std::optional<double> alpha_override;  // what the target-bits controller would set
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.name;
}

const Variant kVariants[] = {{"fp32_baseline", ModelMode::fp32_baseline, false, std::nullopt},
                             {"strict_bitnet", ModelMode::strict_bitnet, false, std::nullopt},
                             {"chimera", ModelMode::chimera, false, std::nullopt},
                             {"chimera_controlled", ModelMode::chimera, false, 0.9},
                             {"chimera_first_last_fp32", ModelMode::chimera, true, std::nullopt}};

Tensor random_images(int64_t n, int64_t size, uint64_t seed) {
  Tensor x({n, 3, size, size});
  Rng rng(seed);
  rng.fill_normal(x);
  return x;
}

// A ResNet-20 trained for two steps, so weights, BatchNorm statistics, scale_ema and
// forward_step all differ from their initial values.
std::unique_ptr<ChimeraResNet20> trained_model(const Variant& v) {
  ResNet20Options o;
  o.mode = v.mode;
  o.first_last_fp32 = v.first_last_fp32;
  o.layer.warmup_steps = 3;
  Rng rng(11);
  auto model = std::make_unique<ChimeraResNet20>(o, rng);
  Sgd sgd(model->parameters(), SgdOptions{0.05, 0.9});
  const Tensor labels = Tensor::from_vector({4}, {0, 3, 7, 9}).to(DType::i64);
  for (uint64_t step = 0; step < 2; ++step)
    train_step(*model, sgd, random_images(4, 16, 100 + step), labels);
  if (v.alpha_override) model->set_alpha_override(v.alpha_override);
  model->eval();
  return model;
}

Tensor eval_logits(ChimeraResNet20& model, const Tensor& images) {
  NoGradGuard no_grad;
  return model.forward(Var(images)).value();
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

std::string exported_bytes(const Variant& v, PackFormat format) {
  auto model = trained_model(v);
  return serialize_model_file(export_resnet20(*model, format, {{"note", "test"}}));
}

TEST(ModelFile, RoundTripKeepsEveryTensorAndTheDescription) {
  auto model = trained_model(kVariants[2]);
  const ModelFile file = export_resnet20(*model, PackFormat::tq1, {{"note", "hello"}});
  const std::string bytes = serialize_model_file(file);
  const ModelFile back = parse_model_file(bytes, "mem");
  EXPECT_EQ(back.description, file.description);
  EXPECT_EQ(back.description["note"], "hello");
  EXPECT_EQ(back.description["model"]["mode"], "chimera");
  EXPECT_EQ(back.description["pack_format"], "tq1");
  EXPECT_EQ(back.description["engine_version"], CHIMERA_VERSION);
  ASSERT_EQ(back.ternary.size(), 22u);  // every convolution and the classifier
  ASSERT_EQ(back.ternary.size(), model->quantized_layers().size());
  EXPECT_EQ(back.ternary.front().first, "conv1.weight");
  EXPECT_EQ(back.ternary.back().first, "fc.weight");
  for (size_t i = 0; i < file.ternary.size(); ++i) {
    const TernaryTensor &a = file.ternary[i].second, &b = back.ternary[i].second;
    EXPECT_EQ(back.ternary[i].first, file.ternary[i].first);
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.packed.payload, a.packed.payload);
    EXPECT_EQ(b.packed.header.scale, a.packed.header.scale);
    EXPECT_EQ(b.alpha, a.alpha);
    EXPECT_EQ(b.clip, a.clip);
  }
  ASSERT_EQ(back.floats.size(), file.floats.size());
  for (size_t i = 0; i < file.floats.size(); ++i) {
    EXPECT_EQ(back.floats[i].first, file.floats[i].first);
    EXPECT_TRUE(bit_identical(back.floats[i].second, file.floats[i].second));
  }
  // BatchNorm is kept (not folded), its batch counter and the quantizer state are not.
  auto has_float = [&](const std::string& name) {
    for (const auto& [n, t] : back.floats)
      if (n == name) return true;
    return false;
  };
  EXPECT_TRUE(has_float("layer2.0.shortcut.1.running_var"));
  EXPECT_TRUE(has_float("fc.bias"));
  EXPECT_FALSE(has_float("bn1.num_batches_tracked"));
  EXPECT_FALSE(has_float("conv1.scale_ema"));
  EXPECT_FALSE(has_float("conv1.weight_master"));
  EXPECT_EQ(serialize_model_file(back), bytes);

  TempDir dir("chimera_model_file_roundtrip");
  const std::string path = (dir.path / "m.chimera").string();
  write_model_file(path, file);
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(read_model_file(path).description, file.description);
}

TEST(ModelFile, Sha256MatchesAKnownDigest) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ModelFile, AFlippedByteInATensorIsAChecksumErrorNamingIt) {
  const std::string bytes = exported_bytes(kVariants[2], PackFormat::i2);
  const ModelFile file = parse_model_file(bytes, "m");
  // The last tensor in the file is the last float tensor: flip its final byte.
  std::string bad = bytes;
  bad.back() ^= 0x01;
  const std::string e = error_of([&] { parse_model_file(bad, "m.chimera"); });
  EXPECT_NE(e.find("model file 'm.chimera'"), std::string::npos) << e;
  EXPECT_NE(e.find("tensor '" + file.floats.back().first + "'"), std::string::npos) << e;
  EXPECT_NE(e.find("checksum mismatch"), std::string::npos) << e;
  // A byte inside the first tensor, which starts the data section after the JSON header.
  uint64_t header_bytes = 0;
  for (int i = 0; i < 8; ++i)
    header_bytes |= uint64_t{static_cast<uint8_t>(bytes[16 + i])} << (8 * i);
  bad = bytes;
  bad[kModelFileHeaderBytes + header_bytes + 50] ^= 0x40;
  const std::string e2 = error_of([&] { parse_model_file(bad, "m"); });
  EXPECT_NE(e2.find("tensor 'conv1.weight': checksum mismatch"), std::string::npos) << e2;
  // A byte of the JSON header.
  bad = bytes;
  bad[kModelFileHeaderBytes + 10] ^= 0x01;
  const std::string e3 = error_of([&] { parse_model_file(bad, "m"); });
  EXPECT_NE(e3.find("header checksum mismatch"), std::string::npos) << e3;
}

TEST(ModelFile, EveryFlippedByteIsAnError) {
  const std::string bytes = exported_bytes(kVariants[4], PackFormat::entropy);
  // All of the fixed header and a spread of positions over the rest.
  for (size_t i = 0; i < bytes.size(); i += (i < 64 ? 1 : 61)) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    EXPECT_THROW(parse_model_file(bad, "m"), Error) << "byte " << i;
  }
}

TEST(ModelFile, TruncatedFilesAreErrors) {
  const std::string bytes = exported_bytes(kVariants[1], PackFormat::tq1);
  for (size_t n : {size_t{0}, size_t{7}, size_t{55}, size_t{56}, size_t{200}, bytes.size() / 2,
                   bytes.size() - 1}) {
    const std::string e = error_of([&] { parse_model_file(bytes.substr(0, n), "m"); });
    EXPECT_NE(e.find("truncated"), std::string::npos) << n << ": " << e;
  }
  for (size_t n = 0; n < bytes.size(); n += 97)
    EXPECT_THROW(parse_model_file(bytes.substr(0, n), "m"), Error) << n;
  const std::string e = error_of([&] { parse_model_file(bytes + "x", "m"); });
  EXPECT_NE(e.find("1 bytes after the last tensor"), std::string::npos) << e;
}

TEST(ModelFile, WrongVersionAndBadMagicAreClearErrors) {
  const std::string bytes = exported_bytes(kVariants[0], PackFormat::i2);
  std::string bad = bytes;
  bad[8] = 2;
  std::string e = error_of([&] { parse_model_file(bad, "m.chimera"); });
  EXPECT_NE(e.find("format version 2, this build reads version 1"), std::string::npos) << e;
  bad = bytes;
  bad[0] = 'X';
  e = error_of([&] { parse_model_file(bad, "m.chimera"); });
  EXPECT_NE(e.find("magic"), std::string::npos) << e;
  // A checkpoint is not a model file.
  e = error_of([&] { parse_model_file(std::string(100, '\0'), "ckpt.safetensors"); });
  EXPECT_NE(e.find("'ckpt.safetensors'"), std::string::npos) << e;
  EXPECT_NE(e.find("magic"), std::string::npos) << e;
  e = error_of([] { read_model_file("/nonexistent/m.chimera"); });
  EXPECT_NE(e.find("cannot open '/nonexistent/m.chimera'"), std::string::npos) << e;
}

TEST(ModelFile, ATensorSetThatIsNotTheRecordedModelIsAnError) {
  auto model = trained_model(kVariants[2]);
  ModelFile file = export_resnet20(*model, PackFormat::i2);
  ModelFile wrong_mode = file;
  wrong_mode.description["model"]["first_last_fp32"] = true;
  std::string e = error_of([&] { resnet20_from_file(wrong_mode); });
  EXPECT_NE(e.find("no float32 tensor 'conv1.weight'"), std::string::npos) << e;
  ModelFile missing = file;
  missing.ternary.pop_back();
  e = error_of([&] { resnet20_from_file(missing); });
  EXPECT_NE(e.find("no ternary tensor 'fc.weight'"), std::string::npos) << e;
  ModelFile extra = file;
  extra.floats.emplace_back("stray", Tensor({2}));
  e = error_of([&] { resnet20_from_file(extra); });
  EXPECT_NE(e.find("holds"), std::string::npos) << e;
  ModelFile no_model = file;
  no_model.description.erase("model");
  e = error_of([&] { resnet20_from_file(no_model); });
  EXPECT_NE(e.find("\"model\" entry"), std::string::npos) << e;
}

class BitIdentical : public ::testing::TestWithParam<std::tuple<Variant, PackFormat>> {};

TEST_P(BitIdentical, LogitsFromThePackedFileEqualTheSourceModelsEvalForward) {
  const auto [variant, format] = GetParam();
  auto source = trained_model(variant);
  const Tensor images = random_images(5, 32, 777);
  const Tensor expected = eval_logits(*source, images);
  const std::string bytes = serialize_model_file(export_resnet20(*source, format));
  EXPECT_TRUE(bit_identical(eval_logits(*source, images), expected)) << "export changed the model";

  auto loaded = resnet20_from_file(parse_model_file(bytes, "m"));
  EXPECT_FALSE(loaded->training());
  const Tensor actual = eval_logits(*loaded, images);
  ASSERT_TRUE(bit_identical(actual, expected))
      << variant.name << " " << pack_format_name(format) << ": first logit " << actual.f32()[0]
      << " vs " << expected.f32()[0];
  // The loaded ternary layers run from their fixed weights alone.
  for (TernaryLayer* layer : loaded->quantized_layers()) {
    EXPECT_TRUE(layer->has_fixed_weight());
    layer->weight_master.value().copy_from(Tensor::zeros(layer->weight_master.shape()));
    layer->quant.scale_ema.f32()[0] = 123.0f;
  }
  EXPECT_TRUE(bit_identical(eval_logits(*loaded, images), expected));
  // Stats of the loaded model equal the source's eval stats.
  const ModelStats a = source->stats(), b = loaded->stats();
  EXPECT_EQ(b.global_zero_ratio, a.global_zero_ratio);
  EXPECT_EQ(b.gamma, a.gamma);
  EXPECT_EQ(b.alpha_used_mean, a.alpha_used_mean);
}

INSTANTIATE_TEST_SUITE_P(FormatsAndModes, BitIdentical,
                         ::testing::Combine(::testing::ValuesIn(kVariants),
                                            ::testing::Values(PackFormat::i2, PackFormat::tq1,
                                                              PackFormat::entropy)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" +
                                  pack_format_name(std::get<1>(info.param));
                         });

TEST(ModelFile, TheControlledAlphaDecidesTheStoredCodes) {
  auto a = trained_model(kVariants[2]);
  auto b = trained_model(kVariants[3]);
  const ModelFile fa = export_resnet20(*a, PackFormat::i2),
                  fb = export_resnet20(*b, PackFormat::i2);
  EXPECT_EQ(fb.ternary[5].second.alpha, 0.9);
  EXPECT_NE(fa.ternary[5].second.alpha, 0.9);
  EXPECT_NE(fa.ternary[5].second.packed.payload, fb.ternary[5].second.packed.payload);
}

TEST(ModelFile, AFixedWeightLayerRefusesToTrain) {
  auto loaded =
      resnet20_from_file(parse_model_file(exported_bytes(kVariants[2], PackFormat::i2), "m"));
  loaded->train();
  const std::string e = error_of([&] { loaded->forward(Var(random_images(2, 8, 1))); });
  EXPECT_NE(e.find("eval mode only"), std::string::npos) << e;
}

TEST(ModelFile, PackedConvolutionEqualsTheInt8Convolution) {
  // Groups, stride, padding and dilation, with K = 2 * 3 * 3 = 18 (padded in the i2 rows).
  Conv2dParams p;
  p.stride_h = 2;
  p.stride_w = 1;
  p.pad_h = p.pad_w = 2;
  p.dil_h = p.dil_w = 2;
  p.groups = 2;
  const ConvGeometry g = conv_geometry({3, 4, 9, 7}, {6, 2, 3, 3}, p);
  Rng rng(5);
  Tensor x({3, 4, 9, 7}, DType::i8), w({6, 18}, DType::i8);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<int8_t>()[i] = static_cast<int8_t>(static_cast<int64_t>(rng.uniform() * 255) - 127);
  for (int64_t i = 0; i < w.numel(); ++i)
    w.data<int8_t>()[i] = static_cast<int8_t>(static_cast<int64_t>(rng.uniform() * 3) - 1);
  const PackedTernary packed = pack_ternary(w, 1.0f, PackFormat::i2);
  Tensor expected({3, 6, g.out_h, g.out_w}, DType::i32), actual(expected.shape(), DType::i32);
  conv2d_i8t(g, x.data<int8_t>(), w.data<int8_t>(), expected.data<int32_t>());
  conv2d_i2t(g, x.data<int8_t>(), packed.payload.data(), actual.data<int32_t>());
  EXPECT_TRUE(bit_identical(actual, expected));
}

TEST(ModelFile, InspectReportsBitsPerWeightForEachFormat) {
  auto model = trained_model(kVariants[2]);
  TempDir dir("chimera_model_file_inspect");
  std::map<std::string, Json> reports;
  for (PackFormat f : {PackFormat::i2, PackFormat::tq1, PackFormat::entropy}) {
    const std::string path = (dir.path / pack_format_name(f)).string();
    write_model_file(path, export_resnet20(*model, f));
    reports[pack_format_name(f)] = inspect_model(path);
  }
  const Json& i2 = reports["i2"];
  ASSERT_EQ(i2["ternary"].size(), 22u);
  ASSERT_EQ(i2["float"].size(), reports["entropy"]["float"].size());
  int64_t weights = 0;
  for (size_t l = 0; l < 22; ++l) {
    const Json& t = i2["ternary"][l];
    const int64_t n = t["weights"], rows = t["shape"][0], cols = n / rows;
    weights += n;
    // i2: 2 bits a weight over rows padded to 128 columns.
    EXPECT_DOUBLE_EQ(t["bits_per_weight"].get<double>(), 2.0 * i2_padded_cols(cols) / cols);
    EXPECT_EQ(t["bytes"].get<int64_t>(), t["payload_bytes"].get<int64_t>() + 40);
    EXPECT_DOUBLE_EQ(t["compression_vs_f32"].get<double>(), 4.0 * n / t["bytes"].get<double>());
    // tq1: five weights a byte, rows padded to 5.
    const Json& q = reports["tq1"]["ternary"][l];
    EXPECT_DOUBLE_EQ(q["bits_per_weight"].get<double>(), 8.0 * rows * tq1_row_bytes(cols) / n);
    EXPECT_EQ(q["effective_bits"], t["effective_bits"]);
    // entropy: the codes' own entropy plus the 4-byte rANS state and a little coding loss.
    const Json& e = reports["entropy"]["ternary"][l];
    const double eff = e["effective_bits"];
    EXPECT_GE(e["bits_per_weight"].get<double>(), eff - 1e-9) << t["name"];
    EXPECT_LE(e["bits_per_weight"].get<double>(), eff + 0.005 + 40.0 / n) << t["name"];
  }
  const Json& s = i2["totals"];
  EXPECT_EQ(s["ternary_weights"], weights);
  EXPECT_EQ(weights, 270896);  // ResNet-20's convolutions and classifier
  EXPECT_GT(s["bits_per_weight"].get<double>(), 2.0);
  EXPECT_LT(s["bits_per_weight"].get<double>(), 2.6);  // the short rows' padding
  const double tq1 = reports["tq1"]["totals"]["bits_per_weight"];
  EXPECT_GT(tq1, 1.6);
  EXPECT_LT(tq1, 1.62);
  const Json& es = reports["entropy"]["totals"];
  EXPECT_NEAR(es["bits_per_weight"].get<double>(), es["layer_effective_bits"].get<double>(), 0.01);
  EXPECT_LE(es["layer_effective_bits"].get<double>(), es["effective_bits"].get<double>() + 1e-12);
  for (const auto& [name, r] : reports) {
    const Json& t = r["totals"];
    EXPECT_EQ(t["file_bytes"].get<int64_t>(), t["ternary_bytes"].get<int64_t>() +
                                                  t["float_bytes"].get<int64_t>() +
                                                  t["header_bytes"].get<int64_t>())
        << name;
    EXPECT_EQ(t["file_bytes"], fs::file_size(dir.path / name));
    EXPECT_EQ(t["float32_bytes"].get<int64_t>(), 4 * (weights + t["float_values"].get<int64_t>()));
    EXPECT_GT(t["compression_vs_f32"].get<double>(), 8.0) << name;
  }
  const std::string text = format_inspect(i2);
  EXPECT_NE(text.find("layer3.2.conv2.weight"), std::string::npos) << text;
  EXPECT_NE(text.find("bn1.running_var"), std::string::npos) << text;
  EXPECT_NE(text.find("ternary packed as i2"), std::string::npos) << text;
}

// ---- the binary: export -> inspect -> eval --model ----

using Result = test::CliResult;

Result run(const std::string& args) {
  return test::run_chimera(args);
}

class Cli : public ::testing::TestWithParam<const char*> {};

TEST_P(Cli, ExportInspectAndEvalModelReproduceEvalCheckpoint) {
  const std::string extra = GetParam();
  TempDir dir("chimera_model_file_cli");
  const std::string d = dir.path.string();
  const Result train =
      run("train-resnet --synthetic --batch-size 8 --eval-batch-size 8 "
          "--max-batches 2 --eval-max-batches 1 --epochs 1 --no-progress "
          "--controller-frequency batch --controller-affects alpha_override "
          "--save-checkpoint --run-name run --threads 2 --checkpoint-dir " +
          d + " " + extra);
  ASSERT_EQ(train.code, 0) << train.out;
  const std::string ckpt = d + "/run.safetensors";
  const Result reference = run("eval --checkpoint " + ckpt + " --synthetic --json");
  ASSERT_EQ(reference.code, 0) << reference.out;
  for (const char* format : {"i2", "tq1", "entropy"}) {
    const std::string model = d + "/run." + format + ".chimera";
    const Result exp =
        run("export --checkpoint " + ckpt + " --format " + format + " --out " + model);
    ASSERT_EQ(exp.code, 0) << exp.out;
    EXPECT_NE(exp.out.find("[export] wrote " + model), std::string::npos) << exp.out;
    const Result inspect = run("inspect " + model + " --json");
    ASSERT_EQ(inspect.code, 0) << inspect.out;
    const Json r = Json::parse(inspect.out);
    EXPECT_EQ(r["description"]["pack_format"], format);
    EXPECT_EQ(r["description"]["source"]["checkpoint"], ckpt);
    EXPECT_EQ(r["description"]["arguments"]["seed"], 7);
    EXPECT_TRUE(r["description"].contains("metrics"));
    const Result text = run("inspect " + model);
    EXPECT_EQ(text.code, 0) << text.out;
    EXPECT_NE(text.out.find("total: "), std::string::npos) << text.out;
    const Result eval = run("eval --model " + model + " --synthetic --json");
    ASSERT_EQ(eval.code, 0) << eval.out;
    EXPECT_EQ(eval.out, reference.out) << format;
  }
  const Result plain_ckpt = run("eval --checkpoint " + ckpt + " --synthetic");
  const Result plain_model = run("eval --model " + d + "/run.i2.chimera --synthetic");
  EXPECT_EQ(plain_model.out, plain_ckpt.out);
  EXPECT_NE(plain_model.out.find("[eval] test_loss="), std::string::npos) << plain_model.out;
}

INSTANTIATE_TEST_SUITE_P(Modes, Cli,
                         ::testing::Values("--mode chimera", "--mode strict_bitnet",
                                           "--mode chimera --first-last-fp32",
                                           "--mode fp32_baseline"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::string out;
                           for (char c : name)
                             if (std::isalnum(static_cast<unsigned char>(c))) out += c;
                           return out;
                         });

TEST(CliErrors, FlagsAndDamagedFilesGiveOneLineErrors) {
  TempDir dir("chimera_model_file_cli_errors");
  const std::string d = dir.path.string();
  const std::string model = d + "/m.chimera";
  write_model_file(model, parse_model_file(exported_bytes(kVariants[2], PackFormat::i2), "m"));

  Result r = run("eval --synthetic");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("exactly one of --checkpoint CKPT or --model MODEL"), std::string::npos)
      << r.out;
  r = run("eval --checkpoint x.safetensors --model " + model + " --synthetic");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("exactly one of"), std::string::npos) << r.out;
  r = run("eval --model " + model + " --synthetic --mode chimera");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--mode applies to --checkpoint only"), std::string::npos) << r.out;
  r = run("export --checkpoint x.safetensors --format i3 --out " + d + "/o.chimera");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("chimera: error: --format: unknown pack format 'i3'"), std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(d + "/o.chimera"));

  std::string bytes = read_file(model);
  bytes[bytes.size() - 3] ^= 0x01;
  write_file_atomic(d + "/bad.chimera", bytes);
  r = run("inspect " + d + "/bad.chimera");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("chimera: error: model file '" + d + "/bad.chimera' tensor "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("checksum mismatch"), std::string::npos) << r.out;
  r = run("eval --model " + d + "/bad.chimera --synthetic");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("checksum mismatch"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace chimera
