// Backend names and this build's backends; see gemm_backend.h.
#include "core/gemm_backend.h"

#include "core/errors.h"

namespace mlp {
namespace {

constexpr bool kHaveOnednn =
#ifdef MLP_ONEDNN
    true;
#else
    false;
#endif
constexpr bool kHaveBlas =
#ifdef MLP_OPENBLAS
    true;
#else
    false;
#endif

}  // namespace

const char* gemm_backend_name(GemmBackend backend) {
  switch (backend) {
    case GemmBackend::kOnednn:
      return "onednn";
    case GemmBackend::kEigen:
      return "eigen";
    case GemmBackend::kBlas:
      return "blas";
  }
  return "unknown";
}

const char* precision_name(Precision precision) {
  return precision == Precision::kBf16 ? "bf16" : "fp32";
}

const std::vector<GemmBackend>& all_gemm_backends() {
  static const std::vector<GemmBackend> all = {GemmBackend::kOnednn, GemmBackend::kEigen,
                                               GemmBackend::kBlas};
  return all;
}

bool gemm_backend_available(GemmBackend backend) {
  switch (backend) {
    case GemmBackend::kOnednn:
      return kHaveOnednn;
    case GemmBackend::kEigen:
      return true;
    case GemmBackend::kBlas:
      return kHaveBlas;
  }
  return false;
}

std::vector<GemmBackend> available_gemm_backends() {
  std::vector<GemmBackend> available;
  for (GemmBackend b : all_gemm_backends())
    if (gemm_backend_available(b)) available.push_back(b);
  return available;
}

GemmBackend parse_gemm_backend(const std::string& name, const std::string& flag) {
  for (GemmBackend b : all_gemm_backends()) {
    if (name != gemm_backend_name(b)) continue;
    if (gemm_backend_available(b)) return b;
    const char* how = b == GemmBackend::kOnednn
                          ? "install libdnnl-dev and rebuild with -DMLP_ONEDNN=ON"
                          : "install libopenblas-dev and rebuild with -DMLP_OPENBLAS=ON";
    throw UsageError(flag + ": backend \"" + name + "\" is not in this build (" + how +
                     ", or use --gemm auto)");
  }
  throw UsageError(flag + ": " + quote_input(name) + " is not one of auto, onednn, eigen, blas");
}

}  // namespace mlp
