// Float sums taken in double, in one fixed order on every ISA: eight running sums (lane k takes
// i = k mod 8 over the whole blocks of eight), combined as ((0+1)+(2+3))+((4+5)+(6+7)), then
// the remaining elements in order. The same order as sum_terms (ops/op_helpers.h), which these
// replace where they are hot (BatchNorm statistics and gradients). Single-threaded.
#pragma once

#include <cstdint>

namespace chimera {

double sum_f64(int64_t n, const float* x);  // sum of x
// sum of the float (x - m) * (x - m)
double sum_sq_dev_f64(int64_t n, const float* x, float m);
// Both in one pass: *sum_g = sum of g, *sum_g_dev = sum of the float g * (x - m).
void sum_and_dot_dev_f64(int64_t n, const float* g, const float* x, float m, double* sum_g,
                         double* sum_g_dev);

// The AVX2 loops (reduce_f64_avx2.cpp); the functions above dispatch to them.
double sum_f64__avx2(int64_t n, const float* x);
double sum_sq_dev_f64__avx2(int64_t n, const float* x, float m);
void sum_and_dot_dev_f64__avx2(int64_t n, const float* g, const float* x, float m, double* sum_g,
                               double* sum_g_dev);

}  // namespace chimera
