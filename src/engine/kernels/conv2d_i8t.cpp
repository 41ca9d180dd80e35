#include "engine/kernels/conv2d_i8t.h"

#include <emmintrin.h>  // SSE2, part of the x86-64 baseline

#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include "engine/error.h"
#include "engine/kernels/conv2d_tap_rows.h"
#include "engine/kernels/i2_layout.h"
#include "engine/kernels/i2t_gemm.h"
#include "engine/kernels/i8t_gemm.h"
#include "engine/kernels/isa.h"
#include "engine/kernels/quantize_i8.h"

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

// The direct kernel's functions on one ISA (conv2d_tap_rows.h).
struct TapRowsKernels {
  int64_t vector_pixels;
  void (*pack_i8)(const ConvGeometry&, const TapRows&, const int8_t*, int64_t, uint32_t*,
                  uint32_t*);
  void (*pack_f32)(const ConvGeometry&, const TapRows&, const float*, float, int64_t, uint32_t*,
                   uint32_t*);
  void (*ukernel)(const TapRows&, int64_t, const uint32_t*, const int32_t*, const int8_t*,
                  const int32_t*, int64_t, const AccScale*, void*);
};

// The direct kernel on AVX2 and AVX-512 VNNI where the packed activations stay addressable with
// 32-bit offsets; null where the convolution is lowered (the scalar path is the reference).
const TapRowsKernels* tap_rows_kernels(Isa isa, const ConvGeometry& g) {
  CHIMERA_CHECK(isa_supported(isa), "conv2d_i8t: this CPU does not support ", isa_name(isa));
  static constexpr TapRowsKernels avx512{16, pack_tap_rows__avx512vnni, pack_tap_rows__avx512vnni,
                                         conv_tap_rows_ukernel__avx512vnni};
  static constexpr TapRowsKernels avx2{8, pack_tap_rows__avx2, pack_tap_rows__avx2,
                                       conv_tap_rows_ukernel__avx2};
  const TapRowsKernels* k = isa == Isa::avx512vnni ? &avx512 : isa == Isa::avx2 ? &avx2 : nullptr;
  if (k == nullptr || tap_rows(g, k->vector_pixels).activation_dwords() >= (int64_t{1} << 30))
    return nullptr;
  return k;
}

// Weights packed once per call; then per sample and group (in parallel over them, each output
// written by one thread): repack the activations, run the micro-kernel into `out` (int32 acc,
// or the floats of `scale` when given).
// X: int8 codes, or floats quantized with beta while packing.
template <class X>
void conv2d_tap_rows(const TapRowsKernels& k, const ConvGeometry& g, const X* xq, float beta,
                     const int8_t* wq, const AccScale* scale, void* out) {
  const TapRows t = tap_rows(g, k.vector_pixels);
  const int64_t groups = g.p.groups, cout_g = g.cout_g(), P = g.out_pixels();
  std::vector<int32_t> off(static_cast<size_t>(t.steps)), comp(static_cast<size_t>(g.c_out));
  tap_row_offsets(g, t, off.data());
  std::vector<int8_t> wp(static_cast<size_t>(groups * t.weight_bytes()));
  for (int64_t group = 0; group < groups; ++group)
    pack_tap_weights(g, t, wq, group, wp.data() + group * t.weight_bytes(),
                     comp.data() + group * cout_g);
  const int64_t items = g.n * groups;
#pragma omp parallel if (items > 1 && items * P * cout_g * g.k_size() >= (int64_t{1} << 18))
  {
    auto a = std::make_unique_for_overwrite<uint32_t[]>(t.activation_dwords());
    auto row = std::make_unique_for_overwrite<uint32_t[]>(tap_rows_scratch_dwords(g));
#pragma omp for schedule(static)
    for (int64_t item = 0; item < items; ++item) {
      const int64_t n = item / groups, group = item % groups;
      const X* x_sample = xq + n * g.c_in * g.h * g.w;
      if constexpr (std::is_same_v<X, int8_t>)
        k.pack_i8(g, t, x_sample, group, row.get(), a.get());
      else
        k.pack_f32(g, t, x_sample, beta, group, row.get(), a.get());
      // int32 and float outputs have the same size: the offset is in elements either way.
      const int64_t first = (n * g.c_out + group * cout_g) * P;
      AccScale item_scale;
      if (scale != nullptr) item_scale = scale->at(group * cout_g, first);
      k.ukernel(t, P, a.get(), off.data(), wp.data() + group * t.weight_bytes(),
                comp.data() + group * cout_g, cout_g, scale ? &item_scale : nullptr,
                static_cast<int32_t*>(out) + first);
    }
  }
}

void conv2d_i8t_lowered(Isa isa, const ConvGeometry& g, const int8_t* xq, const int8_t* wq,
                        int32_t* acc) {
  const int64_t K = g.k_size(), cout_g = g.cout_g();
  conv2d_lowered(g, xq, acc, [&](int64_t M, int64_t group, const int8_t* rows, int32_t* out) {
    i8t_gemm_isa(isa, M, cout_g, K, rows, K, wq + group * cout_g * K, K, out, cout_g);
  });
}

void conv2d_i2t_lowered(const ConvGeometry& g, const int8_t* xq, const uint8_t* w_i2,
                        int32_t* acc) {
  const int64_t K = g.k_size(), cout_g = g.cout_g();
  conv2d_lowered(g, xq, acc, [&](int64_t M, int64_t group, const int8_t* rows, int32_t* out) {
    i2t_gemm(M, cout_g, K, rows, K, w_i2 + i2_packed_bytes(group * cout_g, K), out, cout_g);
  });
}

// The weights are small: the direct kernel unpacks them.
std::vector<int8_t> unpacked(const ConvGeometry& g, const uint8_t* w_i2) {
  std::vector<int8_t> wq(static_cast<size_t>(g.c_out * g.k_size()));
  i2_unpack_ref(g.c_out, g.k_size(), w_i2, wq.data(), g.k_size());
  return wq;
}

void scale_output(const ConvGeometry& g, const int32_t* acc, const AccScale& s, float* y) {
  scale_acc_f32(g.n, g.c_out, g.out_pixels(), acc, s, y);
}

}  // namespace

void conv2d_i8t_on(Isa isa, const ConvGeometry& g, const int8_t* xq, const int8_t* wq,
                   int32_t* acc) {
  if (const TapRowsKernels* k = tap_rows_kernels(isa, g))
    conv2d_tap_rows(*k, g, xq, 1.0f, wq, nullptr, acc);
  else
    conv2d_i8t_lowered(isa, g, xq, wq, acc);
}

void conv2d_i8t_scaled_on(Isa isa, const ConvGeometry& g, const int8_t* xq, const int8_t* wq,
                          const AccScale& s, float* y) {
  if (const TapRowsKernels* k = tap_rows_kernels(isa, g)) {
    conv2d_tap_rows(*k, g, xq, 1.0f, wq, &s, y);
    return;
  }
  auto acc = std::make_unique_for_overwrite<int32_t[]>(g.n * g.c_out * g.out_pixels());
  conv2d_i8t_lowered(isa, g, xq, wq, acc.get());
  scale_output(g, acc.get(), s, y);
}

void conv2d_i8t_scaled_from_f32_on(Isa isa, const ConvGeometry& g, const float* x, float beta,
                                   const int8_t* wq, const AccScale& s, float* y) {
  if (const TapRowsKernels* k = tap_rows_kernels(isa, g)) {
    conv2d_tap_rows(*k, g, x, beta, wq, &s, y);
    return;
  }
  auto xq = std::make_unique_for_overwrite<int8_t[]>(g.n * g.c_in * g.h * g.w);
  quantize_i8(g.n * g.c_in * g.h * g.w, x, beta, xq.get());
  conv2d_i8t_scaled_on(isa, g, xq.get(), wq, s, y);
}

void conv2d_i8t(const ConvGeometry& g, const int8_t* xq, const int8_t* wq, int32_t* acc) {
  conv2d_i8t_on(active_isa(), g, xq, wq, acc);
}

void conv2d_i2t(const ConvGeometry& g, const int8_t* xq, const uint8_t* w_i2, int32_t* acc) {
  if (const TapRowsKernels* k = tap_rows_kernels(active_isa(), g))
    conv2d_tap_rows(*k, g, xq, 1.0f, unpacked(g, w_i2).data(), nullptr, acc);
  else
    conv2d_i2t_lowered(g, xq, w_i2, acc);
}

void conv2d_i8t_scaled(const ConvGeometry& g, const int8_t* xq, const int8_t* wq, const AccScale& s,
                       float* y) {
  conv2d_i8t_scaled_on(active_isa(), g, xq, wq, s, y);
}

void conv2d_i2t_scaled(const ConvGeometry& g, const int8_t* xq, const uint8_t* w_i2,
                       const AccScale& s, float* y) {
  if (const TapRowsKernels* k = tap_rows_kernels(active_isa(), g)) {
    conv2d_tap_rows(*k, g, xq, 1.0f, unpacked(g, w_i2).data(), &s, y);
    return;
  }
  auto acc = std::make_unique_for_overwrite<int32_t[]>(g.n * g.c_out * g.out_pixels());
  conv2d_i2t_lowered(g, xq, w_i2, acc.get());
  scale_output(g, acc.get(), s, y);
}

void conv2d_i8t_scaled_from_f32(const ConvGeometry& g, const float* x, float beta, const int8_t* wq,
                                const AccScale& s, float* y) {
  conv2d_i8t_scaled_from_f32_on(active_isa(), g, x, beta, wq, s, y);
}

}  // namespace chimera
