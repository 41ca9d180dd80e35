#include "engine/kernels/conv2d_i8t.h"

#include <emmintrin.h>  // SSE2, part of the x86-64 baseline

#include <algorithm>
#include <memory>

#include "engine/kernels/i2_layout.h"
#include "engine/kernels/i2t_gemm.h"
#include "engine/kernels/i8t_gemm.h"

namespace chimera {
namespace {

// Lowered activations plus GEMM output of one batch chunk stay under this many bytes.
constexpr int64_t kChunkBytes = int64_t{32} << 20;

// dst[c][r] = src[r][c] for a 16x16 block: four rounds of interleaving (8-, 16-, 32-, 64-bit).
void transpose_16x16(const int8_t* src, int64_t src_stride, int8_t* dst, int64_t dst_stride) {
  __m128i a[16], b[16];
  for (int r = 0; r < 16; ++r)
    a[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + r * src_stride));
  for (int i = 0; i < 8; ++i) {  // b[h * 8 + i]: rows 2i..2i+1, columns 8h..8h+7
    b[i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
    b[8 + i] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
  }
  for (int h = 0; h < 16; h += 8)  // a[4g + i]: rows 4i..4i+3, columns 4g..4g+3
    for (int i = 0; i < 4; ++i) {
      a[h + i] = _mm_unpacklo_epi16(b[h + 2 * i], b[h + 2 * i + 1]);
      a[h + 4 + i] = _mm_unpackhi_epi16(b[h + 2 * i], b[h + 2 * i + 1]);
    }
  for (int g = 0; g < 4; ++g)  // b[4g + 2e + j]: rows 8j..8j+7, columns 4g+2e..4g+2e+1
    for (int j = 0; j < 2; ++j) {
      b[4 * g + j] = _mm_unpacklo_epi32(a[4 * g + 2 * j], a[4 * g + 2 * j + 1]);
      b[4 * g + 2 + j] = _mm_unpackhi_epi32(a[4 * g + 2 * j], a[4 * g + 2 * j + 1]);
    }
  for (int c = 0; c < 16; c += 2) {  // b[c] and b[c + 1] hold columns c, c + 1
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + c * dst_stride),
                     _mm_unpacklo_epi64(b[c], b[c + 1]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (c + 1) * dst_stride),
                     _mm_unpackhi_epi64(b[c], b[c + 1]));
  }
}

// rows[p][k] = cols[k][p] for cols [K, P].
void transpose_i8(const int8_t* cols, int64_t K, int64_t P, int8_t* rows) {
  const int64_t K16 = K - K % 16, P16 = P - P % 16;
  for (int64_t k = 0; k < K16; k += 16) {
    for (int64_t p = 0; p < P16; p += 16) transpose_16x16(cols + k * P + p, P, rows + p * K + k, K);
    for (int64_t kk = k; kk < k + 16; ++kk)
      for (int64_t p = P16; p < P; ++p) rows[p * K + kk] = cols[kk * P + p];
  }
  for (int64_t k = K16; k < K; ++k)
    for (int64_t p = 0; p < P; ++p) rows[p * K + k] = cols[k * P + p];
}

// Per group and chunk of samples: lower each sample to cols [k, p] (im2col), transpose to rows
// [p, k] so the GEMM reads contiguous K, then one GEMM over all pixels of the chunk:
// out[s * P + p][co] = sum_k rows[s * P + p][k] * w_group[co][k]; finally scatter out to NCHW.
// gemm(M, group, rows, out) runs that product for M rows with the group's weights.
template <class Gemm>
void conv2d_lowered(const ConvGeometry& g, const int8_t* xq, int32_t* acc, const Gemm& gemm) {
  const int64_t K = g.k_size(), P = g.out_pixels(), cout_g = g.cout_g();
  const int64_t chunk =
      std::clamp<int64_t>(kChunkBytes / (P * (K + 4 * cout_g)), 1, std::max<int64_t>(g.n, 1));
  auto rows = std::make_unique_for_overwrite<int8_t[]>(chunk * P * K);
  auto out = std::make_unique_for_overwrite<int32_t[]>(chunk * P * cout_g);
  for (int64_t group = 0; group < g.p.groups; ++group) {
    for (int64_t s0 = 0; s0 < g.n; s0 += chunk) {
      const int64_t samples = std::min(chunk, g.n - s0);
#pragma omp parallel if (samples > 1)
      {
        auto cols = std::make_unique_for_overwrite<int8_t[]>(K * P);
#pragma omp for schedule(static)
        for (int64_t s = 0; s < samples; ++s) {
          im2col<int8_t>(g, xq + (s0 + s) * g.c_in * g.h * g.w, group, cols.get());
          transpose_i8(cols.get(), K, P, rows.get() + s * P * K);
        }
      }
      gemm(samples * P, group, rows.get(), out.get());
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

}  // namespace

void conv2d_i8t(const ConvGeometry& g, const int8_t* xq, const int8_t* wq, int32_t* acc) {
  const int64_t K = g.k_size(), cout_g = g.cout_g();
  conv2d_lowered(g, xq, acc, [&](int64_t M, int64_t group, const int8_t* rows, int32_t* out) {
    i8t_gemm(M, cout_g, K, rows, K, wq + group * cout_g * K, K, out, cout_g);
  });
}

void conv2d_i2t(const ConvGeometry& g, const int8_t* xq, const uint8_t* w_i2, int32_t* acc) {
  const int64_t K = g.k_size(), cout_g = g.cout_g();
  conv2d_lowered(g, xq, acc, [&](int64_t M, int64_t group, const int8_t* rows, int32_t* out) {
    i2t_gemm(M, cout_g, K, rows, K, w_i2 + i2_packed_bytes(group * cout_g, K), out, cout_g);
  });
}

}  // namespace chimera
