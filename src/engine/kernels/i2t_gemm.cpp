// Dispatch and threading for i2t_gemm: checks arguments, picks the path for M (GEMV, small M,
// large M), splits C into blocks and runs the ISA's micro-kernel on each block in parallel.
#include "engine/kernels/i2t_gemm.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>

#include "engine/error.h"
#include "engine/kernels/i2_layout.h"
#include "engine/kernels/int_epilogue.h"
#include "engine/kernels/i2t_gemm_ukernels.h"
#include "engine/threads.h"

namespace chimera {
namespace {

struct I2tUkernels {
  I2tGemmUkernel gemv;   // M = 1
  I2tGemmUkernel small;  // the rest
  I2tGemmUkernel large;  // enough rows to share a panel's decode, K <= kLargeMaxK
  // Columns per large-M block. AVX2: 16 of its 16-column panels, because its kernel shifts a
  // block's activations to u8 once per call (at one panel per call that cost as much as the
  // vpxor per broadcast it replaced). AVX-512: one 64-column panel (4 per call measured 10-20 %
  // slower at M = 2048 and K = 8192).
  int64_t large_block_cols;
};

// Indexed by Isa; filled at compile time, so the only run-time choice is active_isa(), once.
constexpr I2tUkernels kUkernels[] = {
    {i2t_gemm_ukernel__scalar, i2t_gemm_ukernel__scalar, i2t_gemm_ukernel__scalar, 64},
    {i2t_gemv_ukernel__avx2_1x1, i2t_gemm_ukernel__avx2_8x1, i2t_gemm_ukernel__avx2_6x16c4, 256},
    {i2t_gemv_ukernel__avx512vnni_1x4, i2t_gemm_ukernel__avx512vnni_4x4,
     i2t_gemm_ukernel__avx512vnni_16x16c4, 64}};
static_assert(std::size(kUkernels) == static_cast<size_t>(Isa::avx512vnni) + 1,
              "one set of micro-kernels per Isa");

// The AVX-512 GEMV accumulates codes scaled by up to 64: 2^22 / 128 blocks * 4 * 128 * 127
// < 2^31 per int32 lane.
constexpr int64_t kMaxK = int64_t{1} << 22;
// Decoding the weights once per block into a panel beats decoding them in registers for every
// 4 rows of A once the decode is shared by enough rows: from 64 rows for K <= 1024 (the ResNet
// convolutions), from 128 for longer rows (measured on Zen 5). The panel takes 64 bytes per
// column of K, so very long rows stay on the tiles.
constexpr int64_t kLargeMShortK = 64, kLargeMLongK = 128, kShortK = 1024;
constexpr int64_t kLargeMaxK = 8192;
constexpr int64_t kSmallBlockRows = 64;           // rows of A per block: 256 KB at K = 4096
constexpr int64_t kSmallBlockWBytes = 64 * 1024;  // packed W per block: L2-resident
constexpr int64_t kSerialMacs = 1 << 18;          // below this, threads cost more than they save

// A thread's growing scratch buffer (see ukernel_scratch).
struct Scratch {
  void* data = nullptr;
  int64_t size = 0;
  ~Scratch() { std::free(data); }
  void* get(int64_t bytes) {
    if (size < bytes) {
      std::free(data);
      const int64_t rounded = (bytes + 63) / 64 * 64;
      data = std::aligned_alloc(64, static_cast<size_t>(rounded));
      if (data == nullptr) std::abort();
      size = rounded;
    }
    return data;
  }
};

// Where the products go: int32 sums into C, or, with an epilogue, floats into Y. The float
// output takes each block's sums from a per-thread buffer and converts them while they are still
// in L2: a separate pass over a 512-token prompt's sums read them back from memory.
struct Output {
  int32_t* C = nullptr;
  int64_t ldc = 0;
  const AccScale* epilogue = nullptr;
  float* Y = nullptr;
};

struct Product {
  int64_t N;
  const uint8_t* W;
  Output out;
};

void check(int64_t M, int64_t K, const int8_t* A, int64_t lda, const Product& p) {
  CHIMERA_CHECK(M >= 0 && p.N >= 0 && K >= 0, "i2t_gemm: sizes must be >= 0, got M=", M,
                " N=", p.N, " K=", K);
  CHIMERA_CHECK(K <= kMaxK, "i2t_gemm: K=", K, " is too deep for exact int32 sums (max ", kMaxK,
                ")");
  CHIMERA_CHECK(lda >= K && p.out.ldc >= p.N, "i2t_gemm: row strides must cover a row: lda=",
                lda, " (K=", K, "), ldc=", p.out.ldc, " (N=", p.N, ")");
  CHIMERA_CHECK(M == 0 || p.N == 0 ||
                    ((p.out.epilogue ? p.out.Y != nullptr : p.out.C != nullptr) &&
                     (K == 0 || (A != nullptr && p.W != nullptr))),
                "i2t_gemm: null data pointer");
}

// How one product is cut into blocks, each one micro-kernel call.
struct Plan {
  I2tGemmUkernel ukernel;
  int64_t block_rows, block_cols, row_blocks, col_blocks;
  int64_t blocks() const { return row_blocks * col_blocks; }
};

Plan plan(const I2tUkernels& ukernels, int64_t M, int64_t N, int64_t K) {
  const int64_t row_bytes = i2_row_bytes(K), threads = num_threads();
  Plan p{};
  if (M == 1) {  // one contiguous share of W per thread: a single sequential stream each
    p.ukernel = ukernels.gemv;
    p.block_rows = 1;
    p.block_cols = std::max<int64_t>(16, (N + threads - 1) / threads);
  } else if (M < (K <= kShortK ? kLargeMShortK : kLargeMLongK) || K > kLargeMaxK) {
    p.ukernel = ukernels.small;
    p.block_rows = kSmallBlockRows;
    p.block_cols = std::max<int64_t>(16, kSmallBlockWBytes / row_bytes);
  } else {
    p.ukernel = ukernels.large;
    p.block_cols = ukernels.large_block_cols;
    // Rows per panel: enough to amortise its decode (256 and up), few enough that every thread
    // gets several blocks.
    const int64_t col_blocks = (N + p.block_cols - 1) / p.block_cols;
    const int64_t row_blocks = (4 * threads + col_blocks - 1) / col_blocks;
    p.block_rows = std::clamp<int64_t>((M + row_blocks - 1) / row_blocks, 256, 1024);
  }
  p.row_blocks = (M + p.block_rows - 1) / p.block_rows;
  p.col_blocks = (N + p.block_cols - 1) / p.block_cols;
  return p;
}

void run_block(const Plan& plan, int64_t b, int64_t M, int64_t K, const int8_t* A, int64_t lda,
               const Product& p) {
  const int64_t m0 = b / plan.col_blocks * plan.block_rows, n0 = b % plan.col_blocks * plan.block_cols;
  const int64_t rows = std::min(plan.block_rows, M - m0), cols = std::min(plan.block_cols, p.N - n0);
  const uint8_t* W = p.W + n0 * i2_row_bytes(K);
  const int64_t ldc = p.out.ldc;
  if (!p.out.epilogue) {
    plan.ukernel(rows, cols, K, A + m0 * lda, lda, W, p.out.C + m0 * ldc + n0, ldc);
    return;
  }
  thread_local Scratch sums;
  auto* c = static_cast<int32_t*>(sums.get(rows * cols * 4));
  plan.ukernel(rows, cols, K, A + m0 * lda, lda, W, c, cols);
  scale_acc_block_f32(rows, cols, c, cols, *p.out.epilogue, m0, n0, p.out.Y + m0 * ldc + n0, ldc);
}

// K = 0: empty sums, which the kernels need not handle.
void zero_depth(int64_t M, const Product& p) {
  const int32_t zero[1] = {0};
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < p.N; ++n)
      if (p.out.epilogue)
        scale_acc_block_f32(1, 1, zero, 1, *p.out.epilogue, m, n, p.out.Y + m * p.out.ldc + n,
                            p.out.ldc);
      else
        p.out.C[m * p.out.ldc + n] = 0;
}

constexpr int64_t kMaxProducts = kI2tMaxSharedProducts;

// Every block of every product in one parallel region.
void run(const I2tUkernels& ukernels, int64_t M, int64_t K, const int8_t* A, int64_t lda,
         const Product* products, int64_t count) {
  CHIMERA_CHECK(count >= 1 && count <= kMaxProducts, "i2t_gemm: 1 to ", kMaxProducts,
                " products share one input, got ", count);
  for (int64_t i = 0; i < count; ++i) check(M, K, A, lda, products[i]);
  if (M == 0) return;
  if (K == 0) {
    for (int64_t i = 0; i < count; ++i) zero_depth(M, products[i]);
    return;
  }
  Plan plans[kMaxProducts];
  int64_t blocks = 0, columns = 0;
  for (int64_t i = 0; i < count; ++i) {
    plans[i] = plan(ukernels, M, products[i].N, K);
    blocks += plans[i].blocks();
    columns += products[i].N;
  }
  auto block = [&](int64_t b) {
    int64_t i = 0;
    for (; b >= plans[i].blocks(); ++i) b -= plans[i].blocks();
    run_block(plans[i], b, M, K, A, lda, products[i]);
  };
  // Small products, and every product on one thread, skip the OpenMP runtime altogether (a
  // false if() clause still enters it).
  if (blocks == 1 || M * columns * K < kSerialMacs || num_threads() == 1) {
    for (int64_t b = 0; b < blocks; ++b) block(b);
    return;
  }
  if (count == 1) {  // consecutive blocks per thread: at M = 1 one stream through W each
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) block(b);
  } else {  // round robin: every thread gets its share of each product, large or small
#pragma omp parallel for schedule(static, 1)
    for (int64_t b = 0; b < blocks; ++b) block(b);
  }
}

}  // namespace

void* ukernel_scratch(int64_t bytes) {
  thread_local Scratch buffer;
  return buffer.get(bytes);
}

void i2t_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const uint8_t* W,
              int32_t* C, int64_t ldc) {
  static const I2tUkernels& ukernels = kUkernels[static_cast<int>(active_isa())];
  const Product p{N, W, Output{C, ldc}};
  run(ukernels, M, K, A, lda, &p, 1);
}

void i2t_gemm_f32(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const uint8_t* W,
                  const AccScale& epilogue, float* Y, int64_t ldy) {
  static const I2tUkernels& ukernels = kUkernels[static_cast<int>(active_isa())];
  const Product p{N, W, Output{nullptr, ldy, &epilogue, Y}};
  run(ukernels, M, K, A, lda, &p, 1);
}

void i2t_gemm_f32_shared(int64_t M, int64_t K, const int8_t* A, int64_t lda,
                         const I2tFloatProduct* products, int64_t count) {
  static const I2tUkernels& ukernels = kUkernels[static_cast<int>(active_isa())];
  Product p[kMaxProducts];
  for (int64_t i = 0; i < count && i < kMaxProducts; ++i)
    p[i] = {products[i].N, products[i].W,
            Output{nullptr, products[i].ldy, &products[i].epilogue, products[i].Y}};
  run(ukernels, M, K, A, lda, p, count);
}

void i2t_gemm_isa(Isa isa, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                  const uint8_t* W, int32_t* C, int64_t ldc) {
  CHIMERA_CHECK(isa_supported(isa), "i2t_gemm: this CPU does not support ", isa_name(isa),
                "; the best available here is ", isa_name(best_isa()));
  const Product p{N, W, Output{C, ldc}};
  run(kUkernels[static_cast<int>(isa)], M, K, A, lda, &p, 1);
}

void i2t_gemm_f32_isa(Isa isa, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                      const uint8_t* W, const AccScale& epilogue, float* Y, int64_t ldy) {
  CHIMERA_CHECK(isa_supported(isa), "i2t_gemm: this CPU does not support ", isa_name(isa),
                "; the best available here is ", isa_name(best_isa()));
  const Product p{N, W, Output{nullptr, ldy, &epilogue, Y}};
  run(kUkernels[static_cast<int>(isa)], M, K, A, lda, &p, 1);
}

}  // namespace chimera
