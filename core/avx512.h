// The AVX-512 intrinsics of the exact mode's kernels, where the build targets AVX-512F and DQ:
// MLP_FIXED_AVX512 is defined then, and the portable formulas run otherwise.
#pragma once

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define MLP_FIXED_AVX512 1
// (GCC 12's warnings about their unused lanes are off for the whole build: CMakeLists.txt.)
#include <immintrin.h>
#endif
