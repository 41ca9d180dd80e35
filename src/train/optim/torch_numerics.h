// Float32 math rounded the way the reference's PyTorch CPU build rounds it, where plain C++
// would differ by an ulp that matters: Chimera21's kappa = exp(lambda psi) feeds std_kappa =
// sqrt(E[k²] - E[k]²) over kappas near 1, where one ulp in a kappa or in a float32 sum moves
// the result by more than the golden tolerance. Pinned against the golden files
// (tests/test_optim.cpp): 8-lane vectors, fused multiply-adds, and Sleef's exp.
#pragma once

#include <cstdint>

namespace chimera {

// expf as Sleef's expf_u10 (what torch.exp runs on float tensors): at most 1 ulp from exp,
// and not always the nearest float.
float torch_expf(float x);

// Tensor.sum() of n contiguous floats, accumulated in float32 in torch's order: 8-lane vector
// partial sums in four interleaved accumulators with cascade levels, the leftover elements,
// then the lanes. (torch splits tensors over 32768 elements across threads, an order that
// depends on the thread count; here they are always summed in the one-thread order.)
float torch_sum_f32(const float* x, int64_t n);

// Tensor.norm() (2-norm) of n contiguous floats: 8-lane fused sums of squares, the lanes, then
// the leftover elements' squares (unfused). The golden diagnostics fit this best; they still
// differ from it by an ulp now and then, harmless next to a 1e-5 tolerance.
float torch_norm2_f32(const float* x, int64_t n);

}  // namespace chimera
