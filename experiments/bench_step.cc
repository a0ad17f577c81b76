// Times training steps of an MLP through the real core code (model, loss, optimizer) on random
// data, and prints throughput and the split of a step into its phases as one key=value line
// that bench_single.sh parses.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "launch/platform/compute_threads.h"
#include "core/gemm.h"
#include "core/gemm_choice.h"
#include "core/hidden_sizes.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/optimizer.h"

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
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "bench_step: " << problem
            << "\nusage: bench_step [--hidden 1024,1024] [--inputs 784] [--outputs 10]"
               " [--batch 128] [--steps 50] [--warmup 5]"
               " [--gemm auto|onednn|eigen|blas]\n";
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
    } else {
      usage("unknown flag " + flag);
    }
  }
  return opt;
}

std::vector<GemmProduct> products_of_step(const Options& opt) {
  std::vector<int> widths = parse_hidden_sizes(opt.hidden);
  widths.insert(widths.begin(), opt.inputs);
  widths.push_back(opt.outputs);
  return step_products(widths, opt.batch);
}

// Floating-point operations of one sample's step in the matrix products alone.
double useful_flop_per_sample(const Options& opt) {
  double flop = 0;
  for (const GemmProduct& p : products_of_step(opt)) flop += p.flop();
  return flop / opt.batch;
}

// The backend named, or for "auto" the fastest on the step's products, as the trainer picks it.
GemmBackend pick_backend(const Options& opt) {
  if (opt.gemm != "auto") return parse_gemm_backend(opt.gemm);
  return fastest_gemm(time_gemm_backends(products_of_step(opt), kAutoGemmBudgetSeconds)).backend;
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
  pb::ModelConfig model_cfg;
  model_cfg.set_hidden(opt.hidden);
  model_cfg.set_inputs(opt.inputs);
  model_cfg.set_outputs(opt.outputs);
  model_cfg.set_activation(pb::RELU);
  model_cfg.set_loss(pb::SOFTMAX_CROSS_ENTROPY);
  Model<float> model(model_cfg, {pick_backend(opt)});
  model.initialize(1);
  const auto loss = make_loss<float>(model_cfg.loss());
  pb::OptimizerConfig opt_cfg;
  opt_cfg.set_kind(pb::ADAM);
  opt_cfg.set_lr(1e-3f);
  const auto optimizer = make_optimizer(opt_cfg, model.store().layout());

  // One fixed batch: the step's cost does not depend on the values, and reusing it keeps data
  // loading out of the measurement.
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::uniform_int_distribution<int32_t> label(0, opt.outputs - 1);
  Matrix<float> x(opt.inputs, opt.batch);  // (I, N)
  for (Eigen::Index e = 0; e < x.size(); ++e) x.data()[e] = pixel(gen);
  std::vector<int32_t> labels(static_cast<size_t>(opt.batch));
  for (int32_t& l : labels) l = label(gen);
  Targets<float> targets;
  targets.labels = labels.data();
  Matrix<float> doutputs(opt.outputs, opt.batch);  // (O, N)
  ForwardContext ctx;
  ctx.training = true;
  const float scale = 1.0f / static_cast<float>(opt.batch);

  // Per-step times of each phase and of the whole step. The machine is shared, so medians are
  // reported: a neighbour's burst lengthens a few steps and moves a mean, not a median.
  enum Phase { kForward, kLoss, kBackward, kOptimizer, kStep, kPhases };
  std::vector<std::vector<double>> ms(kPhases);
  double last_loss = 0;
  for (int s = 0; s < opt.warmup + opt.steps; ++s) {
    ctx.step = s;
    // No gradient zeroing: backward overwrites the gradients.
    const auto t1 = Clock::now();
    const Matrix<float>& outputs = model.forward(x, ctx);
    const auto t2 = Clock::now();
    last_loss = loss->evaluate(outputs, targets, scale, &doutputs);
    const auto t3 = Clock::now();
    model.backward(x, doutputs);
    const auto t4 = Clock::now();
    optimizer->step(model.store().values(), model.store().grads(), opt_cfg.lr());
    const auto t5 = Clock::now();
    // The first steps size the activation buffers and fault in the optimizer state.
    if (s < opt.warmup) continue;
    ms[kForward].push_back(ms_between(t1, t2));
    ms[kLoss].push_back(ms_between(t2, t3));
    ms[kBackward].push_back(ms_between(t3, t4));
    ms[kOptimizer].push_back(ms_between(t4, t5));
    ms[kStep].push_back(ms_between(t1, t5));
  }

  const double step_ms = median(ms[kStep]);
  // The least disturbed step, comparable with the best-of timing of the GEMM-bound limit.
  const double best_ms = *std::min_element(ms[kStep].begin(), ms[kStep].end());
  const double samples_per_s = opt.batch / (step_ms / 1e3);
  const double flop = useful_flop_per_sample(opt);
  std::cout << "gemm=" << gemm_backend_name(model.products().backend) << " hidden=" << opt.hidden
            << " batch=" << opt.batch << " steps=" << opt.steps
            << " params=" << model.store().size() << " mflop_per_sample=" << flop / 1e6
            << " samples_per_s=" << samples_per_s << " gflops=" << samples_per_s * flop / 1e9
            << " step_ms=" << step_ms << " best_step_ms=" << best_ms
            << " best_samples_per_s=" << opt.batch / (best_ms / 1e3) << " forward_ms=" << median(ms[kForward])
            << " loss_ms=" << median(ms[kLoss]) << " backward_ms=" << median(ms[kBackward])
            << " optimizer_ms=" << median(ms[kOptimizer]) << " final_loss=" << last_loss / opt.batch
            << "\n";
  return 0;
}

}  // namespace
}  // namespace mlp

int main(int argc, char** argv) {
  mlp::use_one_compute_thread();
  return mlp::run(mlp::parse(argc, argv));
}
