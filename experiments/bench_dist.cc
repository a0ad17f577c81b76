// Times data-parallel training steps through the trainer's own step (launch/train/train_step.h)
// over the MPI communicator on random data, run under mpirun by bench_dist.sh: throughput, the
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

#include "core/config_fields.h"
#include "core/errors.h"
#include "dist/communicator.h"
#include "dist/gradient_sync.h"
#include "dist/shard.h"
#include "launch/platform/compute_threads.h"
#include "launch/train/gemm_setup.h"
#include "launch/train/train_step.h"

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
  pb::Precision precision = pb::FP32;
  float dropout = 0;        // hidden layers' drop rate
  float input_dropout = 0;  // the inputs' drop rate
  float max_norm = 0;       // bound on each unit's incoming weight norm; 0: off
  int exact_blocks = 0;     // --exact-blocks of the trainer; 0: off
};

[[noreturn]] void usage(const std::string& problem) {
  const std::string modes = field_choices(*pb::TrainConfig::descriptor(), "grad_sync");
  std::fprintf(stderr,
               "bench_dist: %s\nusage: mpirun -np N bench_dist [--hidden 1024,1024] "
               "[--batch-per-rank 128] [--steps 60] [--warmup 10] [--mode %s] "
               "[--bucket-kb 1024] [--gemm auto|onednn|eigen|blas] [--precision fp32|bf16] "
               "[--dropout 0] [--input-dropout 0] [--max-norm 0] [--exact-blocks 0]\n",
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

// A number in [0, below); a drop rate below 1, a max-norm bound below 1e30.
float number(const char* flag, const char* text, float below) {
  char* end = nullptr;
  const float value = std::strtof(text, &end);
  if (end == text || *end != '\0' || !(value >= 0.0f && value < below))
    usage(std::string(flag) + ": expected a number in [0, " + std::to_string(below) + "), got \"" +
          text + "\"");
  return value;
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
    else if (flag == "--precision" && (value == std::string("fp32") || value == std::string("bf16")))
      o.precision = value == std::string("bf16") ? pb::BF16 : pb::FP32;
    else if (flag == "--dropout")
      o.dropout = number(argv[i], value, 1);
    else if (flag == "--input-dropout")
      o.input_dropout = number(argv[i], value, 1);
    else if (flag == "--max-norm")
      o.max_norm = number(argv[i], value, 1e30f);
    else if (flag == "--exact-blocks")
      o.exact_blocks = positive(argv[i], value);
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

// The trainer's defaults (Adam, ReLU, softmax cross-entropy) for 784 inputs and 10 outputs, at
// the shape, sync, backend and regularization of the flags; the global batch is batch_per_rank on
// every rank.
pb::TrainConfig config_of(const Options& o, int ranks) {
  pb::TrainConfig config;
  config.mutable_model()->set_hidden(o.hidden);
  config.mutable_model()->set_inputs(784);
  config.mutable_model()->set_outputs(10);
  config.set_batch_size(o.batch_per_rank * ranks);
  config.set_gemm(o.gemm);
  config.set_precision(o.precision);
  config.set_grad_sync(o.mode);
  config.set_grad_bucket_kb(o.bucket_kb);
  config.mutable_model()->set_dropout(o.dropout);
  config.mutable_model()->set_input_dropout(o.input_dropout);
  config.mutable_model()->set_max_norm(o.max_norm);
  config.set_exact_blocks(o.exact_blocks);
  return config;
}

int run(const Options& o, Communicator& comm) {
  const pb::TrainConfig config = config_of(o, comm.size());
  if (o.exact_blocks > 0 && (o.exact_blocks < comm.size() || o.exact_blocks > config.batch_size()))
    usage("--exact-blocks: must be between the rank count and the global batch");
  // The trainer's own choice: rank 0 times the backends on these products, all ranks use it.
  GemmSetup gemm;
  try {
    gemm = choose_gemm_backend(config, comm);
  } catch (const UsageError& e) {
    usage(e.what());
  }
  Model<float> model(config.model(), gemm.products());
  model.initialize(config.seed());
  TrainStep step(config, model, comm);
  const ParamStore<float>& store = model.store();

  // The trainer's shard of the global batch: batch_per_rank samples, or this rank's blocks.
  const Shard shard_range =
      step_shard(config.batch_size(), o.exact_blocks, comm.rank(), comm.size());
  const int n = static_cast<int>(shard_range.size());
  std::mt19937 rng(1234 + comm.rank());
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  Matrix<float> x(784, n);  // (I, N)
  for (int i = 0; i < x.size(); ++i) x.data()[i] = pixel(rng);
  std::vector<int32_t> labels(n);
  std::vector<int64_t> ids(n);
  // Each rank's samples are its own, so dropout draws other masks on every rank.
  for (int i = 0; i < n; ++i)
    labels[i] = static_cast<int32_t>(rng() % 10), ids[i] = shard_range.begin + i;
  StepShard shard{&x, Targets<float>{labels.data(), nullptr}, ids.data(), n, config.batch_size()};

  std::vector<double> forward_ms, backward_ms, sync_ms, optimizer_ms, compute_ms, share_ms;
  comm.barrier();
  Clock::time_point timed_start = Clock::now();
  for (int s = 0; s < o.warmup + o.steps; ++s) {
    if (s == o.warmup) {
      comm.barrier();
      timed_start = Clock::now();
    }
    shard.global_step = s;
    StepTimes t;
    if (!step.run(shard, config.optimizer().lr(), &t).finite)
      usage("non-finite gradient in the benchmark");
    if (s >= o.warmup) {
      forward_ms.push_back(t.forward_ms + t.loss_ms), backward_ms.push_back(t.backward_ms),
          sync_ms.push_back(t.sync_ms + t.share_ms), optimizer_ms.push_back(t.optimizer_ms),
          compute_ms.push_back(t.forward_ms + t.loss_ms + t.backward_ms + t.optimizer_ms),
          share_ms.push_back(t.share_ms);
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
    const size_t min_bucket = static_cast<size_t>(o.bucket_kb) * 1024 / sizeof(float);
    std::printf(
        "np=%d gemm=%s mode=%s dropout=%g input_dropout=%g max_norm=%g params=%zu "
        "gradient_mb=%.2f buckets=%zu samples_per_second=%.0f "
        "step_ms=%.3f forward_ms=%.3f backward_ms=%.3f sync_ms=%.3f optimizer_ms=%.3f "
        "compute_ms=%.3f allreduce_ms=%.3f precision=%s share_ms=%.3f exact_blocks=%d "
        "exact_recomputes=%lld\n",
        comm.size(), gemm_backend_name(model.products().backend),
        field_text(config, "grad_sync").c_str(), o.dropout, o.input_dropout, o.max_norm,
        store.size(), store.size() * sizeof(float) / 1e6,
        o.mode == pb::OVERLAP ? gradient_buckets(store.layout(), min_bucket).size() : size_t{1},
        config.batch_size() * o.steps / timed_seconds, timed_seconds * 1000 / o.steps,
        median(forward_ms), median(backward_ms), median(sync_ms), median(optimizer_ms),
        median(compute_ms), median(allreduce_ms), precision_name(model.products().precision),
        median(share_ms), o.exact_blocks, static_cast<long long>(step.exact_recomputes()));
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
