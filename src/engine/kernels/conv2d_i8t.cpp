#include "engine/kernels/conv2d_i8t.h"

#include <algorithm>
#include <memory>

#include "engine/kernels/i8t_gemm.h"

namespace chimera {

namespace {
// Lowered activations plus GEMM output of one batch chunk stay under this many bytes.
constexpr int64_t kChunkBytes = int64_t{32} << 20;
}  // namespace

// Per group and chunk of samples: lower each sample to cols [k, p] (im2col), transpose to rows
// [p, k] so the GEMM reads contiguous K, then one i8t_gemm over all pixels of the chunk:
// out[s * P + p][co] = sum_k rows[s * P + p][k] * wq_g[co][k]; finally scatter out to NCHW.
void conv2d_i8t(const ConvGeometry& g, const int8_t* xq, const int8_t* wq, int32_t* acc) {
  const int64_t K = g.k_size(), P = g.out_pixels(), cout_g = g.cout_g();
  const int64_t chunk = std::clamp<int64_t>(kChunkBytes / (P * (K + 4 * cout_g)), 1, std::max<int64_t>(g.n, 1));
  auto rows = std::make_unique_for_overwrite<int8_t[]>(chunk * P * K);
  auto out = std::make_unique_for_overwrite<int32_t[]>(chunk * P * cout_g);
  for (int64_t group = 0; group < g.p.groups; ++group) {
    const int8_t* w_group = wq + group * cout_g * K;
    for (int64_t s0 = 0; s0 < g.n; s0 += chunk) {
      const int64_t samples = std::min(chunk, g.n - s0);
#pragma omp parallel if (samples > 1)
      {
        auto cols = std::make_unique_for_overwrite<int8_t[]>(K * P);
#pragma omp for schedule(static)
        for (int64_t s = 0; s < samples; ++s) {
          im2col<int8_t>(g, xq + (s0 + s) * g.c_in * g.h * g.w, group, cols.get());
          int8_t* r = rows.get() + s * P * K;
          for (int64_t k = 0; k < K; ++k)
            for (int64_t p = 0; p < P; ++p) r[p * K + k] = cols[k * P + p];
        }
      }
      i8t_gemm(samples * P, cout_g, K, rows.get(), K, w_group, K, out.get(), cout_g);
#pragma omp parallel for schedule(static) if (samples * cout_g > 1)
      for (int64_t sc = 0; sc < samples * cout_g; ++sc) {
        const int64_t s = sc / cout_g, co = sc % cout_g;
        int32_t* dst = acc + ((s0 + s) * g.c_out + group * cout_g + co) * P;
        const int32_t* src = out.get() + s * P * cout_g + co;
        for (int64_t p = 0; p < P; ++p) dst[p] = src[p * cout_g];
      }
    }
  }
}

}  // namespace chimera
