// The training loop; see train_loop.h. Trainer::run reads top to bottom: set up, resume, then
// epochs of steps; the named methods below it hold the details.
#include "launch/train_loop.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "core/batch_plan.h"
#include "core/checkpoint_file.h"
#include "core/early_stopping.h"
#include "core/errors.h"
#include "core/hash.h"
#include "core/loss.h"
#include "core/lr_schedule.h"
#include "core/max_norm.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "core/packed_floats.h"
#include "dist/agreement.h"
#include "dist/gradient_sync.h"
#include "dist/shard.h"
#include "launch/checkpointing.h"
#include "launch/config_fields.h"
#include "launch/cpu_affinity.h"
#include "launch/data_loading.h"
#include "launch/progress.h"
#include "launch/run_output.h"
#include "launch/stop_signal.h"

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

// Sums of an evaluation or of an epoch's training steps; reduce() sums them over ranks.
struct Sums {
  double loss = 0, correct = 0, count = 0;
  Sums reduced(Communicator& comm) const {
    double v[3] = {loss, correct, count};
    comm.allreduce_sum(v, 3);
    return {v[0], v[1], v[2]};
  }
  double mean_loss() const { return count > 0 ? loss / count : kNan; }
  double accuracy(bool classifies) const {
    return classifies && count > 0 ? correct / count : kNan;
  }
};

std::string hidden_dashes(std::string hidden) {
  for (char& c : hidden)
    if (c == ',') c = '-';
  return hidden;
}

pb::EpochRow to_row(const EpochMetrics& m) {
  pb::EpochRow r;
  r.set_epoch(m.epoch);
  r.set_train_loss(m.train_loss);
  r.set_train_acc(m.train_acc);
  r.set_val_loss(m.val_loss);
  r.set_val_acc(m.val_acc);
  r.set_samples_per_second(m.samples_per_second);
  r.set_epoch_seconds(m.epoch_seconds);
  r.set_learning_rate(m.learning_rate);
  return r;
}

EpochMetrics from_row(const pb::EpochRow& r) {
  return {r.epoch(),   r.train_loss(),         r.train_acc(),     r.val_loss(),
          r.val_acc(), r.samples_per_second(), r.epoch_seconds(), r.learning_rate()};
}

class Trainer {
 public:
  Trainer(pb::TrainConfig config, Communicator& comm, const TrainingHooks& hooks,
          const std::string& command_line)
      : config_(std::move(config)),
        comm_(comm),
        hooks_(hooks),
        command_line_(command_line),
        is_root_(comm.rank() == 0) {}

  TrainingResult run() {
    run_start_ = Clock::now();
    load_data();
    output_ = std::make_unique<RunOutput>(config_.out_dir(), is_root_);
    try {
      build_model();
      const bool resumed = resume_if_asked();
      output_->write_config(config_);
      output_->start(history_, resumed, config_.log_every_steps() > 0);
      output_->log_event(resumed ? "resume" : "start",
                         "\"global_step\": " + std::to_string(position_.global_step) +
                             ", \"world_size\": " + std::to_string(comm_.size()) +
                             ", \"cpus\": " + json_string(allowed_cpus()) +
                             ", \"config\": " + json_string(to_text(config_)));
      print_banner();
      install_stop_signal_handlers();
      while (position_.epoch < config_.epochs() && position_.global_step < max_steps_ &&
             !stopped_early_) {
        run_epoch();
      }
      return finish(seconds_since(run_start_));
    } catch (const Error& e) {
      if (e.code() != ExitCode::kStoppedBySignal)
        output_->log_event("error", "\"message\": " + json_string(e.what()));
      throw;
    }
  }

 private:
  // Set-up failures (bad data on one node, say) stop every rank together with one message;
  // then ranks prove they hold the same config and data.
  void load_data() {
    run_on_all_or_fail_together(comm_, [this] { data_ = load_training_data(&config_); });
    data_fingerprint_ = fingerprint(data_.train);
    check_same_on_all_ranks(comm_, "the resolved config", message_hash(config_));
    check_same_on_all_ranks(comm_, "the training data", data_fingerprint_);
    classifies_ = loss_classifies(config_.model().loss());
    has_val_ = data_.val.size() > 0;
  }

  void build_model() {
    model_ = std::make_unique<Model<float>>(config_.model());
    // Same seed gives the same initialization everywhere; the broadcast and hash check make a
    // rank that differs (another build, another library) an error rather than a silent fork.
    model_->initialize(config_.seed());
    ParamStore<float>& store = model_->store();
    comm_.set_activity("broadcasting initial parameters");
    comm_.broadcast(store.values(), store.size() * sizeof(float), 0);
    check_same_on_all_ranks(comm_, "the initial parameters",
                            fnv1a(store.values(), store.size() * sizeof(float)));
    loss_ = make_loss<float>(config_.model().loss());
    optimizer_ = make_optimizer(config_.optimizer(), store.layout());
    sync_ =
        make_gradient_sync(config_.grad_sync(), comm_, store.grads(), store.layout(),
                           static_cast<size_t>(config_.grad_bucket_kb()) * 1024 / sizeof(float));
    plan_ = std::make_unique<BatchPlan>(data_.train.size(), config_.batch_size(), config_.seed());
    max_steps_ = step_limit(config_);
    total_steps_ = planned_steps(config_);
    const pb::EarlyStoppingConfig& es = config_.early_stopping();
    early_stopping_ = std::make_unique<EarlyStopping>(
        es.patience(), es.min_delta(), es.metric() == pb::VAL_ACC, es.start_from_epoch());
    progress_ = std::make_unique<Progress>(config_.progress(), is_root_, config_.epochs(),
                                           plan_->steps_per_epoch());
  }

  static int64_t step_limit(const pb::TrainConfig& config) {
    return config.max_steps() > 0 ? config.max_steps() : std::numeric_limits<int64_t>::max();
  }

  // The run length the learning-rate schedule spans.
  int64_t planned_steps(const pb::TrainConfig& config) const {
    return std::min<int64_t>(step_limit(config), plan_->steps_per_epoch() * config.epochs());
  }

  // Another --epochs, --max-steps or rate keeps every step so far but bends the schedule ahead
  // (a cosine spans the planned run): the run goes on, told what changed.
  void warn_if_schedule_changed(const pb::TrainConfig& saved) const {
    const int64_t step = position_.global_step, saved_total = planned_steps(saved);
    const float now = learning_rate(config_.optimizer(), step, total_steps_);
    const float before = learning_rate(saved.optimizer(), step, saved_total);
    if (!is_root_ || now == before) return;
    std::fprintf(stderr,
                 "trainer: warning: the learning-rate schedule differs from the checkpoint's "
                 "(%d epochs, %lld planned steps there; %d, %lld now): global step %lld gets "
                 "rate %g instead of %g\n",
                 saved.epochs(), static_cast<long long>(saved_total), config_.epochs(),
                 static_cast<long long>(total_steps_), static_cast<long long>(step), now, before);
  }

  // Returns true when the run continues from a checkpoint.
  bool resume_if_asked() {
    const std::string dir = checkpoint_folder(config_);
    if (is_root_) {
      std::filesystem::create_directories(dir);
      remove_stale_temp_files(dir);
    }
    if (config_.resume().empty()) return false;
    pb::Checkpoint checkpoint;
    std::string source;
    if (!load_checkpoint_everywhere(comm_, config_.resume(), dir, &checkpoint, &source)) {
      if (is_root_) std::printf("no checkpoint in %s: starting fresh\n", dir.c_str());
      return false;
    }
    ParamStore<float>& store = model_->store();
    check_resumable(checkpoint, config_, store, data_fingerprint_, source);
    restore_checkpoint(checkpoint, &store, optimizer_.get(), &position_);
    const pb::EarlyStoppingState& es = checkpoint.early_stopping();
    early_stopping_->restore({es.best_value(), es.best_epoch(), es.wait()});
    if (!es.best_params().empty()) {
      best_params_.resize(store.size());
      unpack_floats(es.best_params(), best_params_.data(), best_params_.size(),
                    "the checkpoint's best parameters");
    }
    for (const pb::EpochRow& row : checkpoint.history()) history_.push_back(from_row(row));
    // The epoch's metrics row reports it even when no step of that epoch is left to run (a
    // checkpoint after its last step, before its evaluation).
    last_lr_ = checkpoint.learning_rate();
    seconds_before_resume_ = checkpoint.elapsed_seconds();
    if (is_root_)
      std::printf(
          "resuming from %s at epoch %d, step %lld (global step %lld), saved by %d rank%s\n",
          source.c_str(), position_.epoch + 1, static_cast<long long>(position_.step_in_epoch),
          static_cast<long long>(position_.global_step), checkpoint.world_size(),
          checkpoint.world_size() == 1 ? "" : "s");
    warn_if_schedule_changed(checkpoint.config());
    return true;
  }

  void print_banner() const {
    if (!is_root_) return;
    const pb::ModelConfig& m = config_.model();
    const std::string shape = std::to_string(m.inputs()) +
                              (m.hidden().empty() ? "" : "-" + hidden_dashes(m.hidden())) + "-" +
                              std::to_string(m.outputs());
    std::printf(
        "training %s on %lld samples (%lld validation, %lld test), %zu parameters, %d rank%s, "
        "global batch %d\n",
        shape.c_str(), static_cast<long long>(data_.train.size()),
        static_cast<long long>(data_.val.size()), static_cast<long long>(data_.test.size()),
        model_->store().size(), comm_.size(), comm_.size() == 1 ? "" : "s", config_.batch_size());
    std::fflush(stdout);
  }

  void run_epoch() {
    const int epoch = position_.epoch;
    const auto epoch_start = Clock::now();
    const std::vector<int64_t> order = plan_->epoch_order(epoch);
    // A resumed epoch starts from the sums of its steps before the checkpoint (held by rank 0).
    Sums sums;
    double seconds_before = 0;
    if (position_.step_in_epoch > 0) {
      seconds_before = position_.partial.seconds();
      if (is_root_)
        sums = {position_.partial.loss(), position_.partial.correct(), position_.partial.count()};
    }
    Sums since_log;
    for (int64_t step = position_.step_in_epoch;
         step < plan_->steps_per_epoch() && position_.global_step < max_steps_; ++step) {
      const double lr = run_step(epoch, step, order, &sums, &since_log);
      const int64_t global_step = ++position_.global_step;
      position_.step_in_epoch = step + 1;
      position_.samples_consumed += plan_->batch_size(step);
      progress_->step(
          epoch, step,
          static_cast<double>(std::min(plan_->batch_begin(step + 1), data_.train.size())));
      if (config_.log_every_steps() > 0 && global_step % config_.log_every_steps() == 0)
        log_steps(since_log, lr, epoch);
      comm_.set_activity("agreeing on a stop signal at step " + std::to_string(global_step));
      const bool last_step = step + 1 == plan_->steps_per_epoch();
      if (any_rank(comm_, stop_requested())) {
        save_checkpoint(sums, seconds_before + seconds_since(epoch_start), "signal");
        stop_for_signal();
      }
      const bool due = config_.checkpoint_every_steps() > 0 &&
                       global_step % config_.checkpoint_every_steps() == 0;
      if (due && !(last_step && config_.checkpoint_every_epoch()))
        save_checkpoint(sums, seconds_before + seconds_since(epoch_start), "steps");
    }
    end_epoch(sums.reduced(comm_), seconds_before + seconds_since(epoch_start));
  }

  // One step on this rank's shard of the global batch. Returns the learning rate it used.
  double run_step(int epoch, int64_t step, const std::vector<int64_t>& order, Sums* sums,
                  Sums* since_log) {
    ParamStore<float>& store = model_->store();
    const int64_t batch_size = plan_->batch_size(step);
    const Shard shard = shard_of(batch_size, comm_.rank(), comm_.size());
    const int64_t* ids = order.data() + plan_->batch_begin(step) + shard.begin;
    const int64_t global_step = position_.global_step;
    store.zero_grads();
    sync_->begin_step();
    comm_.set_activity("gradient sync at step " + std::to_string(global_step));
    double step_loss = 0, step_correct = 0;
    if (shard.size() > 0) {
      gather(data_.train, ids, shard.size(), &batch_.x, &batch_.labels, &batch_.targets);
      const ForwardContext context{true, config_.seed(), global_step, ids};
      const Matrix<float>& outputs = model_->forward(batch_.x, context);
      // Scaled by the GLOBAL batch: the rank sum is the mean gradient whatever the rank count.
      step_loss = loss_->evaluate(outputs, batch_.view(), 1.0f / static_cast<float>(batch_size),
                                  &batch_.doutputs);
      step_correct = static_cast<double>(loss_->count_correct(outputs, batch_.view()));
      model_->backward(batch_.x, batch_.doutputs,
                       [this](size_t begin, size_t end) { sync_->on_ready(begin, end); });
    }
    if (!sync_->finish(std::isfinite(step_loss))) raise_non_finite(epoch, global_step);
    const float lr = learning_rate(config_.optimizer(), global_step, total_steps_);
    optimizer_->step(store.values(), store.grads(), lr);
    if (config_.model().max_norm() > 0) apply_max_norm(store, config_.model().max_norm());
    for (Sums* s : {sums, since_log}) {
      s->loss += step_loss;
      s->correct += step_correct;
      s->count += static_cast<double>(shard.size());
    }
    if (hooks_.on_step) hooks_.on_step(global_step, ids, shard.size());
    last_lr_ = lr;
    return lr;
  }

  [[noreturn]] void raise_non_finite(int epoch, int64_t step) {
    const Error local(ExitCode::kNonFinite,
                      "non-finite loss or gradient at epoch " + std::to_string(epoch + 1) +
                          ", step " + std::to_string(step) + "; lower --lr or check the data");
    raise_if_any_rank_failed(comm_, sync_->locally_finite() ? nullptr : &local);
    throw std::logic_error("ranks agreed on a non-finite step that no rank reports");
  }

  void log_steps(Sums& since_log, double lr, int epoch) {
    const Sums total = since_log.reduced(comm_);
    const double seconds = seconds_since(last_step_log_);
    last_step_log_ = Clock::now();
    output_->append_step(position_.global_step, epoch + 1, total.mean_loss(), lr,
                         total.count / seconds);
    since_log = Sums{};
  }

  void end_epoch(const Sums& train, double train_seconds) {
    const auto eval_start = Clock::now();
    EpochMetrics m;
    m.epoch = position_.epoch + 1;
    m.train_loss = train.mean_loss();
    m.train_acc = train.accuracy(classifies_);
    m.val_loss = m.val_acc = kNan;
    if (has_val_) {
      const Sums val = evaluate(data_.val);
      m.val_loss = val.mean_loss();
      m.val_acc = val.accuracy(classifies_);
    }
    m.samples_per_second = train.count / train_seconds;
    m.epoch_seconds = train_seconds + seconds_since(eval_start);
    m.learning_rate = last_lr_;
    total_train_seconds_ += train_seconds;
    total_train_samples_ += train.count;
    progress_->end_epoch();
    if (is_root_) print_epoch(m);
    output_->append_epoch(m);
    history_.push_back(m);
    position_.partial = pb::PartialEpoch{};
    const bool finished_epoch = position_.step_in_epoch == plan_->steps_per_epoch();
    if (finished_epoch) {
      ++position_.epoch;
      position_.step_in_epoch = 0;
    }
    if (has_val_) track_best(m);
    if (finished_epoch && config_.checkpoint_every_epoch()) save_checkpoint(Sums{}, 0, "epoch");
  }

  // Early stopping on globally reduced metrics: every rank takes the same decision.
  void track_best(const EpochMetrics& m) {
    const double value = config_.early_stopping().metric() == pb::VAL_ACC ? m.val_acc : m.val_loss;
    const EarlyStopping::Decision d = early_stopping_->update(m.epoch, value);
    if (d.improved && early_stopping_->enabled() && config_.early_stopping().restore_best()) {
      const ParamStore<float>& store = model_->store();
      best_params_.assign(store.values(), store.values() + store.size());
    }
    if (d.stop) {
      stopped_early_ = true;
      stopped_epoch_ = m.epoch;
      output_->log_event("early_stop", "\"epoch\": " + std::to_string(m.epoch) +
                                           ", \"best_epoch\": " +
                                           std::to_string(early_stopping_->state().best_epoch));
      if (is_root_)
        std::printf(
            "early stopping after epoch %d: no improvement of %s for %d epochs (best epoch %d)\n",
            m.epoch, config_.early_stopping().metric() == pb::VAL_ACC ? "val_acc" : "val_loss",
            config_.early_stopping().patience(), early_stopping_->state().best_epoch);
    }
  }

  // Every sample of `data` exactly once over the ranks: rank r takes its contiguous shard.
  Sums evaluate(const Dataset& data) {
    Sums sums;
    const Shard shard = shard_of(data.size(), comm_.rank(), comm_.size());
    std::vector<int64_t> ids;
    for (int64_t begin = shard.begin; begin < shard.end; begin += kEvalChunk) {
      const int64_t n = std::min(kEvalChunk, shard.end - begin);
      ids.resize(n);
      std::iota(ids.begin(), ids.end(), begin);
      gather(data, ids.data(), n, &eval_.x, &eval_.labels, &eval_.targets);
      const Matrix<float>& outputs = model_->forward(eval_.x, ForwardContext{});
      sums.loss += loss_->evaluate(outputs, eval_.view(), 1.0f, nullptr);
      sums.correct += static_cast<double>(loss_->count_correct(outputs, eval_.view()));
      sums.count += static_cast<double>(n);
    }
    comm_.set_activity("reducing evaluation metrics");
    return sums.reduced(comm_);
  }

  void print_epoch(const EpochMetrics& m) const {
    std::printf("epoch %3d/%d  train loss %.4f", m.epoch, config_.epochs(), m.train_loss);
    if (classifies_) std::printf(" acc %.4f", m.train_acc);
    if (has_val_) {
      std::printf("  val loss %.4f", m.val_loss);
      if (classifies_) std::printf(" acc %.4f", m.val_acc);
    }
    std::printf("  %.0f samples/s  %.1f s\n", m.samples_per_second, m.epoch_seconds);
    std::fflush(stdout);
  }

  // Rank 0 writes, re-reads to verify, then prunes; the other ranks wait for its verdict so
  // nobody goes on past a checkpoint that is not complete. A non-finite parameter is never
  // saved.
  void save_checkpoint(const Sums& epoch_sums, double epoch_seconds, const char* reason) {
    ParamStore<float>& store = model_->store();
    if (!ConstVectorMap<float>(store.values(), store.size()).allFinite())
      throw AgreedError(ExitCode::kNonFinite, "parameters became non-finite by global step " +
                                                  std::to_string(position_.global_step) +
                                                  "; lower --lr");
    const Sums global = epoch_sums.reduced(comm_);
    position_.partial.set_loss(global.loss);
    position_.partial.set_correct(global.correct);
    position_.partial.set_count(global.count);
    position_.partial.set_seconds(epoch_seconds);
    const std::string path = checkpoint_path(checkpoint_folder(config_), position_.global_step);
    comm_.set_activity("waiting for rank 0 to write a checkpoint");
    run_on_all_or_fail_together(comm_, [&] {
      if (!is_root_) return;
      pb::Checkpoint c = make_checkpoint(config_, store, *optimizer_, position_, comm_.size(),
                                         data_fingerprint_, command_line_);
      const EarlyStoppingState& es = early_stopping_->state();
      c.mutable_early_stopping()->set_best_value(es.best_value);
      c.mutable_early_stopping()->set_best_epoch(es.best_epoch);
      c.mutable_early_stopping()->set_wait(es.wait);
      if (!best_params_.empty())
        c.mutable_early_stopping()->set_best_params(
            pack_floats(best_params_.data(), best_params_.size()));
      for (const EpochMetrics& m : history_) *c.add_history() = to_row(m);
      c.set_learning_rate(last_lr_);
      c.set_elapsed_seconds(seconds_before_resume_ + seconds_since(run_start_));
      write_checkpoint(path, c);
      read_checkpoint(path);
      prune_checkpoints(checkpoint_folder(config_), config_.keep_last());
    });
    output_->log_event("checkpoint_saved",
                       "\"path\": " + json_string(path) +
                           ", \"global_step\": " + std::to_string(position_.global_step) +
                           ", \"reason\": " + json_string(reason));
  }

  [[noreturn]] void stop_for_signal() {
    const std::string message = "stopped by a signal at global step " +
                                std::to_string(position_.global_step) +
                                " after writing a checkpoint in " + checkpoint_folder(config_) +
                                "; continue with --resume auto";
    // Rank 0 writes the event but the signal may have reached another rank only.
    int64_t signal_number = stop_signal_number();
    comm_.allreduce_max(&signal_number, 1);
    output_->log_event("signal", "\"signal\": " + std::to_string(signal_number) +
                                     ", \"global_step\": " + std::to_string(position_.global_step));
    progress_->end_epoch();
    throw AgreedError(ExitCode::kStoppedBySignal, message);
  }

  TrainingResult finish(double wall_seconds) {
    TrainingResult result;
    ParamStore<float>& store = model_->store();
    const int best_epoch = early_stopping_->state().best_epoch;
    result.best_epoch = best_epoch;
    result.stopped_epoch = stopped_epoch_;
    result.restored_best = early_stopping_->enabled() && config_.early_stopping().restore_best() &&
                           !best_params_.empty() && best_epoch != static_cast<int>(history_.size());
    if (result.restored_best) {
      std::copy(best_params_.begin(), best_params_.end(), store.values());
      if (is_root_) std::printf("restored the weights of epoch %d\n", best_epoch);
    }
    // The kept model's epoch: the best one when restored, else the last.
    const EpochMetrics kept = result.restored_best
                                  ? history_[best_epoch - 1]
                                  : (history_.empty() ? EpochMetrics{} : history_.back());
    std::map<std::string, double> summary = {
        {"epochs_run", static_cast<double>(history_.size())},
        {"world_size", comm_.size()},
        {"parameters", static_cast<double>(store.size())},
        {"global_steps", static_cast<double>(position_.global_step)},
        {"train_loss", kept.train_loss},
        {"train_acc", kept.train_acc},
        {"val_loss", kept.val_loss},
        {"val_acc", kept.val_acc},
        {"best_epoch", best_epoch > 0 ? best_epoch : kNan},
        {"stopped_epoch", stopped_epoch_ > 0 ? stopped_epoch_ : kNan},
        {"restored_best", result.restored_best ? 1 : 0},
        {"samples_per_second",
         total_train_seconds_ > 0 ? total_train_samples_ / total_train_seconds_ : kNan},
    };
    result.test_loss = result.test_acc = kNan;
    if (data_.test.size() > 0) {
      const Sums test = evaluate(data_.test);
      result.test_loss = summary["test_loss"] = test.mean_loss();
      result.test_acc = summary["test_acc"] = test.accuracy(classifies_);
      if (is_root_) {
        std::printf("test loss %.4f", test.mean_loss());
        if (classifies_) std::printf(" acc %.4f", test.accuracy(classifies_));
        std::printf("\n");
      }
    }
    summary["wall_seconds"] = wall_seconds;
    summary["total_wall_seconds"] = seconds_before_resume_ + wall_seconds;
    output_->write_summary(summary, config_);
    output_->log_event("finish", "\"epochs_run\": " + std::to_string(history_.size()) +
                                     ", \"test_acc\": " + json_number(result.test_acc));
    result.parameters.assign(store.values(), store.values() + store.size());
    result.optimizer_slots = optimizer_->slots();
    result.epochs_run = static_cast<int>(history_.size());
    result.steps_run = position_.global_step;
    result.last_epoch = history_.empty() ? EpochMetrics{} : history_.back();
    result.history = history_;
    return result;
  }

  pb::TrainConfig config_;
  Communicator& comm_;
  const TrainingHooks& hooks_;
  std::string command_line_;
  bool is_root_;

  TrainingData data_;
  uint64_t data_fingerprint_ = 0;
  bool classifies_ = false, has_val_ = false;
  std::unique_ptr<RunOutput> output_;
  std::unique_ptr<Model<float>> model_;
  std::unique_ptr<Loss<float>> loss_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<GradientSync> sync_;
  std::unique_ptr<BatchPlan> plan_;
  std::unique_ptr<EarlyStopping> early_stopping_;
  std::unique_ptr<Progress> progress_;
  int64_t max_steps_ = 0, total_steps_ = 0;

  TrainingPosition position_;
  std::vector<EpochMetrics> history_;
  std::vector<float> best_params_;
  bool stopped_early_ = false;
  int stopped_epoch_ = 0;
  double last_lr_ = 0;
  Clock::time_point run_start_;
  // The wall time of the processes before this one, from the checkpoint resumed.
  double seconds_before_resume_ = 0;
  double total_train_seconds_ = 0, total_train_samples_ = 0;
  Clock::time_point last_step_log_ = Clock::now();
  BatchBuffers batch_, eval_;
};

}  // namespace

TrainingResult run_training(pb::TrainConfig config, Communicator& comm, const TrainingHooks& hooks,
                            const std::string& command_line) {
  Trainer trainer(std::move(config), comm, hooks, command_line);
  return trainer.run();
}

}  // namespace mlp
