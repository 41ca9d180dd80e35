#include "engine/kernels/conv2d_f32.h"

#include <algorithm>
#include <memory>

#include "engine/kernels/gemm_f32.h"

namespace chimera {
namespace {

// The lowered columns of a run of samples stay under this size, so a large batch never needs
// one huge buffer. Chunking changes no result: every GEMM still sees exactly one sample.
constexpr int64_t kColumnBudgetBytes = int64_t{16} << 20;

int64_t group_cols_size(const ConvGeometry& g) {
  return g.k_size() * g.out_pixels();
}

int64_t samples_per_chunk(const ConvGeometry& g) {
  const int64_t per_sample = g.p.groups * group_cols_size(g) * int64_t{sizeof(float)};
  return std::clamp<int64_t>(kColumnBudgetBytes / per_sample, 1, std::max<int64_t>(g.n, 1));
}

std::unique_ptr<float[]> column_buffer(const ConvGeometry& g, int64_t chunk) {
  return std::make_unique_for_overwrite<float[]>(chunk * g.p.groups * group_cols_size(g));
}

// Columns of group gr of the s-th sample in a chunk buffer.
float* cols_of(const ConvGeometry& g, float* cols, int64_t s, int64_t gr) {
  return cols + (s * g.p.groups + gr) * group_cols_size(g);
}

// Lowers samples [first, first + count) into cols, in parallel over samples and groups.
void lower_samples(const ConvGeometry& g, const float* x, int64_t first, int64_t count,
                   float* cols) {
  const int64_t in_size = g.c_in * g.h * g.w;
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t s = 0; s < count; ++s)
    for (int64_t gr = 0; gr < g.p.groups; ++gr)
      im2col(g, x + (first + s) * in_size, gr, cols_of(g, cols, s, gr));
}

// [cout_g, out_pixels] block of group gr of sample n in y or dy.
int64_t out_offset(const ConvGeometry& g, int64_t n, int64_t gr) {
  return (n * g.c_out + gr * g.cout_g()) * g.out_pixels();
}

}  // namespace

// GEMMs run outside OpenMP regions: OpenBLAS parallelises each one itself.
void conv2d_forward_f32(const ConvGeometry& g, const float* x, const float* w, float* y) {
  const int64_t chunk = samples_per_chunk(g), k = g.k_size(), pixels = g.out_pixels();
  auto cols = column_buffer(g, chunk);
  for (int64_t first = 0; first < g.n; first += chunk) {
    const int64_t count = std::min(chunk, g.n - first);
    lower_samples(g, x, first, count, cols.get());
    for (int64_t s = 0; s < count; ++s)
      for (int64_t gr = 0; gr < g.p.groups; ++gr)
        gemm_f32(false, false, g.cout_g(), pixels, k, 1.0f, w + gr * g.cout_g() * k, k,
                 cols_of(g, cols.get(), s, gr), pixels, 0.0f, y + out_offset(g, first + s, gr),
                 pixels);
  }
}

// dcols = w_g^T dy_g per sample and group, then col2im scatters them back onto dx.
void conv2d_backward_input_f32(const ConvGeometry& g, const float* w, const float* dy, float* dx) {
  const int64_t chunk = samples_per_chunk(g), k = g.k_size(), pixels = g.out_pixels();
  const int64_t in_size = g.c_in * g.h * g.w;
  std::fill(dx, dx + g.n * in_size, 0.0f);
  auto dcols = column_buffer(g, chunk);
  for (int64_t first = 0; first < g.n; first += chunk) {
    const int64_t count = std::min(chunk, g.n - first);
    for (int64_t s = 0; s < count; ++s)
      for (int64_t gr = 0; gr < g.p.groups; ++gr)
        gemm_f32(true, false, k, pixels, g.cout_g(), 1.0f, w + gr * g.cout_g() * k, k,
                 dy + out_offset(g, first + s, gr), pixels, 0.0f, cols_of(g, dcols.get(), s, gr),
                 pixels);
        // Groups cover disjoint input channels, so every (sample, group) pair writes its own part.
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t s = 0; s < count; ++s)
      for (int64_t gr = 0; gr < g.p.groups; ++gr)
        col2im_f32(g, cols_of(g, dcols.get(), s, gr), gr, dx + (first + s) * in_size);
  }
}

// dw_g += dy_g cols^T, one sample after another.
void conv2d_backward_weight_f32(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  const int64_t chunk = samples_per_chunk(g), k = g.k_size(), pixels = g.out_pixels();
  std::fill(dw, dw + g.c_out * k, 0.0f);
  auto cols = column_buffer(g, chunk);
  for (int64_t first = 0; first < g.n; first += chunk) {
    const int64_t count = std::min(chunk, g.n - first);
    lower_samples(g, x, first, count, cols.get());
    for (int64_t s = 0; s < count; ++s)
      for (int64_t gr = 0; gr < g.p.groups; ++gr)
        gemm_f32(false, true, g.cout_g(), k, pixels, 1.0f, dy + out_offset(g, first + s, gr),
                 pixels, cols_of(g, cols.get(), s, gr), pixels, 1.0f, dw + gr * g.cout_g() * k, k);
  }
}

}  // namespace chimera
