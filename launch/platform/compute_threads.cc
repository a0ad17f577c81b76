// Thread limits of the product libraries; see compute_threads.h.
#include "launch/platform/compute_threads.h"

#include <dirent.h>

#ifdef MLP_OPENBLAS
extern "C" void openblas_set_num_threads(int threads);
// Joins OpenBLAS's worker threads; a later single-threaded call does not restart them.
extern "C" int blas_thread_shutdown_(void);
#endif
#ifdef MLP_ONEDNN
extern "C" void omp_set_num_threads(int threads);
#endif

namespace mlp {

void use_one_compute_thread() {
#ifdef MLP_ONEDNN
  // OpenMP starts its team at the first parallel region, so no thread ever exists beyond this.
  omp_set_num_threads(1);
#endif
#ifdef MLP_OPENBLAS
  openblas_set_num_threads(1);
  blas_thread_shutdown_();
#endif
}

int process_thread_count() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

}  // namespace mlp
