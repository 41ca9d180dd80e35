// Float sums taken in double, in one fixed order on every ISA: eight running sums (lane k takes
// i = k mod 8 over the whole blocks of eight), combined as ((0+1)+(2+3))+((4+5)+(6+7)), then
// the remaining elements in order: sum_terms below, and its vectorised forms where they are hot
// (BatchNorm statistics and gradients, RMSNorm's mean square). Single-threaded.
#pragma once

#include <cstdint>

namespace chimera {

// Sum of term(i) for i in [0, n) in double. Eight running sums (lane k takes i = k mod 8) are
// combined in a fixed order at the end: faster than one chain, and the same bits on every run.
// The functions below are the common sums in this order (sum_f64 and BatchNorm's), vectorised.
template <class F>
double sum_terms(int64_t n, F term) {
  double lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += term(i + k);
  double s =
      ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; i < n; ++i) s += term(i);
  return s;
}

double sum_f64(int64_t n, const float* x);  // sum of x
double sum_sq_f64(int64_t n, const float* x);  // sum of x * x, each product exact in double
// sum of the float (x - m) * (x - m)
double sum_sq_dev_f64(int64_t n, const float* x, float m);
// Both in one pass: *sum_g = sum of g, *sum_g_dev = sum of the float g * (x - m).
void sum_and_dot_dev_f64(int64_t n, const float* g, const float* x, float m, double* sum_g,
                         double* sum_g_dev);

// The AVX2 loops (reduce_f64_avx2.cpp); the functions above dispatch to them.
double sum_f64__avx2(int64_t n, const float* x);
double sum_sq_f64__avx2(int64_t n, const float* x);
double sum_sq_dev_f64__avx2(int64_t n, const float* x, float m);
void sum_and_dot_dev_f64__avx2(int64_t n, const float* g, const float* x, float m, double* sum_g,
                               double* sum_g_dev);

}  // namespace chimera
