// Times training steps of an MLP through the trainer's own step (launch/train/train_step.h) in
// one process, as the trainer runs without mpirun, on random data, and prints throughput and the
// split of a step into its phases as one key=value line that bench_single.sh parses.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/gemm_choice.h"
#include "core/hidden_sizes.h"
#include "dist/communicator.h"
#include "launch/platform/compute_threads.h"
#include "launch/train/gemm_setup.h"
#include "launch/train/train_step.h"

namespace mlp {
namespace {

struct Options {
  std::string hidden = "1024,1024";
  int inputs = 784;
  int outputs = 10;
  int batch = 128;
  int steps = 50;
  int warmup = 5;
  std::string gemm = "auto";
  std::string precision = "fp32";
  float dropout = 0;        // hidden layers' drop rate
  float input_dropout = 0;  // the inputs' drop rate
  float max_norm = 0;       // bound on each unit's incoming weight norm; 0: off
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "bench_step: " << problem
            << "\nusage: bench_step [--hidden 1024,1024] [--inputs 784] [--outputs 10]"
               " [--batch 128] [--steps 50] [--warmup 5]"
               " [--gemm auto|onednn|eigen|blas] [--precision fp32|bf16] [--dropout 0]"
               " [--input-dropout 0] [--max-norm 0]\n";
  std::exit(2);
}

int integer_at_least(const std::string& flag, const char* text, int least) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < least || value > (1 << 24)) {
    usage(flag + " wants an integer of at least " + std::to_string(least));
  }
  return static_cast<int>(value);
}

float rate(const std::string& flag, const char* text) {
  char* end = nullptr;
  const float value = std::strtof(text, &end);
  if (end == text || *end != '\0' || !(value >= 0.0f && value < 1.0f))
    usage(flag + " wants a rate in [0, 1)");
  return value;
}

Options parse(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const char* value = argv[++i];
    if (flag == "--hidden") {
      opt.hidden = value;
    } else if (flag == "--inputs") {
      opt.inputs = integer_at_least(flag, value, 1);
    } else if (flag == "--outputs") {
      opt.outputs = integer_at_least(flag, value, 1);
    } else if (flag == "--batch") {
      opt.batch = integer_at_least(flag, value, 1);
    } else if (flag == "--steps") {
      opt.steps = integer_at_least(flag, value, 1);
    } else if (flag == "--warmup") {
      opt.warmup = integer_at_least(flag, value, 0);
    } else if (flag == "--gemm") {
      opt.gemm = value;
    } else if (flag == "--precision") {
      opt.precision = value;
      if (opt.precision != "fp32" && opt.precision != "bf16") usage("--precision wants fp32 or bf16");
    } else if (flag == "--dropout") {
      opt.dropout = rate(flag, value);
    } else if (flag == "--input-dropout") {
      opt.input_dropout = rate(flag, value);
    } else if (flag == "--max-norm") {
      char* end = nullptr;
      opt.max_norm = std::strtof(value, &end);
      if (end == value || *end != '\0' || !(opt.max_norm >= 0.0f && opt.max_norm < 1e30f))
        usage(flag + " wants a non-negative number");
    } else {
      usage("unknown flag " + flag);
    }
  }
  return opt;
}

// The trainer's defaults (Adam, ReLU, softmax cross-entropy, its gradient sync) at the shape,
// backend and regularization of the flags.
pb::TrainConfig config_of(const Options& opt) {
  pb::TrainConfig config;
  config.mutable_model()->set_hidden(opt.hidden);
  config.mutable_model()->set_inputs(opt.inputs);
  config.mutable_model()->set_outputs(opt.outputs);
  config.set_batch_size(opt.batch);
  config.set_gemm(opt.gemm);
  config.set_precision(opt.precision == "bf16" ? pb::BF16 : pb::FP32);
  config.mutable_model()->set_dropout(opt.dropout);
  config.mutable_model()->set_input_dropout(opt.input_dropout);
  config.mutable_model()->set_max_norm(opt.max_norm);
  return config;
}

// Floating-point operations of one sample's step in the matrix products alone.
double useful_flop_per_sample(const pb::TrainConfig& config) {
  double flop = 0;
  for (const GemmProduct& p : step_products(layer_widths(config.model()), config.batch_size()))
    flop += p.flop();
  return flop / config.batch_size();
}

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(std::vector<double> values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  if (values.size() % 2 == 1) return values[mid];
  return (values[mid] + *std::max_element(values.begin(), values.begin() + mid)) / 2;
}

int run(const Options& opt) {
  const pb::TrainConfig config = config_of(opt);
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  GemmSetup gemm;
  try {
    gemm = choose_gemm_backend(config, *comm);
  } catch (const UsageError& e) {
    usage(e.what());
  }
  Model<float> model(config.model(), gemm.products());
  model.initialize(config.seed());
  TrainStep step(config, model, *comm);

  // One fixed batch: the step's cost does not depend on the values, and reusing it keeps data
  // loading out of the measurement.
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::uniform_int_distribution<int32_t> label(0, opt.outputs - 1);
  Matrix<float> x(opt.inputs, opt.batch);  // (I, N)
  for (Eigen::Index e = 0; e < x.size(); ++e) x.data()[e] = pixel(gen);
  std::vector<int32_t> labels(static_cast<size_t>(opt.batch));
  for (int32_t& l : labels) l = label(gen);
  std::vector<int64_t> ids(static_cast<size_t>(opt.batch));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
  StepShard shard{&x, Targets<float>{labels.data(), nullptr}, ids.data(), opt.batch, opt.batch};

  // Per-step times of each phase and of the whole step. The machine is shared, so medians are
  // reported: a neighbour's burst lengthens a few steps and moves a mean, not a median.
  enum Phase { kForward, kLoss, kBackward, kSync, kOptimizer, kStep, kPhases };
  std::vector<std::vector<double>> ms(kPhases);
  double final_loss = 0;
  for (int s = 0; s < opt.warmup + opt.steps; ++s) {
    shard.global_step = s;
    StepTimes times;
    const auto start = Clock::now();
    const StepResult result = step.run(shard, config.optimizer().lr(), &times);
    const auto end = Clock::now();
    if (!result.finite) {
      std::cerr << "bench_step: non-finite loss or gradient at step " << s << "\n";
      return 1;
    }
    final_loss = result.sums.mean_loss();
    // The first steps size the activation buffers and fault in the optimizer state.
    if (s < opt.warmup) continue;
    ms[kForward].push_back(times.forward_ms);
    ms[kLoss].push_back(times.loss_ms);
    ms[kBackward].push_back(times.backward_ms);
    ms[kSync].push_back(times.sync_ms);
    ms[kOptimizer].push_back(times.optimizer_ms + times.share_ms);
    ms[kStep].push_back(ms_between(start, end));
  }

  const double step_ms = median(ms[kStep]);
  // The least disturbed step, comparable with the best-of timing of the GEMM-bound limit.
  const double best_ms = *std::min_element(ms[kStep].begin(), ms[kStep].end());
  const double samples_per_s = opt.batch / (step_ms / 1e3);
  const double flop = useful_flop_per_sample(config);
  std::cout << "gemm=" << gemm_backend_name(model.products().backend)
            << " precision=" << precision_name(model.products().precision) << " hidden=" << opt.hidden
            << " batch=" << opt.batch << " dropout=" << opt.dropout
            << " input_dropout=" << opt.input_dropout << " max_norm=" << opt.max_norm
            << " steps=" << opt.steps
            << " params=" << model.store().size() << " mflop_per_sample=" << flop / 1e6
            << " samples_per_s=" << samples_per_s << " gflops=" << samples_per_s * flop / 1e9
            << " step_ms=" << step_ms << " best_step_ms=" << best_ms
            << " best_samples_per_s=" << opt.batch / (best_ms / 1e3)
            << " forward_ms=" << median(ms[kForward]) << " loss_ms=" << median(ms[kLoss])
            << " backward_ms=" << median(ms[kBackward]) << " sync_ms=" << median(ms[kSync])
            << " optimizer_ms=" << median(ms[kOptimizer]) << " final_loss=" << final_loss << "\n";
  return 0;
}

}  // namespace
}  // namespace mlp

int main(int argc, char** argv) {
  mlp::use_one_compute_thread();
  return mlp::run(mlp::parse(argc, argv));
}
