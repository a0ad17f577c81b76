// Thread limit of the BLAS behind Eigen; see compute_threads.h.
#include "core/compute_threads.h"

#ifdef MLP_OPENBLAS
extern "C" void openblas_set_num_threads(int threads);
#endif

namespace mlp {

void use_one_compute_thread() {
#ifdef MLP_OPENBLAS
  // The environment variable would be read too late: OpenBLAS reads it when it is loaded.
  openblas_set_num_threads(1);
#endif
}

}  // namespace mlp
