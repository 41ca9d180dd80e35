// GGUF v3: the container round trip with every value type, each way a file can be malformed
// (an error naming the file, never a crash), IEEE half conversion, the TQ2_0 layout (our i2
// bytes with a half scale after every 64), and a language model written for llama.cpp's llama
// architecture: names, shapes, metadata, tokens, weights that decode to the model's own.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>

#include "engine/half.h"
#include "engine/io/atomic_file.h"
#include "engine/io/gguf.h"
#include "engine/ops/ops.h"
#include "harness/experiments/inspect_model.h"
#include "model/models/transformer_lm_gguf.h"
#include "model/quant/pack_i2.h"
#include "model/quant/pack_tq1_0.h"
#include "model/quant/pack_tq2_0.h"
#include "golden.h"
#include "test_util.h"

namespace chimera {
namespace {

GgufFile sample() {
  GgufFile f;
  f.metadata = {{"general.architecture", GgufValue::string("llama")},
                {"n", GgufValue::u32(7)},
                {"neg", GgufValue::i32(-3)},
                {"eps", GgufValue::f32(1e-5f)},
                {"flag", GgufValue::boolean(true)},
                {"list", GgufValue::array(GgufValueType::string,
                                          {GgufValue::string("a"), GgufValue::string("bc")})}};
  GgufTensor a{"a", {3, 2}, GgmlType::f32, std::string(24, '\x01')};
  GgufTensor b{"b", {5}, GgmlType::f16, std::string(10, '\x02')};
  f.tensors = {a, b};
  return f;
}

TEST(Gguf, RoundTripsMetadataAndAlignedTensors) {
  const std::string bytes = serialize_gguf(sample());
  EXPECT_EQ(bytes.substr(0, 4), "GGUF");
  const GgufFile g = parse_gguf(bytes, "mem");
  ASSERT_EQ(g.metadata.size(), 6u);
  EXPECT_EQ(std::get<std::string>(g.find("general.architecture")->scalar), "llama");
  EXPECT_EQ(std::get<uint64_t>(g.find("n")->scalar), 7u);
  EXPECT_EQ(std::get<int64_t>(g.find("neg")->scalar), -3);
  EXPECT_EQ(std::get<double>(g.find("eps")->scalar), double{1e-5f});
  EXPECT_TRUE(std::get<bool>(g.find("flag")->scalar));
  ASSERT_EQ(g.find("list")->elements.size(), 2u);
  EXPECT_EQ(std::get<std::string>(g.find("list")->elements[1].scalar), "bc");
  ASSERT_EQ(g.tensors.size(), 2u);
  EXPECT_EQ(g.tensor("a")->dims, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(g.tensor("b")->data, std::string(10, '\x02'));
  EXPECT_EQ(bytes.size() % 32, 10u);  // the second tensor starts at data offset 32
  EXPECT_EQ(serialize_gguf(g), bytes);
}

// read_gguf leaves the tensors' bytes in the mapped file: views 32 bytes apart there (the
// alignment), writable copy-on-write (the file keeps its bytes), alive as long as a tensor is.
TEST(Gguf, ReadTensorsStayInTheMappedFile) {
  test::TempDir temp("chimera_gguf_map");
  const std::string path = (temp.path / "s.gguf").string();
  write_gguf(path, sample());
  const std::string on_disk = read_file(path);
  GgufTensor b;
  {
    GgufFile g = read_gguf(path);
    EXPECT_EQ(g.tensor("a")->data, std::string(24, '\x01'));
    EXPECT_EQ(g.tensor("b")->data, std::string(10, '\x02'));
    EXPECT_EQ(g.tensor("b")->data.data() - g.tensor("a")->data.data(), 32);
    EXPECT_EQ(serialize_gguf(g), on_disk);
    g.tensors[0].data.data()[0] = '\x7f';
    b = g.tensors[1];
  }
  EXPECT_EQ(b.data, std::string(10, '\x02'));
  EXPECT_EQ(read_file(path), on_disk);
}

// Offsets into a serialised sample() for the damage below.
struct Damage {
  const char* what;
  std::function<void(std::string&)> apply;
  const char* expect;
};

TEST(Gguf, MalformedFilesAreErrorsNamingTheFile) {
  const std::string good = serialize_gguf(sample());
  // Tensor "a": its name (length 1), then n_dims 2.
  const size_t tensors_at =
      good.rfind(std::string("\x01\x00\x00\x00\x00\x00\x00\x00" "a\x02\x00\x00\x00", 13));
  ASSERT_NE(tensors_at, std::string::npos);
  const size_t a_type = tensors_at + 9 + 4 + 16;  // name, n_dims, two dims
  auto put32 = [](std::string& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); };
  auto put64 = [](std::string& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); };
  const std::vector<Damage> cases{
      {"bad magic", [](std::string& b) { b[0] = 'X'; }, "not a GGUF file"},
      {"version 2", [&](std::string& b) { put32(b, 4, 2); }, "version 2"},
      {"truncated header", [](std::string& b) { b.resize(20); }, "truncated"},
      {"truncated data", [](std::string& b) { b.resize(b.size() - 3); }, "past the end"},
      {"absurd tensor count", [&](std::string& b) { put64(b, 8, uint64_t{1} << 40); },
       "beyond any model"},
      {"unknown tensor type", [&](std::string& b) { put32(b, a_type, 9); }, "ggml type 9"},
      {"offset out of range", [&](std::string& b) { put64(b, a_type + 4, 1 << 20); },
       "past the end"},
      {"unaligned offset", [&](std::string& b) { put64(b, a_type + 4, 4); },
       "not a multiple of the alignment"},
      {"absurd dimension", [&](std::string& b) { put64(b, tensors_at + 13, uint64_t{1} << 60); },
       "absurd dimension"},
      {"bad bool", [&](std::string& b) { b[b.find("flag") + 4 + 4] = 7; }, "bool holds 7"},
      {"unknown value type", [&](std::string& b) { put32(b, b.find("flag") + 4, 99); },
       "unknown value type 99"},
  };
  // Duplicates, written directly (the writer does not check them; the reader must).
  GgufFile twice = sample();
  twice.tensors[1].name = "a";
  const std::string e1 = test::error_of([&] { parse_gguf(serialize_gguf(twice), "damaged.gguf"); });
  EXPECT_NE(e1.find("tensor 'a' appears twice"), std::string::npos) << e1;
  twice = sample();
  twice.metadata.emplace_back("n", GgufValue::u32(8));
  const std::string e2 = test::error_of([&] { parse_gguf(serialize_gguf(twice), "damaged.gguf"); });
  EXPECT_NE(e2.find("key 'n' appears twice"), std::string::npos) << e2;
  for (const Damage& d : cases) {
    std::string b = good;
    d.apply(b);
    const std::string e = test::error_of([&] { parse_gguf(b, "damaged.gguf"); });
    EXPECT_NE(e.find("damaged.gguf"), std::string::npos) << d.what << ": " << e;
    EXPECT_NE(e.find(d.expect), std::string::npos) << d.what << ": " << e;
  }
}

TEST(Half, EveryHalfRoundTripsAndFloatsRoundToNearestEven) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(float_to_half(f), h) << h;
  }
  EXPECT_EQ(half_to_float(float_to_half(1.0f)), 1.0f);
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);          // a tie: to even (1.0)
  EXPECT_EQ(float_to_half(1.0f + 3.0f / 2048), 0x3c02);          // a tie: to even (up)
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048 + 1e-7f), 0x3c01);  // above the tie
  EXPECT_EQ(float_to_half(70000.0f), 0x7c00);                    // overflow
  EXPECT_EQ(float_to_half(-1e-9f), 0x8000);                      // underflow keeps the sign
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));       // smallest subnormal
}

TEST(Tq2_0, IsTheI2LayoutWithAHalfScaleEvery64Bytes) {
  Rng rng(3);
  const int64_t rows = 3, cols = 512;
  std::vector<int8_t> codes(rows * cols);
  for (auto& c : codes) c = static_cast<int8_t>(rng.below(3)) - 1;
  const std::string packed = pack_tq2_0(codes.data(), rows, cols, 0.0371f);
  ASSERT_EQ(packed.size(), static_cast<size_t>(rows * 2 * 66));
  std::vector<uint8_t> i2(static_cast<size_t>(rows * i2_row_bytes(cols)));
  pack_i2(codes.data(), rows, cols, i2.data());
  const uint16_t h = float_to_half(0.0371f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < 2; ++b) {
      const char* blk = packed.data() + (r * 2 + b) * 66;
      EXPECT_EQ(std::memcmp(blk, i2.data() + r * 128 + b * 64, 64), 0) << r << " " << b;
      uint16_t got;
      std::memcpy(&got, blk + 64, 2);
      EXPECT_EQ(got, h);
    }
  std::vector<int8_t> back(codes.size());
  std::vector<float> scales;
  unpack_tq2_0(packed, rows, cols, back.data(), scales);
  EXPECT_EQ(back, codes);
  EXPECT_EQ(scales, std::vector<float>(6, half_to_float(h)));
  EXPECT_NE(test::error_of([&] { pack_tq2_0(codes.data(), 1, 300, 1.0f); }).find("multiple of 256"),
            std::string::npos);
}

// TQ1_0: every value's trit comes back from its byte by the multiply-and-shift decode, for
// random tensors and for the extremes (all -1, all +1), and each block carries the half scale.
TEST(Tq1_0, RoundTripsEveryLayoutPosition) {
  Rng rng(4);
  const int64_t rows = 2, cols = 512;
  std::vector<int8_t> codes(rows * cols);
  for (auto& c : codes) c = static_cast<int8_t>(rng.below(3)) - 1;
  for (const int fill : {2, -1, 1}) {
    if (fill != 2) std::fill(codes.begin(), codes.end(), static_cast<int8_t>(fill));
    const std::string packed = pack_tq1_0(codes.data(), rows, cols, 0.25f);
    ASSERT_EQ(packed.size(), static_cast<size_t>(rows * 2 * 54));
    std::vector<int8_t> back(codes.size());
    std::vector<float> scales;
    unpack_tq1_0(packed, rows, cols, back.data(), scales);
    EXPECT_EQ(back, codes) << "fill " << fill;
    EXPECT_EQ(scales, std::vector<float>(4, 0.25f));
  }
  // Position 0 is the most significant trit of byte 0; position 240 of qh[0] (byte 48).
  std::vector<int8_t> one(256, -1);
  one[0] = 1;
  EXPECT_EQ(static_cast<uint8_t>(pack_tq1_0(one.data(), 1, 256, 1.0f)[0]), (162 * 256 + 242) / 243);
  one[0] = -1, one[240] = 1;
  EXPECT_EQ(static_cast<uint8_t>(pack_tq1_0(one.data(), 1, 256, 1.0f)[48]), (162 * 256 + 242) / 243);
  EXPECT_NE(test::error_of([&] { pack_tq1_0(codes.data(), 1, 100, 1.0f); }).find("multiple of 256"),
            std::string::npos);
}

TEST(GgufExport, LanguageModelForLlamaCpp) {
  TransformerOptions o;
  o.mode = ModelMode::chimera;
  o.dim = 256, o.layers = 2, o.heads = 4, o.kv_heads = 2, o.ffn_dim = 512, o.context = 64;
  o.layer.warmup_steps = 0;
  Rng rng(5);
  TransformerLM model(o, rng);
  model.eval();
  const GgufFile f = parse_gguf(serialize_gguf(transformer_lm_to_gguf(model, GgmlType::tq2_0, "t")),
                                "lm.gguf");
  EXPECT_EQ(std::get<std::string>(f.find("general.architecture")->scalar), "llama");
  EXPECT_EQ(std::get<uint64_t>(f.find("llama.block_count")->scalar), 2u);
  EXPECT_EQ(std::get<uint64_t>(f.find("llama.attention.head_count_kv")->scalar), 2u);
  EXPECT_EQ(std::get<uint64_t>(f.find("llama.rope.dimension_count")->scalar), 64u);
  EXPECT_EQ(std::get<uint64_t>(f.find("llama.context_length")->scalar), 64u);
  const auto& tokens = f.find("tokenizer.ggml.tokens")->elements;
  ASSERT_EQ(tokens.size(), 256u);
  EXPECT_EQ(std::get<std::string>(tokens['A'].scalar), "A");
  EXPECT_EQ(std::get<std::string>(tokens[' '].scalar), "\xc4\xa0");  // GPT-2's space, U+0120
  EXPECT_EQ(f.tensors.size(), 2u + 2u * 9u + 1u);
  EXPECT_EQ(f.tensor("token_embd.weight")->dims, (std::vector<uint64_t>{256, 256}));
  const GgufTensor* q = f.tensor("blk.1.attn_k.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, GgmlType::tq2_0);
  EXPECT_EQ(q->dims, (std::vector<uint64_t>{256, 128}));
  const QuantizedWeight want = model.layers[1]->attention.wk.ternary->eval_weight();
  std::vector<int8_t> codes(128 * 256);
  std::vector<float> scales;
  unpack_tq2_0(q->data, 128, 256, codes.data(), scales);
  EXPECT_EQ(std::memcmp(codes.data(), want.codes.data<int8_t>(), codes.size()), 0);
  EXPECT_EQ(scales.front(), half_to_float(float_to_half(want.gamma)));
  EXPECT_EQ(f.tensor("blk.0.ffn_gate.weight")->dims, (std::vector<uint64_t>{256, 512}));
  EXPECT_EQ(f.tensor("blk.0.ffn_down.weight")->dims, (std::vector<uint64_t>{512, 256}));
  // What llama.cpp cannot hold is refused.
  o.dim = 192, o.heads = 3, o.kv_heads = 1;
  TransformerLM narrow(o, rng);
  EXPECT_NE(test::error_of([&] { transformer_lm_to_gguf(narrow, GgmlType::tq2_0, "n"); })
                .find("multiple of 256"),
            std::string::npos);
  o.mode = ModelMode::fp32_baseline;
  TransformerLM plain(o, rng);
  EXPECT_NE(test::error_of([&] { transformer_lm_to_gguf(plain, GgmlType::tq2_0, "p"); })
                .find("gguf-f32"),
            std::string::npos);
  EXPECT_EQ(transformer_lm_to_gguf(plain, GgmlType::f32, "p").tensors.size(), 21u);
  o.feed_forward = FeedForwardKind::relu2;
  TransformerLM relu(o, rng);
  EXPECT_NE(test::error_of([&] { transformer_lm_to_gguf(relu, GgmlType::f32, "r"); })
                .find("SwiGLU"),
            std::string::npos);
}

// Reading back what we write: a float model's F32 file gives its logits bit for bit; a ternary
// model's TQ2_0 file runs on the integer path with gamma rounded to a half, so its logits are
// those of the model with that gamma (close, same argmax).
TEST(GgufImport, OurFilesRunHere) {
  TransformerOptions o;
  o.dim = 256, o.layers = 2, o.heads = 4, o.kv_heads = 2, o.ffn_dim = 256, o.context = 32;
  o.layer.warmup_steps = 0;
  o.layer.activation_scale = ActivationScale::token;
  Tensor ids({2, 16}, DType::i64);
  for (int64_t i = 0; i < 32; ++i) ids.data<int64_t>()[i] = (i * 53 + 7) % 256;
  NoGradGuard no_grad;
  for (const ModelMode mode : {ModelMode::fp32_baseline, ModelMode::chimera}) {
    o.mode = mode;
    Rng rng(9);
    TransformerLM model(o, rng);
    model.eval();
    const Tensor want = model.forward(ids).value();
    const GgmlType type = mode == ModelMode::chimera ? GgmlType::tq2_0 : GgmlType::f32;
    const std::string bytes = serialize_gguf(transformer_lm_to_gguf(model, type, "m"));
    auto back = transformer_lm_from_gguf(parse_gguf(bytes, "m.gguf"), "m.gguf");
    const Tensor got = back->forward(ids).value();
    // The loaded model runs from the file's tensors alone: its ternary layers' float master
    // weights are left unwritten (zeros that take no memory), and exporting it again writes the
    // same file, byte for byte.
    for (TernaryLayer* layer : back->quantized_layers()) {
      EXPECT_TRUE(layer->has_fixed_weight());
      EXPECT_TRUE(test::all_equal(layer->weight_master.value(),
                                  Tensor::zeros(layer->weight_master.shape())));
    }
    EXPECT_EQ(serialize_gguf(transformer_lm_to_gguf(*back, type, "m")), bytes);
    if (mode == ModelMode::fp32_baseline) {
      EXPECT_TRUE(test::all_equal(got, want));
      continue;
    }
    // TQ1_0 holds the same codes and half scale: the same logits as TQ2_0, bit for bit.
    auto tq1 = transformer_lm_from_gguf(
        parse_gguf(serialize_gguf(transformer_lm_to_gguf(model, GgmlType::tq1_0, "m")), "m1"),
        "m1");
    EXPECT_TRUE(test::all_equal(tq1->forward(ids).value(), got));
    EXPECT_EQ(back->quantized_layers().size(), 14u);
    int64_t same_top = 0;
    double worst = 0, scale = 0;
    for (int64_t r = 0; r < 32; ++r) {
      const float* a = got.f32() + r * 256;
      const float* b = want.f32() + r * 256;
      same_top += std::max_element(a, a + 256) - a == std::max_element(b, b + 256) - b;
      for (int64_t v = 0; v < 256; ++v) {
        worst = std::max(worst, std::fabs(double{a[v]} - b[v]));
        scale = std::max(scale, std::fabs(double{b[v]}));
      }
    }
    EXPECT_EQ(same_top, 32);
    EXPECT_LT(worst, 2e-3 * scale) << "worst " << worst << " at scale " << scale;
    EXPECT_GT(worst, 0.0);  // gamma went through a half
  }
}

// The smallest ternary model llama.cpp's blocks allow (widths of 256), one layer, as TQ2_0 GGUF.
GgufFile small_ternary_gguf(uint64_t seed, int64_t kv_heads = 4) {
  TransformerOptions o;
  o.dim = 256, o.layers = 1, o.heads = 4, o.kv_heads = kv_heads, o.ffn_dim = 256, o.context = 16;
  o.mode = ModelMode::chimera;
  Rng rng(seed);
  TransformerLM model(o, rng);
  return transformer_lm_to_gguf(model, GgmlType::tq2_0, "m");
}

TEST(GgufImport, FilesThisBuildCannotRunAreClearErrors) {
  const GgufFile good = small_ternary_gguf(2);
  auto error_for = [&](const std::function<void(GgufFile&)>& change) {
    GgufFile f = good;
    change(f);
    return test::error_of([&] { transformer_lm_from_gguf(f, "bad.gguf"); });
  };
  EXPECT_NE(error_for([](GgufFile& f) { f.metadata[0].second = GgufValue::string("gpt2"); })
                .find("not 'llama'"),
            std::string::npos);
  EXPECT_NE(error_for([](GgufFile& f) {
              for (auto& [k, v] : f.metadata)
                if (k == "tokenizer.ggml.tokens") v.elements.resize(100);
            }).find("tokenizer 'gpt2' with 100 tokens is not supported"),
            std::string::npos);
  EXPECT_NE(error_for([](GgufFile& f) {
              f.tensors.erase(f.tensors.begin() + 3);
            }).find("no tensor"),
            std::string::npos);
}

// Blocks with their own scales (llama-quantize of a float model picks each block's absmax):
// the model runs as float with the dequantized weights, code x block scale, exactly.
TEST(GgufImport, BlocksWithTheirOwnScalesRunAsTheDequantizedFloatModel) {
  GgufFile f = small_ternary_gguf(5);
  GgufTensor& q = *const_cast<GgufTensor*>(f.tensor("blk.0.attn_q.weight"));
  const uint16_t half = float_to_half(0.5f);
  std::memcpy(q.data.data() + 64, &half, 2);  // the first block's scale only
  Tensor codes({256, 256}, DType::i8);
  std::vector<float> scales;
  unpack_tq2_0(q.data, 256, 256, codes.data<int8_t>(), scales);
  ASSERT_EQ(scales.size(), 256u);
  ASSERT_EQ(scales[0], 0.5f);
  ASSERT_NE(scales[1], 0.5f);

  const std::unique_ptr<TransformerLM> loaded = transformer_lm_from_gguf(f, "blocks.gguf");
  EXPECT_TRUE(loaded->quantized_layers().empty());  // a float model
  const Tensor& w = loaded->layers[0]->attention.wq.plain->weight.value();
  for (int64_t i = 0; i < w.numel(); ++i)
    ASSERT_EQ(w.f32()[i], scales[i / 256] * static_cast<float>(codes.data<int8_t>()[i])) << i;
  // Another projection keeps its one scale, dequantized the same way.
  const GgufTensor& k = *f.tensor("blk.0.attn_k.weight");
  Tensor kcodes({256, 256}, DType::i8);
  std::vector<float> kscales;
  unpack_tq2_0(k.data, 256, 256, kcodes.data<int8_t>(), kscales);
  const Tensor& wk = loaded->layers[0]->attention.wk.plain->weight.value();
  for (int64_t i = 0; i < wk.numel(); ++i)
    ASSERT_EQ(wk.f32()[i], kscales[0] * static_cast<float>(kcodes.data<int8_t>()[i])) << i;
}

// `chimera bench lm` runs llama-bench's two tests on a GGUF file (timings are not checked here:
// speed lives in benchmarks, never in tests) and refuses tests longer than the context.
TEST(BenchLm, RunsPromptAndGenerationTestsOnAGgufFile) {
  test::TempDir dir("chimera_bench_lm");
  const std::string path = (dir.path / "m.gguf").string();
  write_gguf(path, small_ternary_gguf(9, 2));
  const test::CliResult r = test::run_chimera("bench lm --model " + path +
                                              " --prompt-tokens 16 --gen-tokens 8 --repetitions 2 "
                                              "--threads 1 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("[bench_lm] cpu="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ternary=yes"), std::string::npos) << r.out;
  for (const char* memory : {" load_peak_rss_mb=", "\n[bench_lm] peak_rss_mb="})
    EXPECT_NE(r.out.find(memory), std::string::npos) << memory << " in " << r.out;
  std::vector<std::string> tests;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    tests.push_back(j.at("test"));
    EXPECT_GT(j.at("tokens_per_s").get<double>(), 0.0);
    EXPECT_EQ(j.at("repetitions"), 2);
  }
  EXPECT_EQ(tests, (std::vector<std::string>{"pp16", "tg8"}));
  const test::CliResult too_long = test::run_chimera("bench lm --model " + path + " --prompt-tokens 17");
  EXPECT_EQ(too_long.code, 1);
  EXPECT_NE(too_long.out.find("context is 16"), std::string::npos) << too_long.out;
}

// A file another writer made: llama.cpp's llama-quantize turned our gguf-f32 export of a small
// trained model into TQ2_0 (tests/data/gguf/README.md: how). Beside it, our own TQ2_0 export of
// the same checkpoint. Their codes and scales must be ours (TQ2_0 of values gamma * q is exact),
// their embeddings the half-precision rounding of ours, and the two models must predict alike.
TEST(GgufImport, ReadsATq2FileWrittenByLlamaQuantize) {
  const std::filesystem::path dir = std::filesystem::path(CHIMERA_SOURCE_DIR) / "tests/data/gguf";
  const GgufFile theirs = read_gguf((dir / "tiny256_llama_quantize_tq2_0.gguf").string());
  const GgufFile ours = read_gguf((dir / "tiny256_chimera_tq2_0.gguf").string());
  int projections = 0;
  for (const GgufTensor& t : ours.tensors) {
    SCOPED_TRACE(t.name);
    const GgufTensor* u = theirs.tensor(t.name);
    ASSERT_NE(u, nullptr);
    ASSERT_EQ(u->dims, t.dims);
    if (t.type == GgmlType::tq2_0) {
      ASSERT_EQ(u->type, GgmlType::tq2_0);
      const auto rows = static_cast<int64_t>(t.dims[1]), cols = static_cast<int64_t>(t.dims[0]);
      Tensor a({rows, cols}, DType::i8), b({rows, cols}, DType::i8);
      std::vector<float> sa, sb;
      unpack_tq2_0(t.data, rows, cols, a.data<int8_t>(), sa);
      unpack_tq2_0(u->data, rows, cols, b.data<int8_t>(), sb);
      ASSERT_TRUE(test::all_equal(a, b));
      for (size_t k = 0; k < sa.size(); ++k) {
        bool zero = true;
        for (int64_t i = 0; i < kTq2Block; ++i) zero = zero && a.data<int8_t>()[k * kTq2Block + i] == 0;
        if (!zero) {  // all-zero blocks: any scale
          ASSERT_EQ(sa[k], sb[k]) << "block " << k;
        }
      }
      ++projections;
    } else if (u->type == GgmlType::f16) {  // llama-quantize's --token-embedding-type f16 etc.
      ASSERT_EQ(t.type, GgmlType::f32);
      for (size_t i = 0; i < t.data.size() / 4; ++i) {
        float x;
        uint16_t h;
        std::memcpy(&x, t.data.data() + 4 * i, 4);
        std::memcpy(&h, u->data.data() + 2 * i, 2);
        ASSERT_EQ(h, float_to_half(x)) << i;
      }
    } else {
      ASSERT_EQ(u->type, t.type);
      ASSERT_EQ(u->data, t.data);
    }
  }
  EXPECT_EQ(projections, 7);
  const auto a = transformer_lm_from_gguf(ours, "ours"), b = transformer_lm_from_gguf(theirs, "theirs");
  ASSERT_EQ(b->quantized_layers().size(), 7u);  // ternary, on the integer kernels
  const std::string text = "Q: What is the difference between a duck? A: One of its legs is both.";
  Tensor ids({1, 64}, DType::i64);
  for (int64_t i = 0; i < 64; ++i) ids.data<int64_t>()[i] = static_cast<uint8_t>(text[i]);
  NoGradGuard no_grad;
  const Tensor la = a->forward(ids).value(), lb = b->forward(ids).value();
  int same = 0;
  for (int64_t p = 0; p < 64; ++p) {
    const float* x = la.f32() + p * 256;
    const float* y = lb.f32() + p * 256;
    same += std::max_element(x, x + 256) - x == std::max_element(y, y + 256) - y;
  }
  EXPECT_GE(same, 63) << "top-1 agreement " << same << "/64";
}

// `chimera inspect` of a GGUF file: llama-quantize's file, one that does not run here, a broken one.
TEST(GgufInspect, TensorsTypesTernaryStatisticsAndWhetherItRunsHere) {
  const std::string path =
      (std::filesystem::path(CHIMERA_SOURCE_DIR) / "tests/data/gguf/tiny256_llama_quantize_tq2_0.gguf")
          .string();
  const Json r = inspect_gguf(path);
  EXPECT_EQ(r["architecture"], "llama");
  EXPECT_EQ(r["tokenizer"]["kind"], "bytes");
  EXPECT_EQ(r["tokenizer"]["vocab_size"], 256);
  EXPECT_EQ(r["model"]["dim"], 256);
  EXPECT_EQ(r["model"]["layers"], 1);
  EXPECT_TRUE(r["runs_here"].get<bool>());
  const GgufFile f = read_gguf(path);
  ASSERT_EQ(r["tensors"].size(), f.tensors.size());
  int64_t bytes = 0, ternary = 0;
  double zeros = 0;
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    const Json& t = r["tensors"][i];
    EXPECT_EQ(t["bytes"].get<int64_t>(), static_cast<int64_t>(f.tensors[i].data.size()));
    bytes += t["bytes"].get<int64_t>();
    const double want_bits = f.tensors[i].type == GgmlType::tq2_0 ? 66.0 * 8 / 256
                             : f.tensors[i].type == GgmlType::f16 ? 16.0 : 32.0;
    EXPECT_EQ(t["bits_per_weight"].get<double>(), want_bits) << t["name"];
    if (f.tensors[i].type == GgmlType::tq2_0) {
      ternary += t["values"].get<int64_t>();
      zeros += t["zero_ratio"].get<double>() * t["values"].get<double>();
      EXPECT_GT(t["zero_ratio"].get<double>(), 0.0);
      EXPECT_LE(t["effective_bits"].get<double>(), std::log2(3.0));
    }
  }
  const Json& s = r["totals"];
  EXPECT_EQ(s["tensor_bytes"].get<int64_t>(), bytes);
  EXPECT_EQ(s["ternary_weights"].get<int64_t>(), 7 * 65536 - 2 * 32768);
  EXPECT_EQ(s["ternary_weights"].get<int64_t>(), ternary);
  EXPECT_NEAR(s["zero_ratio"].get<double>(), zeros / static_cast<double>(ternary), 1e-12);
  EXPECT_EQ(s["by_type"]["TQ2_0"]["tensors"], 7);
  EXPECT_EQ(s["by_type"]["F16"]["tensors"], 2);
  EXPECT_NE(format_inspect_gguf(r).find("runs here: yes"), std::string::npos);

  test::TempDir dir("chimera_gguf_inspect");
  GgufFile other = f;
  for (auto& [k, v] : other.metadata) {
    if (k == "general.architecture") v = GgufValue::string("gpt2");
    if (k == "tokenizer.ggml.model") v = GgufValue::string("bert");
  }
  const std::string other_path = (dir.path / "other.gguf").string();
  write_gguf(other_path, other);
  const Json o = inspect_gguf(other_path);
  EXPECT_FALSE(o["runs_here"].get<bool>());
  EXPECT_NE(o["why"].get<std::string>().find("not 'llama'"), std::string::npos);
  EXPECT_NE(o["tokenizer"]["error"].get<std::string>().find("tokenizer 'bert'"), std::string::npos);
  EXPECT_NE(format_inspect_gguf(o).find("runs here: no"), std::string::npos);

  const test::CliResult ok = test::run_chimera("inspect --json " + path);
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_EQ(Json::parse(ok.out.substr(ok.out.find('{')))["totals"], s);
  const std::string cut = (dir.path / "cut.gguf").string();
  test::write_bytes(cut, read_file(path).substr(0, 5000));
  const test::CliResult bad = test::run_chimera("inspect " + cut);
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("cut.gguf"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace chimera
