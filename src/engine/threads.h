// One thread setting for the whole engine: our OpenMP loops and OpenBLAS follow it.
// Work is split statically, so a given thread count always gives the same results.
#pragma once

namespace chimera {

int hardware_threads();
void set_num_threads(int n);  // n >= 1; also sets OpenBLAS
int num_threads();

}  // namespace chimera
