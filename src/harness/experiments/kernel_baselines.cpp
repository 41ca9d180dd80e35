#include "harness/experiments/kernel_baselines.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "engine/error.h"
#include "engine/kernels/gemm_f32.h"
#include "engine/threads.h"

namespace chimera {

Timing time_ms(const std::function<void()>& fn, int min_repeats, double min_seconds,
               const std::function<void()>& between) {
  using Clock = std::chrono::steady_clock;
  if (between) between();
  fn();  // warm-up: first-touch page faults, lazy initialisation, instruction cache
  std::vector<double> times;
  double total = 0;
  while (static_cast<int>(times.size()) < min_repeats || total < min_seconds) {
    if (between) between();
    const auto start = Clock::now();
    fn();
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    times.push_back(s * 1e3);
    total += s;
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times.front()};
}

// ---------------------------------------------------------------- float32 on OpenBLAS

F32Matmul::F32Matmul(int64_t M, int64_t N, int64_t K, const int8_t* A, const int8_t* W)
    : M_(M), N_(N), K_(K), a_(A, A + M * K), w_(W, W + N * K), c_(M * N) {}

void F32Matmul::run() {
  if (M_ == 1) {
    num_threads();  // OpenBLAS follows the engine's thread count
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<blasint>(N_), static_cast<blasint>(K_),
                1.0f, w_.data(), static_cast<blasint>(K_), a_.data(), 1, 0.0f, c_.data(), 1);
  } else {
    gemm_f32(false, true, M_, N_, K_, 1.0f, a_.data(), K_, w_.data(), K_, 0.0f, c_.data(), N_);
  }
}

// ---------------------------------------------------------------- int8 on oneDNN

struct DnnlInt8Matmul::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<int8_t> a;
  dnnl::memory src, weights, dst;
  dnnl::matmul matmul;
  std::string implementation;
};

DnnlInt8Matmul::DnnlInt8Matmul(int64_t M, int64_t N, int64_t K, const int8_t* A, const int8_t* W)
    : impl_(std::make_unique<Impl>()) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  num_threads();  // oneDNN's OpenMP runtime follows the engine's thread count
  Impl& p = *impl_;
  p.a.assign(A, A + M * K);
  const dnnl::memory::desc src_md({M, K}, dt::s8, tag::ab), dst_md({M, N}, dt::s32, tag::ab);
  // W [N, K] row-major is the [K, N] weights matrix with N outer: format "ba".
  const dnnl::memory::desc user_weights_md({K, N}, dt::s8, tag::ba);
  const dnnl::memory::desc any_weights_md({K, N}, dt::s8, tag::any);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, any_weights_md, dst_md),
                                        p.engine);
  p.implementation = pd.impl_info_str();
  dnnl::memory user_weights(user_weights_md, p.engine, const_cast<int8_t*>(W));
  p.weights = dnnl::memory(pd.weights_desc(), p.engine);
  dnnl::reorder(user_weights, p.weights).execute(p.stream, user_weights, p.weights);
  p.src = dnnl::memory(src_md, p.engine, p.a.data());
  p.dst = dnnl::memory(pd.dst_desc(), p.engine);
  p.matmul = dnnl::matmul(pd);
  p.stream.wait();
}

DnnlInt8Matmul::~DnnlInt8Matmul() = default;

void DnnlInt8Matmul::run() {
  impl_->matmul.execute(
      impl_->stream,
      {{DNNL_ARG_SRC, impl_->src}, {DNNL_ARG_WEIGHTS, impl_->weights}, {DNNL_ARG_DST, impl_->dst}});
  impl_->stream.wait();
}

const int32_t* DnnlInt8Matmul::result() const {
  return static_cast<const int32_t*>(impl_->dst.get_data_handle());
}

const char* DnnlInt8Matmul::implementation() const {
  return impl_->implementation.c_str();
}

// ---------------------------------------------------------------- memory bandwidth

namespace {

// This thread's contiguous share [begin, end) of n items, a multiple of 64 items long.
void share(int64_t n, int64_t& begin, int64_t& end) {
  const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
  const int64_t per = ((n + threads - 1) / threads + 63) / 64 * 64;
  begin = std::min(n, t * per);
  end = std::min(n, begin + per);
}

volatile int64_t g_sink;  // keeps the reads from being optimised away

}  // namespace

Bandwidth copy_gbps(int64_t bytes) {
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  num_threads();
  const Timing t = time_ms(
      [&] {
#pragma omp parallel
        {
          int64_t begin, end;
          share(bytes, begin, end);
          if (end > begin) std::memcpy(dst.data() + begin, src.data() + begin, end - begin);
        }
      },
      5, 0.2);
  const double gb = 2.0 * static_cast<double>(bytes) / 1e9;
  return {gb / (t.median_ms * 1e-3), gb / (t.min_ms * 1e-3)};
}

Bandwidth read_gbps(int64_t bytes) {
  // glibc's memchr (its AVX2 / EVEX variant, selected at run time) for a byte that never
  // occurs: a streaming read at close to the cache's or DRAM's limit, which a plain C loop in
  // the baseline ISA cannot reach.
  const int64_t n = std::max<int64_t>(bytes, 4096);
  std::vector<char> data(n, 1);
  num_threads();
  // Enough passes per timed run that the run is long against the timer and the thread start.
  const int64_t passes = std::max<int64_t>(1, (int64_t{256} << 20) / n);
  const Timing t = time_ms(
      [&] {
        int64_t found = 0;
#pragma omp parallel reduction(+ : found)
        {
          int64_t begin, end;
          share(n, begin, end);
          for (int64_t pass = 0; pass < passes && end > begin; ++pass) {
            // memchr is declared pure: without the barrier the compiler calls it only once.
            asm volatile("" ::: "memory");
            found += std::memchr(data.data() + begin, 7, end - begin) != nullptr;
          }
        }
        g_sink = found;
      },
      5, 0.2);
  const double gb = static_cast<double>(passes * n) / 1e9;
  return {gb / (t.median_ms * 1e-3), gb / (t.min_ms * 1e-3)};
}

CacheFlusher::CacheFlusher(int64_t bytes) : buffer_(std::max<int64_t>(bytes, 4096), 1) {}

void CacheFlusher::operator()() {
  const int64_t n = static_cast<int64_t>(buffer_.size());
  int64_t found = 0;
#pragma omp parallel reduction(+ : found)
  {  // every core reads, so every core's private caches are flushed too
    int64_t begin, end;
    share(n, begin, end);
    if (end > begin) found += std::memchr(buffer_.data() + begin, 7, end - begin) != nullptr;
  }
  g_sink = found;
}

}  // namespace chimera
