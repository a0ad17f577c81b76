// The AVX-512 intrinsics of the exact mode's kernels, where the build targets AVX-512F and DQ:
// MLP_FIXED_AVX512 is defined then, and the portable formulas run otherwise.
#pragma once

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define MLP_FIXED_AVX512 1
// GCC 12's intrinsics fill unused lanes from a self-initialized variable, which -Wall reports at
// every use (GCC bug 105593); nothing here reads those lanes.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif
