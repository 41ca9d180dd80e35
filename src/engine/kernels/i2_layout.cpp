#include "engine/kernels/i2_layout.h"

#include <cstring>

#include "engine/error.h"

namespace chimera {

void i2_pack_ref(int64_t N, int64_t K, const int8_t* W, int64_t ldw, uint8_t* packed) {
  CHIMERA_CHECK(N >= 0 && K >= 0 && ldw >= K, "i2_pack_ref: need N, K >= 0 and ldw >= K, got N=", N,
                " K=", K, " ldw=", ldw);
  const int64_t row_bytes = i2_row_bytes(K);
  std::memset(packed, 0x55, static_cast<size_t>(N * row_bytes));  // code 1 in every bit pair
  for (int64_t n = 0; n < N; ++n) {
    uint8_t* row = packed + n * row_bytes;
    for (int64_t k = 0; k < K; ++k) {
      const int w = W[n * ldw + k];
      CHIMERA_CHECK(w >= -1 && w <= 1, "i2_pack_ref: weight (", n, ", ", k, ") is ", w,
                    "; packed weights must be ternary codes in {-1, 0, 1}");
      const int64_t j = k % kI2BlockCols;
      uint8_t& byte = row[k / kI2BlockCols * kI2BlockBytes + j % 32];
      const int shift = static_cast<int>(2 * (j / 32));
      byte = static_cast<uint8_t>((byte & ~(3 << shift)) | ((w + 1) << shift));
    }
  }
}

void i2_unpack_ref(int64_t N, int64_t K, const uint8_t* packed, int8_t* W, int64_t ldw) {
  CHIMERA_CHECK(N >= 0 && K >= 0 && ldw >= K,
                "i2_unpack_ref: need N, K >= 0 and ldw >= K, got N=", N, " K=", K, " ldw=", ldw);
  const int64_t row_bytes = i2_row_bytes(K);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const int code = i2_code(packed + n * row_bytes, k);
      CHIMERA_CHECK(code != 3, "i2_unpack_ref: code 3 at (", n, ", ", k,
                    "): not a packed ternary weight (corrupt data?)");
      W[n * ldw + k] = static_cast<int8_t>(code - 1);
    }
}

}  // namespace chimera
