// Times data-parallel training steps through the real code (model, loss, optimizer, GradientSync
// over the MPI communicator) on random data, run under mpirun by bench_dist.sh: throughput, the
// split of a step into forward, backward, exposed gradient sync and optimizer, and a raw
// allreduce of the gradient's size, and the compute alone (forward, backward, optimizer) so that a
// host where compute slows with every core busy shows. Rank 0 prints one key=value line.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "launch/platform/compute_threads.h"
#include "core/errors.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "dist/communicator.h"
#include "dist/gradient_sync.h"
#include "core/config_fields.h"
#include "launch/train/gemm_setup.h"

namespace mlp {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string hidden = "1024,1024";
  int batch_per_rank = 128;
  int steps = 60;
  int warmup = 10;
  pb::GradSync mode = pb::TrainConfig().grad_sync();
  int bucket_kb = 1024;
  std::string gemm = "auto";
};

[[noreturn]] void usage(const std::string& problem) {
  const std::string modes = field_choices(*pb::TrainConfig::descriptor(), "grad_sync");
  std::fprintf(stderr,
               "bench_dist: %s\nusage: mpirun -np N bench_dist [--hidden 1024,1024] "
               "[--batch-per-rank 128] [--steps 60] [--warmup 10] [--mode %s] "
               "[--bucket-kb 1024] [--gemm auto|onednn|eigen|blas]\n",
               problem.c_str(), modes.c_str());
  std::exit(2);
}

int positive(const char* flag, const char* text) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1 || value > (1 << 24))
    usage(std::string(flag) + ": expected a positive integer, got \"" + text + "\"");
  return static_cast<int>(value);
}

// The config's own parsing of the value, so the modes are those of --grad-sync.
pb::GradSync parse_mode(const char* text) {
  pb::TrainConfig config;
  try {
    set_field_from_text(&config, "grad_sync", text, "--mode");
  } catch (const UsageError& e) {
    usage(e.what());
  }
  return config.grad_sync();
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const char* value = argv[i + 1];
    if (flag == "--hidden")
      o.hidden = value;
    else if (flag == "--batch-per-rank")
      o.batch_per_rank = positive(argv[i], value);
    else if (flag == "--steps")
      o.steps = positive(argv[i], value);
    else if (flag == "--warmup")
      o.warmup = positive(argv[i], value);
    else if (flag == "--bucket-kb")
      o.bucket_kb = positive(argv[i], value);
    else if (flag == "--mode")
      o.mode = parse_mode(value);
    else if (flag == "--gemm")
      o.gemm = value;
    else
      usage("unknown flag or value: " + flag + " " + value);
  }
  return o;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Median of each phase over the timed steps: robust to the odd step disturbed by the machine.
double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

int run(const Options& o, Communicator& comm) {
  pb::ModelConfig cfg;
  cfg.set_hidden(o.hidden);
  cfg.set_inputs(784);
  cfg.set_outputs(10);
  // The trainer's own choice: rank 0 times the backends on these products, all ranks use it.
  pb::TrainConfig run_config;
  *run_config.mutable_model() = cfg;
  run_config.set_batch_size(o.batch_per_rank * comm.size());
  run_config.set_gemm(o.gemm);
  run_config.set_grad_sync(o.mode);
  GemmSetup gemm;
  try {
    gemm = choose_gemm_backend(run_config, comm);
  } catch (const UsageError& e) {
    usage(e.what());
  }
  Model<float> model(cfg, {gemm.backend});
  model.initialize(1);
  ParamStore<float>& store = model.store();
  pb::OptimizerConfig adam;
  adam.set_kind(pb::ADAM);
  std::unique_ptr<Optimizer> optimizer = make_optimizer(adam, store.layout());
  std::unique_ptr<Loss<float>> loss = make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY);
  const size_t min_bucket = static_cast<size_t>(o.bucket_kb) * 1024 / sizeof(float);
  const std::unique_ptr<GradientSync> sync =
      make_gradient_sync(o.mode, comm, store.grads(), store.layout(), min_bucket);
  const auto on_ready = [&sync](size_t begin, size_t end) { sync->on_ready(begin, end); };

  const int n = o.batch_per_rank;
  const int global_batch = n * comm.size();
  std::mt19937 rng(1234 + comm.rank());
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  Matrix<float> x(784, n);  // (I, N)
  for (int i = 0; i < x.size(); ++i) x.data()[i] = pixel(rng);
  std::vector<int32_t> labels(n);
  std::vector<int64_t> ids(n);
  for (int i = 0; i < n; ++i) labels[i] = static_cast<int32_t>(rng() % 10), ids[i] = i;
  Matrix<float> doutputs;  // (O, N)

  std::vector<double> forward_ms, backward_ms, sync_ms, optimizer_ms, compute_ms;
  comm.barrier();
  Clock::time_point timed_start = Clock::now();
  for (int step = 0; step < o.warmup + o.steps; ++step) {
    if (step == o.warmup) {
      comm.barrier();
      timed_start = Clock::now();
    }
    auto t = Clock::now();
    sync->begin_step();
    const Matrix<float>& outputs = model.forward(x, ForwardContext{true, 1, step, ids.data()});
    loss->evaluate(outputs, Targets<float>{labels.data(), nullptr}, 1.0f / global_batch, &doutputs);
    const double f = ms_since(t);
    t = Clock::now();
    model.backward(x, doutputs, on_ready);
    const double b = ms_since(t);
    t = Clock::now();
    if (!sync->finish(true)) usage("non-finite gradient in the benchmark");
    const double s = ms_since(t);
    t = Clock::now();
    optimizer->step(store.values(), store.grads(), adam.lr(), sync->owned());
    const double u = ms_since(t);
    t = Clock::now();
    sync->share_owned(store.values());
    const double shared = ms_since(t);
    if (step >= o.warmup) {
      forward_ms.push_back(f), backward_ms.push_back(b), sync_ms.push_back(s + shared),
          optimizer_ms.push_back(u), compute_ms.push_back(f + b + u);
    }
  }
  comm.barrier();
  const double timed_seconds = ms_since(timed_start) / 1000;

  // The same number of floats in one blocking allreduce, with nothing else to do.
  std::vector<float> buffer(store.size(), 1.0f);
  std::vector<double> allreduce_ms;
  for (int i = 0; i < 30; ++i) {
    comm.barrier();
    const auto t = Clock::now();
    comm.allreduce_sum(buffer.data(), buffer.size());
    allreduce_ms.push_back(ms_since(t));
  }

  if (comm.rank() == 0) {
    std::printf(
        "np=%d gemm=%s mode=%s params=%zu gradient_mb=%.2f buckets=%zu samples_per_second=%.0f "
        "step_ms=%.3f forward_ms=%.3f backward_ms=%.3f sync_ms=%.3f optimizer_ms=%.3f "
        "compute_ms=%.3f allreduce_ms=%.3f\n",
        comm.size(), gemm_backend_name(gemm.backend),
        field_text(run_config, "grad_sync").c_str(), store.size(),
        store.size() * sizeof(float) / 1e6,
        o.mode == pb::OVERLAP ? gradient_buckets(store.layout(), min_bucket).size() : size_t{1},
        global_batch * o.steps / timed_seconds, timed_seconds * 1000 / o.steps, median(forward_ms),
        median(backward_ms), median(sync_ms), median(optimizer_ms), median(compute_ms),
        median(allreduce_ms));
  }
  return 0;
}

}  // namespace
}  // namespace mlp

int main(int argc, char** argv) {
  const mlp::Options options = mlp::parse(argc, argv);
  mlp::use_one_compute_thread();
  std::unique_ptr<mlp::Communicator> comm = mlp::make_communicator(&argc, &argv, 0);
  return mlp::run(options, *comm);
}
