// The training loop; see train_loop.h. Reads top to bottom: set up, then epochs of steps.
#include "launch/train_loop.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

#include "core/batch_plan.h"
#include "core/errors.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "dist/agreement.h"
#include "dist/gradient_sync.h"
#include "dist/shard.h"
#include "launch/config_fields.h"
#include "launch/data_loading.h"
#include "launch/run_output.h"

namespace mlp {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kEvalChunk = 1024;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Reusable buffers of one shard of a batch.
struct BatchBuffers {
  Matrix<float> x;              // (I, n)
  std::vector<int32_t> labels;  // (n)
  Matrix<float> targets;        // (K, n)
  Matrix<float> doutputs;       // (O, n)
  Targets<float> view() const {
    return {labels.empty() ? nullptr : labels.data(), targets.size() == 0 ? nullptr : &targets};
  }
};

// Sums of an evaluation or of an epoch's training steps, reduced over ranks.
struct Sums {
  double loss = 0, correct = 0, count = 0;
  void reduce(Communicator& comm) {
    double v[3] = {loss, correct, count};
    comm.allreduce_sum(v, 3);
    loss = v[0], correct = v[1], count = v[2];
  }
  double mean_loss() const { return count > 0 ? loss / count : kNan; }
  double accuracy(bool classifies) const { return classifies && count > 0 ? correct / count : kNan; }
};

// Every sample of `data` exactly once over the ranks: rank r takes its contiguous shard.
Sums evaluate(const Dataset& data, Model<float>& model, const Loss<float>& loss,
              Communicator& comm, BatchBuffers& buffers) {
  Sums sums;
  const Shard shard = shard_of(data.size(), comm.rank(), comm.size());
  std::vector<int64_t> ids(std::min(kEvalChunk, shard.size()));
  for (int64_t begin = shard.begin; begin < shard.end; begin += kEvalChunk) {
    const int64_t n = std::min(kEvalChunk, shard.end - begin);
    ids.resize(n);
    std::iota(ids.begin(), ids.end(), begin);
    gather(data, ids.data(), n, &buffers.x, &buffers.labels, &buffers.targets);
    const Matrix<float>& outputs = model.forward(buffers.x, ForwardContext{});
    sums.loss += loss.evaluate(outputs, buffers.view(), 1.0f, nullptr);
    sums.correct += static_cast<double>(loss.count_correct(outputs, buffers.view()));
    sums.count += static_cast<double>(n);
  }
  comm.set_activity("reducing evaluation metrics");
  sums.reduce(comm);
  return sums;
}

uint64_t bytes_hash(const float* data, size_t n) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n * sizeof(float); ++i) h = (h ^ bytes[i]) * 0x100000001b3ULL;
  return h;
}

// Same seed gives the same initialization everywhere; the broadcast and hash check make a rank
// that differs (another build, another library) an error rather than a silent fork.
void initialize_parameters(Model<float>& model, uint64_t seed, Communicator& comm) {
  model.initialize(seed);
  ParamStore<float>& store = model.params();
  comm.set_activity("broadcasting initial parameters");
  comm.broadcast(store.params(), store.size() * sizeof(float), 0);
  check_same_on_all_ranks(comm, "the initial parameters", bytes_hash(store.params(), store.size()));
}

void print_epoch(const EpochMetrics& m, int epochs, bool classifies, bool has_val) {
  std::printf("epoch %3d/%d  train loss %.4f", m.epoch, epochs, m.train_loss);
  if (classifies) std::printf(" acc %.4f", m.train_acc);
  if (has_val) {
    std::printf("  val loss %.4f", m.val_loss);
    if (classifies) std::printf(" acc %.4f", m.val_acc);
  }
  std::printf("  %.0f samples/s  %.1f s\n", m.samples_per_second, m.epoch_seconds);
  std::fflush(stdout);
}

GradientSync::Mode sync_mode(pb::GradSync kind) {
  return kind == pb::OVERLAP ? GradientSync::Mode::kOverlap : GradientSync::Mode::kBlocking;
}

[[noreturn]] void raise_non_finite(Communicator& comm, bool locally_finite, int epoch, int64_t step) {
  const Error local(ExitCode::kNonFinite, "non-finite loss or gradient at epoch " +
                                              std::to_string(epoch + 1) + ", step " +
                                              std::to_string(step) + " on rank " +
                                              std::to_string(comm.rank()) +
                                              "; lower --lr or check the data");
  raise_if_any_rank_failed(comm, locally_finite ? nullptr : &local);
  throw std::logic_error("ranks agreed on a non-finite step that no rank reports");
}

std::string hidden_dashes(std::string hidden) {
  for (char& c : hidden)
    if (c == ',') c = '-';
  return hidden;
}

}  // namespace

TrainingResult run_training(pb::TrainConfig config, Communicator& comm, const TrainingHooks& hooks) {
  const auto run_start = Clock::now();
  const bool is_root = comm.rank() == 0;

  // Set-up failures (bad data on one node, say) stop every rank together with one message.
  TrainingData data;
  const Error* setup_error = nullptr;
  Error caught(ExitCode::kOk, "");
  try {
    data = load_training_data(&config);
  } catch (const Error& e) {
    caught = e;
    setup_error = &caught;
  }
  raise_if_any_rank_failed(comm, setup_error);
  check_same_on_all_ranks(comm, "the resolved config", message_hash(config));
  check_same_on_all_ranks(comm, "the training data", fingerprint(data.train));

  RunOutput output(config.out_dir(), is_root);
  output.write_config(config);

  Model<float> model(config.model());
  initialize_parameters(model, config.seed(), comm);
  std::unique_ptr<Loss<float>> loss = make_loss<float>(config.model().loss());
  std::unique_ptr<Optimizer> optimizer = make_optimizer(config.optimizer(), model.params().layout());
  const bool classifies = loss_classifies(config.model().loss());
  const bool has_val = data.val.size() > 0;
  if (is_root) {
    std::printf("training %s-%d on %lld samples (%lld validation, %lld test), %zu parameters, "
                "%d rank%s, global batch %d\n",
                config.model().hidden().empty() ? std::to_string(config.model().inputs()).c_str()
                    : (std::to_string(config.model().inputs()) + "-" + hidden_dashes(config.model().hidden())).c_str(),
                config.model().outputs(), static_cast<long long>(data.train.size()),
                static_cast<long long>(data.val.size()), static_cast<long long>(data.test.size()),
                model.params().size(), comm.size(), comm.size() == 1 ? "" : "s", config.batch_size());
    std::fflush(stdout);
  }

  ParamStore<float>& store = model.params();
  GradientSync sync(comm, store.grads(), store.layout(), sync_mode(config.grad_sync()),
                    static_cast<size_t>(config.grad_bucket_kb()) * 1024 / sizeof(float));
  const auto on_ready = [&sync](size_t begin, size_t end) { sync.on_ready(begin, end); };
  const BatchPlan plan(data.train.size(), config.batch_size(), config.seed());
  const int64_t max_steps = config.max_steps() > 0 ? config.max_steps() : INT64_MAX;
  BatchBuffers batch, eval_buffers;
  EpochMetrics last;
  double train_seconds = 0, train_samples = 0;
  int64_t global_step = 0;

  for (int epoch = 0; epoch < config.epochs() && global_step < max_steps; ++epoch) {
    const auto epoch_start = Clock::now();
    const std::vector<int64_t> order = plan.epoch_order(epoch);
    Sums train_sums;
    for (int64_t step = 0; step < plan.steps_per_epoch() && global_step < max_steps;
         ++step, ++global_step) {
      const int64_t batch_size = plan.batch_size(step);
      const Shard shard = shard_of(batch_size, comm.rank(), comm.size());
      const int64_t* ids = order.data() + plan.batch_begin(step) + shard.begin;
      store.zero_grads();
      sync.begin_step();
      comm.set_activity("gradient sync at step " + std::to_string(global_step));
      double step_loss = 0;
      if (shard.size() > 0) {
        gather(data.train, ids, shard.size(), &batch.x, &batch.labels, &batch.targets);
        const ForwardContext context{true, config.seed(), global_step, ids};
        const Matrix<float>& outputs = model.forward(batch.x, context);
        // Scaled by the GLOBAL batch: the rank sum is the mean gradient whatever the rank count.
        step_loss = loss->evaluate(outputs, batch.view(), 1.0f / static_cast<float>(batch_size),
                                   &batch.doutputs);
        train_sums.correct += static_cast<double>(loss->count_correct(outputs, batch.view()));
        model.backward(batch.x, batch.doutputs, on_ready);
      }
      train_sums.loss += step_loss;
      train_sums.count += static_cast<double>(shard.size());
      if (!sync.finish(std::isfinite(step_loss)))
        raise_non_finite(comm, sync.locally_finite(), epoch, global_step);
      optimizer->step(store.params(), store.grads(), config.optimizer().lr());
      if (hooks.on_step) hooks.on_step(global_step, ids, shard.size());
    }
    const double epoch_train_seconds = seconds_since(epoch_start);
    train_sums.reduce(comm);
    train_seconds += epoch_train_seconds;
    train_samples += train_sums.count;

    last.epoch = epoch + 1;
    last.train_loss = train_sums.mean_loss();
    last.train_acc = train_sums.accuracy(classifies);
    last.val_loss = last.val_acc = kNan;
    if (has_val) {
      const Sums val = evaluate(data.val, model, *loss, comm, eval_buffers);
      last.val_loss = val.mean_loss();
      last.val_acc = val.accuracy(classifies);
    }
    last.samples_per_second = train_sums.count / epoch_train_seconds;
    last.epoch_seconds = seconds_since(epoch_start);
    if (is_root) print_epoch(last, config.epochs(), classifies, has_val);
    output.append_epoch(last);
  }

  std::map<std::string, double> summary = {
      {"epochs_run", last.epoch},
      {"world_size", comm.size()},
      {"parameters", static_cast<double>(store.size())},
      {"train_loss", last.train_loss},
      {"train_acc", last.train_acc},
      {"val_loss", last.val_loss},
      {"val_acc", last.val_acc},
      {"samples_per_second", train_samples / train_seconds},
  };
  TrainingResult result;
  result.test_loss = result.test_acc = kNan;
  if (data.test.size() > 0) {
    const Sums test = evaluate(data.test, model, *loss, comm, eval_buffers);
    result.test_loss = summary["test_loss"] = test.mean_loss();
    result.test_acc = summary["test_acc"] = test.accuracy(classifies);
    if (is_root) {
      std::printf("test loss %.4f", test.mean_loss());
      if (classifies) std::printf(" acc %.4f", test.accuracy(classifies));
      std::printf("\n");
    }
  }
  summary["wall_seconds"] = seconds_since(run_start);
  output.write_summary(summary, config);

  result.parameters.assign(store.params(), store.params() + store.size());
  result.optimizer_slots = optimizer->slots();
  result.epochs_run = last.epoch;
  result.steps_run = global_step;
  result.last_epoch = last;
  return result;
}

}  // namespace mlp
