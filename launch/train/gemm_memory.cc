// --gemm auto's memory; see gemm_memory.h.
#include "launch/train/gemm_memory.h"

#include <google/protobuf/text_format.h>
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "core/atomic_file.h"
#include "core/config_fields.h"
#include "core/errors.h"
#include "core/hash.h"
#include "launch/platform/host_info.h"
#include "launch/train/gemm_setup.h"
#include "proto/run_records.pb.h"

namespace mlp {
namespace {

constexpr uint32_t kGemmChoiceFormatVersion = 1;
// A remembered choice is a few hundred bytes; anything larger is not one.
constexpr uintmax_t kMaxGemmChoiceBytes = 64 * 1024;

std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return text;
}

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// The rate a record holds for a backend, or a negative number when it holds none.
double rate_of(const pb::GemmRates& rates, GemmBackend backend) {
  switch (backend) {
    case GemmBackend::kOnednn:
      return rates.has_onednn() ? rates.onednn() : -1;
    case GemmBackend::kEigen:
      return rates.has_eigen() ? rates.eigen() : -1;
    case GemmBackend::kBlas:
      return rates.has_blas() ? rates.blas() : -1;
  }
  return -1;
}

// What is wrong with a parsed record for key (""when nothing), and its backend and rates.
std::string check_choice(const pb::GemmChoice& c, const GemmMemoryKey& key, GemmBackend* backend,
                         std::vector<GemmTiming>* timings) {
  if (c.format_version() != kGemmChoiceFormatVersion)
    return "format version " + std::to_string(c.format_version()) + " is not " +
           std::to_string(kGemmChoiceFormatVersion);
  if (c.host() != key.host) return "it was measured on host " + show_input(c.host());
  if (c.cpu() != key.cpu || c.cpu_flags() != key.cpu_flags)
    return "it was measured on another CPU (" + show_input(c.cpu()) + ")";
  if (c.products() != key.products) return "it was measured on other product shapes";
  if (c.backends() != key.backends)
    return "it was measured by a build with the backends " + show_input(c.backends());
  if (!c.has_unix_time() || c.unix_time() < 0) return "it has no time of measurement";
  timings->clear();
  const GemmTiming* fastest = nullptr;
  for (GemmBackend b : available_gemm_backends()) {
    const double rate = rate_of(c.gflops(), b);
    if (!(std::isfinite(rate) && rate > 0))
      return std::string("it holds no rate for ") + gemm_backend_name(b);
    timings->push_back({b, 0, rate});
  }
  for (const GemmTiming& t : *timings)
    if (fastest == nullptr || t.gflops > fastest->gflops) fastest = &t;
  if (c.backend() != gemm_backend_name(fastest->backend))
    return "its backend " + show_input(c.backend()) + " is not the fastest of its rates";
  *backend = fastest->backend;
  return "";
}

}  // namespace

GemmMemoryKey gemm_memory_key(const std::vector<GemmProduct>& products) {
  GemmMemoryKey key;
  key.host = host_name();
  key.cpu = cpu_model_name();
  const std::string flags = cpu_flags();
  key.cpu_flags = hex(fnv1a(flags.data(), flags.size()));
  for (const GemmProduct& p : products) {
    if (!key.products.empty()) key.products += ' ';
    key.products += std::to_string(p.m) + "x" + std::to_string(p.n) + "x" + std::to_string(p.k) +
                    (p.transpose_a ? "a'" : "") + (p.transpose_b ? "b'" : "");
  }
  for (GemmBackend b : available_gemm_backends())
    key.backends += std::string(key.backends.empty() ? "" : ",") + gemm_backend_name(b);
  return key;
}

std::string gemm_memory_path(const std::string& dir, const GemmMemoryKey& key) {
  const std::string all =
      key.host + '\n' + key.cpu + '\n' + key.cpu_flags + '\n' + key.products + '\n' + key.backends;
  return dir + "/gemm-choice-" + hex(fnv1a(all.data(), all.size())) + ".txt";
}

bool recall_gemm_choice(const std::string& path, const GemmMemoryKey& key, GemmBackend* backend,
                        std::vector<GemmTiming>* timings, std::string* why) {
  why->clear();
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return false;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error || size > kMaxGemmChoiceBytes) {
    *why = path + ": " + (error ? error.message() : "not a remembered choice (too large)");
    return false;
  }
  pb::GemmChoice choice;
  try {
    read_text_file(path, &choice);  // its errors name the path, line and column
  } catch (const UsageError& e) {
    *why = e.what();
    return false;
  }
  const std::string wrong = check_choice(choice, key, backend, timings);
  if (!wrong.empty()) *why = path + ": " + wrong;
  return wrong.empty();
}

void remember_gemm_choice(const std::string& path, const GemmMemoryKey& key,
                          const std::vector<GemmTiming>& timings) {
  pb::GemmChoice choice;
  choice.set_format_version(kGemmChoiceFormatVersion);
  choice.set_host(key.host);
  choice.set_cpu(key.cpu);
  choice.set_cpu_flags(key.cpu_flags);
  choice.set_products(key.products);
  choice.set_backends(key.backends);
  choice.set_backend(gemm_backend_name(fastest_gemm(timings).backend));
  GemmSetup rates;
  rates.timings = timings;
  *choice.mutable_gflops() = gemm_rates(rates);
  choice.set_unix_time(static_cast<int64_t>(std::time(nullptr)));
  std::string text;
  google::protobuf::TextFormat::PrintToString(choice, &text);
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  if (error)
    throw Error(ExitCode::kUsage, "cannot create the folder of " + path + ": " + error.message());
  // A temp name of this process's own, as several runs on a host may measure at once.
  AtomicFileStream out(path, ExitCode::kUsage, ".tmp" + std::to_string(::getpid()));
  out.write(text);
  out.commit();
}

}  // namespace mlp
