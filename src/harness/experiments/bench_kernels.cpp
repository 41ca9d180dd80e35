#include "harness/experiments/bench_kernels.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "engine/error.h"
#include "engine/kernels/i2_layout.h"
#include "engine/kernels/i2t_gemm.h"
#include "engine/kernels/isa.h"
#include "engine/kernels/int_epilogue.h"
#include "engine/kernels/quantize_i8.h"
#include "engine/platform.h"
#include "engine/rng.h"
#include "engine/threads.h"
#include "harness/experiments/kernel_baselines.h"

namespace chimera {

std::vector<KernelBenchShape> kernel_bench_shapes() {
  const int64_t batch = 128;
  auto conv = [batch](std::string name, int64_t c_in, int64_t c_out, int64_t k, int64_t out_hw,
                      int count) {
    return KernelBenchShape{std::move(name), batch * out_hw * out_hw, c_out, c_in * k * k, count};
  };
  return {
      conv("resnet20 conv1 3x3 3->16 32x32", 3, 16, 3, 32, 1),
      conv("resnet20 layer1 3x3 16->16 32x32", 16, 16, 3, 32, 6),
      conv("resnet20 layer2.0.conv1 3x3/2 16->32 16x16", 16, 32, 3, 16, 1),
      conv("resnet20 layer2 3x3 32->32 16x16", 32, 32, 3, 16, 5),
      conv("resnet20 layer2.0.shortcut 1x1/2 16->32 16x16", 16, 32, 1, 16, 1),
      conv("resnet20 layer3.0.conv1 3x3/2 32->64 8x8", 32, 64, 3, 8, 1),
      conv("resnet20 layer3 3x3 64->64 8x8", 64, 64, 3, 8, 5),
      conv("resnet20 layer3.0.shortcut 1x1/2 32->64 8x8", 32, 64, 1, 8, 1),
      {"gemv 4096x4096", 1, 4096, 4096, 1},
      {"gemm 4096x4096 batch 8", 8, 4096, 4096, 1},
      {"gemv 11008x4096", 1, 11008, 4096, 1},
      {"gemm 11008x4096 batch 8", 8, 11008, 4096, 1},
      // The shapes of bitnet.cpp's published I2_S kernel table ([M, K] x [K, N]; their
      // src/README.md), for a like-for-like comparison.
      {"bitnet.cpp [1,2048]x[2048,2048]", 1, 2048, 2048, 1},
      {"bitnet.cpp [32,2048]x[2048,2048]", 32, 2048, 2048, 1},
      {"bitnet.cpp [128,2048]x[2048,2048]", 128, 2048, 2048, 1},
      {"bitnet.cpp [256,2048]x[2048,2048]", 256, 2048, 2048, 1},
      {"bitnet.cpp [512,2048]x[2048,2048]", 512, 2048, 2048, 1},
      {"bitnet.cpp [2048,2048]x[2048,2048]", 2048, 2048, 2048, 1},
      {"bitnet.cpp [128,2048]x[2048,8192]", 128, 8192, 2048, 1},
      {"bitnet.cpp [128,8192]x[8192,2048]", 128, 2048, 8192, 1},
  };
}

namespace {

constexpr int kMinRepeats = 5;
constexpr int64_t kFlushBytes = int64_t{256} << 20;  // 8x the L3 of the machines we run on
constexpr int64_t kDramBytes = int64_t{512} << 20;

// Best read bandwidth at a working-set size (the hardware's limit), measured once per size.
double read_limit_gbps(int64_t bytes) {
  static std::map<int64_t, double> cache;
  auto it = cache.find(bytes);
  if (it == cache.end()) it = cache.emplace(bytes, read_gbps(bytes).best_gbps).first;
  return it->second;
}

std::string cache_size(int index) {  // "1024K" as the kernel reports it, or "?"
  std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
  std::string size;
  return in >> size ? size : "?";
}

}  // namespace

Json bench_kernel_shape(const KernelBenchShape& shape, const KernelBenchOptions& options) {
  const int64_t M = shape.M, N = shape.N, K = shape.K;
  Rng rng(1234);
  std::vector<int8_t> a(M * K), w(N * K);
  for (auto& x : a) x = static_cast<int8_t>(rng.below(255) - 127);
  for (auto& x : w) x = static_cast<int8_t>(rng.below(3) - 1);
  std::vector<uint8_t> packed(i2_packed_bytes(N, K));
  i2_pack_ref(N, K, w.data(), K, packed.data());
  std::vector<int32_t> c(M * N);

  auto i2t = [&] { i2t_gemm(M, N, K, a.data(), K, packed.data(), c.data(), N); };
  const Timing t = time_ms(i2t, kMinRepeats, options.min_seconds);
  F32Matmul f32(M, N, K, a.data(), w.data());
  const Timing f32_time = time_ms([&] { f32.run(); }, kMinRepeats, options.min_seconds);
  DnnlInt8Matmul int8(M, N, K, a.data(), w.data());
  const Timing int8_time = time_ms([&] { int8.run(); }, kMinRepeats, options.min_seconds);

  i2t();
  for (int64_t i = 0; i < M * N; ++i)
    CHIMERA_CHECK(c[i] == int8.result()[i], "bench kernels: ", shape.name,
                  ": i2t_gemm and oneDNN disagree at output ", i, " (", c[i], " vs ",
                  int8.result()[i], ")");

  // As a layer uses it: float activations in (per-tensor abs-max, quantized to int8), float
  // outputs out (scaled), the work a peer's float-in/float-out matmul does. Cold: the weights
  // rotate through copies larger than any cache (> 600 MB), as the peers' cold figures do.
  std::vector<float> x(M * K), y(M * N);
  for (auto& v : x) v = static_cast<float>(rng.normal());
  std::vector<int8_t> xq(M * K);
  auto layer = [&](const uint8_t* weights) {
    const float beta = abs_max_f32(M * K, x.data()) / 127.0f + 1e-6f;
    quantize_i8(M * K, x.data(), beta, xq.data());
    i2t_gemm(M, N, K, xq.data(), K, weights, c.data(), N);
    scale_acc_f32(M, N, 1, c.data(), AccScale{beta * 0.5f}, y.data());
  };
  const Timing layer_time =
      time_ms([&] { layer(packed.data()); }, kMinRepeats, options.min_seconds);

  const double gb = static_cast<double>(packed.size()) / 1e9, ops = 2.0 * M * N * K;
  Json r;
  r["name"] = shape.name;
  r["rows"] = N;
  r["cols"] = K;
  r["batch"] = M;
  r["count"] = shape.count;
  r["packed_bytes"] = packed.size();
  // Medians, as reported; the fastest run (_min, _best) is what an idle machine gives.
  r["ms"] = t.median_ms;
  r["ms_min"] = t.min_ms;
  r["gops"] = ops / (t.median_ms * 1e-3) / 1e9;
  r["gbps"] = gb / (t.median_ms * 1e-3);  // weight traffic only
  r["gbps_best"] = gb / (t.min_ms * 1e-3);
  // Everything the kernel must move at least once: weights, activations, int32 outputs.
  r["traffic_gbps"] = (gb + (M * K + 4.0 * M * N) / 1e9) / (t.median_ms * 1e-3);
  r["f32_ms"] = f32_time.median_ms;
  r["f32_ms_min"] = f32_time.min_ms;
  r["int8_ms"] = int8_time.median_ms;
  r["int8_ms_min"] = int8_time.min_ms;
  r["speedup_vs_f32"] = f32_time.median_ms / t.median_ms;
  r["speedup_vs_int8"] = int8_time.median_ms / t.median_ms;
  r["speedup_vs_f32_best"] = f32_time.min_ms / t.min_ms;
  r["speedup_vs_int8_best"] = int8_time.min_ms / t.min_ms;
  r["onednn_impl"] = int8.implementation();
  // The limit for streaming the packed weights with them in the caches (the timing loop keeps
  // them there when they fit) ...
  r["read_gbps_at_footprint"] = read_limit_gbps(packed.size());
  r["share_of_read_limit"] =
      r["gbps_best"].get<double>() / r["read_gbps_at_footprint"].get<double>();
  r["layer_ms"] = layer_time.median_ms;
  r["layer_ms_min"] = layer_time.min_ms;
  if (M <= 8) {  // weight-bound shapes, float in and out, weights from DRAM
    const int64_t copies = int64_t{600} * 1000 * 1000 / static_cast<int64_t>(packed.size()) + 1;
    std::vector<uint8_t> many(packed.size() * copies);
    for (int64_t i = 0; i < copies; ++i)
      std::copy(packed.begin(), packed.end(), many.begin() + i * packed.size());
    int64_t next = 0;
    auto rotate = [&] {
      layer(many.data() + next * packed.size());
      next = (next + 1) % copies;
    };
    for (int64_t i = 0; i < copies; ++i) rotate();  // every copy touched, then evicted in turn
    r["layer_ms_cold"] = time_ms(rotate, kMinRepeats, options.min_seconds).median_ms;
  }
  if (M <= 8) {  // ... and, for weight-bound shapes, from DRAM with cold caches
    CacheFlusher flush(kFlushBytes);
    const Timing cold = time_ms(i2t, kMinRepeats, options.min_seconds, [&] { flush(); });
    r["ms_cold"] = cold.median_ms;
    r["ms_cold_min"] = cold.min_ms;
    r["gbps_cold_best"] = gb / (cold.min_ms * 1e-3);
    r["dram_read_gbps"] = read_limit_gbps(kDramBytes);
    r["share_of_dram_read"] = r["gbps_cold_best"].get<double>() / r["dram_read_gbps"].get<double>();
  }
  r["isa"] = isa_name(active_isa());
  r["threads"] = num_threads();
  r["platform"] = describe(platform());
  return r;
}

void run_kernel_bench(const KernelBenchOptions& options, std::ostream& out) {
  std::vector<KernelBenchShape> shapes;
  for (const auto& s : kernel_bench_shapes())
    if (s.name.find(options.filter) != std::string::npos) shapes.push_back(s);
  CHIMERA_CHECK(
      !shapes.empty(), "bench kernels: --filter '", options.filter,
      "' matches no shape; the names start with 'resnet20', 'gemv', 'gemm' or 'bitnet.cpp'");
  char line[512];
  if (!options.json) {
    const Bandwidth copy = copy_gbps(int64_t{256} << 20), dram = read_gbps(kDramBytes);
    out << "platform: " << describe(platform()) << "\n";
    std::snprintf(line, sizeof line,
                  "memory: L2=%s/core L3=%s; 256 MB copy %.1f GB/s (read+write; best %.1f), "
                  "512 MB read %.1f GB/s (best %.1f)\n",
                  cache_size(2).c_str(), cache_size(3).c_str(), copy.median_gbps, copy.best_gbps,
                  dram.median_gbps, dram.best_gbps);
    out << line;
    out << "ms, GOPS, x f32, x int8: medians; min, GB/s (packed weights), xbest: fastest runs; "
           "roof: best read GB/s at the packed footprint; cold: GB/s from DRAM; layer: ms with float "
           "activations in (quantized) and float outputs out, l.cold: the same with the weights "
           "rotating through 600 MB of copies\n";
    std::snprintf(line, sizeof line,
                  "%-46s %6s %5s %5s %8s %8s %7s %6s %7s %7s %7s %6s %5s %5s %8s %8s\n", "shape",
                  "M", "N", "K", "ms", "min", "GOPS", "GB/s", "x f32", "x int8", "xbest", "roof",
                  "share", "cold", "layer", "l.cold");
    out << line;
  }
  for (const auto& shape : shapes) {
    const Json r = bench_kernel_shape(shape, options);
    if (options.json) {
      out << r.dump() << std::endl;
      continue;
    }
    const std::string cold = r.contains("gbps_cold_best")
                                 ? std::to_string(std::lround(r["gbps_cold_best"].get<double>()))
                                 : "-";
    char layer_cold[32] = "-";
    if (r.contains("layer_ms_cold"))
      std::snprintf(layer_cold, sizeof layer_cold, "%.4f", r["layer_ms_cold"].get<double>());
    std::snprintf(line, sizeof line,
                  "%-46s %6lld %5lld %5lld %8.4f %8.4f %7.1f %6.1f %7.2f %7.2f %7.2f %6.1f %4.0f%% "
                  "%5s %8.4f %8s\n",
                  shape.name.c_str(), static_cast<long long>(shape.M),
                  static_cast<long long>(shape.N), static_cast<long long>(shape.K),
                  r["ms"].get<double>(), r["ms_min"].get<double>(), r["gops"].get<double>(),
                  r["gbps_best"].get<double>(), r["speedup_vs_f32"].get<double>(),
                  r["speedup_vs_int8"].get<double>(), r["speedup_vs_int8_best"].get<double>(),
                  r["read_gbps_at_footprint"].get<double>(),
                  100 * r["share_of_read_limit"].get<double>(), cold.c_str(),
                  r["layer_ms"].get<double>(), layer_cold);
    out << line << std::flush;
  }
}

}  // namespace chimera
