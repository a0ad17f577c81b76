// The training loop; see train_loop.h. Trainer::run and run_epoch read top to bottom: set up,
// resume, then epochs of steps (next batch, forward, backward, gradient sync, optimizer step),
// each epoch evaluated, maybe stopped early, maybe checkpointed. The policies and what is saved
// live in their own files: checkpoint_policy.h, early_stop_policy.h, stop_policy.h, run_state.h;
// the outputs in run_output.h and console.h.
#include "launch/train/train_loop.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/lr_schedule.h"
#include "core/model_file.h"
#include "core/seconds_since.h"
#include "dist/agreement.h"
#include "dist/shard.h"
#include "launch/train/checkpoint_policy.h"
#include "launch/train/checkpointing.h"
#include "core/config_fields.h"
#include "launch/train/console.h"
#include "launch/platform/cpu_affinity.h"
#include "launch/train/early_stop_policy.h"
#include "launch/train/epoch_tally.h"
#include "launch/train/evaluation.h"
#include "launch/train/gemm_setup.h"
#include "launch/platform/host_info.h"
#include "launch/train/model_output.h"
#include "launch/train/pause_policy.h"
#include "launch/train/progress.h"
#include "launch/train/run_output.h"
#include "launch/train/run_setup.h"
#include "launch/train/run_state.h"
#include "launch/train/run_summary.h"
#include "launch/train/stop_policy.h"
#include "launch/train/train_step.h"
#include "launch/platform/stop_signal.h"

namespace mlp {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

class Trainer {
 public:
  Trainer(pb::TrainConfig config, Communicator& comm, const TrainingHooks& hooks,
          const std::string& command_line)
      : config_(std::move(config)),
        comm_(comm),
        hooks_(hooks),
        command_line_(command_line),
        is_root_(comm.rank() == 0),
        console_(is_root_),
        checkpoints_(config_),
        stops_(comm),
        early_stop_(config_.early_stopping()),
        pause_(config_),
        checkpoint_dir_(checkpoint_folder(config_)) {}

  TrainingResult run() {
    // The trainer installs them before any other work (trainer_main.cc); other callers of
    // run_training get them here (installing is idempotent).
    install_stop_signal_handlers();
    check_run_can_start(config_, comm_);
    load_data();
    stop_if_requested("loading the data");
    output_ = std::make_unique<RunOutput>(config_.out_dir(), is_root_);
    try {
      build_model();
      stop_if_requested("building the model");
      const bool resumed = resume_if_asked(comm_, identity(), checkpoint_dir_, console_,
                                           &model_->store(), &step_->optimizer(), &state_);
      step_->set_exact_exponents(state_.exact_exponents);
      stop_if_requested(resumed ? "resuming" : "looking for a checkpoint");
      choose_gemm();
      stop_if_requested("choosing the matrix-product backend");
      seconds_before_resume_ = state_.elapsed_seconds;
      start_outputs(resumed);
      stop_if_requested("writing the start of the run's outputs");
      while (state_.epoch < config_.epochs() && state_.global_step < max_steps_ &&
             stopped_epoch_ == 0 && !pause_.pauses(state_.epoch))
        run_epoch();
      return stopped_epoch_ == 0 && pause_.pauses(state_.epoch) ? pause() : finish();
    } catch (const Error& e) {
      if (e.code() != ExitCode::kStoppedBySignal) {
        pb::Event event;
        event.set_message(e.what());
        output_->log_event("error", event);
      }
      throw;
    }
  }

 private:
  void run_epoch() {
    const std::vector<int64_t> order = plan_->epoch_order(state_.epoch);
    EpochTally tally(state_, is_root_);
    for (int64_t step = state_.step_in_epoch;
         step < plan_->steps_per_epoch() && state_.global_step < max_steps_; ++step) {
      const Sums local = train_step(order, step);
      advance(step, local, &tally);
      if (stops_.requested(state_.global_step)) {
        save_checkpoint(tally.sums(), tally.seconds(), "signal");
        stop_for_signal();
      }
      if (checkpoints_.after_step(state_.global_step, step + 1 == plan_->steps_per_epoch()))
        save_checkpoint(tally.sums(), tally.seconds(), "steps");
    }
    end_epoch(tally.sums().reduced(comm_), tally.seconds());
  }

  // One step on this rank's shard of the global batch: gathered here, then forward, backward,
  // gradient sync and optimizer step in the TrainStep. Returns this rank's sums of the step.
  Sums train_step(const std::vector<int64_t>& order, int64_t step) {
    const int64_t batch_size = plan_->batch_size(step);
    const Shard shard = step_shard(batch_size, config_.exact_blocks(), comm_.rank(), comm_.size());
    const int64_t* ids = order.data() + plan_->batch_begin(step) + shard.begin;
    const int64_t global_step = state_.global_step;
    if (shard.size() > 0)
      gather(data_.train, ids, shard.size(), &batch_.x, &batch_.labels, &batch_.targets);
    const float lr = learning_rate(config_.optimizer(), global_step, total_steps_);
    const StepResult result =
        step_->run({&batch_.x, batch_.view(), ids, shard.size(), batch_size, global_step}, lr);
    if (!result.finite) raise_non_finite(global_step, result.locally_finite);
    if (hooks_.on_step) hooks_.on_step(global_step, ids, shard.size());
    state_.last_learning_rate = lr;
    return result.sums;
  }

  // After step `step` of the epoch: the position moves on, the live view and steps.csv follow.
  void advance(int64_t step, const Sums& local, EpochTally* tally) {
    tally->add(local);
    ++state_.global_step;
    state_.step_in_epoch = step + 1;
    state_.samples_consumed += plan_->batch_size(step);
    progress_->step(
        state_.epoch, step,
        static_cast<double>(std::min(plan_->batch_begin(step + 1), data_.train.size())));
    step_log_->after_step(local, state_, comm_);
  }

  void end_epoch(const Sums& train, double train_seconds) {
    const auto eval_start = Clock::now();
    pb::EpochMetrics m;
    m.set_epoch(state_.epoch + 1);
    m.set_train_loss(train.mean_loss());
    if (classifies_) m.set_train_acc(train.accuracy(true));
    const Sums val = has_val_ ? evaluate(data_.val) : Sums{};
    if (has_val_) m.set_val_loss(val.mean_loss());
    if (has_val_ && classifies_) m.set_val_acc(val.accuracy(true));
    m.set_samples_per_second(train.count / train_seconds);
    m.set_epoch_seconds(train_seconds + seconds_since(eval_start));
    m.set_learning_rate(state_.last_learning_rate);
    total_train_seconds_ += train_seconds;
    total_train_samples_ += train.count;
    progress_->end_epoch();
    console_.epoch(m, config_.epochs());
    output_->append_epoch(m);
    state_.history.push_back(m);
    state_.partial = pb::PartialEpoch{};
    const bool completed = state_.step_in_epoch == plan_->steps_per_epoch();
    if (completed) {
      ++state_.epoch;
      state_.step_in_epoch = 0;
    }
    // Read only: asking a mutable model for its store would mark its bf16 weights stale.
    if (has_val_ && early_stop_.after_epoch(m, std::as_const(*model_).store(), &state_))
      stop_early(m.epoch());
    if (checkpoints_.after_epoch(completed)) save_checkpoint(Sums{}, 0, "epoch");
  }

  void load_data() {
    data_fingerprint_ = load_agreed_data(comm_, &config_, &data_);
    if (data_.standardized) standardization_ = standardization_message(data_.standardizer);
    classifies_ = loss_classifies(config_.model().loss());
    has_val_ = data_.val.size() > 0;
  }

  void build_model() {
    model_ = build_agreed_model(comm_, config_);
    step_ = std::make_unique<TrainStep>(config_, *model_, comm_);
    plan_ = std::make_unique<BatchPlan>(data_.train.size(), config_.batch_size(), config_.seed());
    max_steps_ = step_limit(config_);
    total_steps_ = planned_steps(config_, *plan_);
    progress_ = std::make_unique<Progress>(config_.progress(), is_root_, config_.epochs(),
                                           plan_->steps_per_epoch());
  }

  // After resuming, before the first product: the backend the config names, or under auto the
  // checkpoint's (to continue bitwise) or else the fastest on the model's own products.
  void choose_gemm() {
    const std::string resumed_backend = state_.gemm_backend;
    gemm_ = choose_gemm_backend(config_, comm_, resumed_backend);
    model_->set_products(gemm_.products());
    state_.gemm_backend = gemm_backend_name(gemm_.backend);
    for (const std::string& line : gemm_start_warnings(gemm_, resumed_backend, state_.precision))
      console_.warning(line);
  }

  RunIdentity identity() const {
    return {config_,      *plan_,        data_fingerprint_,
            comm_.size(), command_line_, data_.standardized ? &standardization_ : nullptr};
  }

  void start_outputs(bool resumed) {
    output_->write_config(config_);
    output_->start(state_.history, resumed, config_.log_every_steps() > 0);
    step_log_ = std::make_unique<StepLog>(config_.log_every_steps(), output_.get());
    pb::Event event;
    event.set_global_step(static_cast<double>(state_.global_step));
    event.set_world_size(comm_.size());
    event.set_cpus(allowed_cpus());
    event.set_config(to_text(config_));
    record_gemm(gemm_, &event);
    record_rank_hosts(gather_rank_hosts(comm_, gemm_backend_name(gemm_.backend)), &event);
    output_->log_event(resumed ? "resume" : "start", event);
    console_.banner(config_, data_.train.size(), data_.val.size(), data_.test.size(),
                    model_->store().size(), comm_.size());
  }

  Sums evaluate(const Dataset& data) {
    return mlp::evaluate(*model_, step_->loss(), data, comm_, &eval_);
  }

  [[noreturn]] void raise_non_finite(int64_t step, bool locally_finite) {
    const Error local(ExitCode::kNonFinite,
                      "non-finite loss or gradient at epoch " + std::to_string(state_.epoch + 1) +
                          ", step " + std::to_string(step) + "; lower --lr or check the data");
    raise_if_any_rank_failed(comm_, locally_finite ? nullptr : &local);
    throw std::logic_error("ranks agreed on a non-finite step that no rank reports");
  }

  // epoch_sums: this rank's sums of the steps of the epoch so far. A non-finite parameter is
  // never saved.
  void save_checkpoint(const Sums& epoch_sums, double epoch_seconds, const char* reason) {
    const ParamStore<float>& store = std::as_const(*model_).store();
    if (!ConstVectorMap<float>(store.values(), store.size()).allFinite())
      throw AgreedError(ExitCode::kNonFinite, "parameters became non-finite by global step " +
                                                  std::to_string(state_.global_step) +
                                                  "; lower --lr");
    const Sums global = epoch_sums.reduced(comm_);
    share_optimizer_state();
    state_.partial.set_loss(global.loss);
    state_.partial.set_correct(global.correct);
    state_.partial.set_count(global.count);
    state_.partial.set_seconds(epoch_seconds);
    state_.elapsed_seconds = seconds_before_resume_ + seconds_since(run_start_);
    state_.exact_exponents = step_->exact_exponents();
    pb::Event event;
    event.set_path(save_checkpoint_everywhere(
        comm_, checkpoint_dir_, state_.global_step, config_.keep_last(),
        [&](const std::string& path) {
          write_run_checkpoint(path, state_, store, step_->optimizer(), identity());
        }));
    event.set_global_step(static_cast<double>(state_.global_step));
    event.set_reason(reason);
    output_->log_event("checkpoint_saved", event);
    saved_step_ = state_.global_step;
  }

  // Each rank's optimizer state is current only where it updates the parameters (all of
  // them unless the gradient sync is sharded); before it is saved, every rank gets all of it.
  void share_optimizer_state() {
    for (std::vector<float>& slot : step_->optimizer().slots())
      step_->sync().share_owned(slot.data());
  }

  // A stop asked for during start-up ends the run before its first step, with the same exit
  // code as one mid-run so that a scheduler requeues it. There is nothing new to save: a fresh
  // run has taken no step, a resumed one's checkpoint is still its newest. Collective.
  void stop_if_requested(const std::string& phase) {
    if (hooks_.after_start_phase) hooks_.after_start_phase(phase);
    if (!stops_.requested(state_.global_step)) return;
    log_signal();
    throw AgreedError(ExitCode::kStoppedBySignal,
                      "stopped by a signal while " + phase +
                          ", before the first step; nothing to save; continue with --resume auto");
  }

  // The "signal" event (a no-op before the outputs are open). Collective.
  void log_signal() {
    pb::Event event;
    event.set_signal(stops_.signal_number());
    event.set_global_step(static_cast<double>(state_.global_step));
    if (output_) output_->log_event("signal", event);
  }

  [[noreturn]] void stop_for_signal() {
    log_signal();
    progress_->end_epoch();
    throw AgreedError(ExitCode::kStoppedBySignal,
                      "stopped by a signal at global step " + std::to_string(state_.global_step) +
                          " after writing a checkpoint in " + checkpoint_dir_ +
                          "; continue with --resume auto");
  }

  void stop_early(int epoch) {
    stopped_epoch_ = epoch;
    const int best_epoch = state_.early_stopping.best_epoch;
    pb::Event event;
    event.set_epoch(epoch);
    event.set_best_epoch(best_epoch);
    output_->log_event("early_stop", event);
    console_.early_stop(epoch, early_stop_.metric_name(), early_stop_.patience(), best_epoch);
  }

  // Checkpointed (again when resumed here: the same bits); no model file, no summary.
  TrainingResult pause() {
    if (saved_step_ != state_.global_step) save_checkpoint(Sums{}, 0, "pause");
    return pause_.announce(state_, checkpoint_dir_, output_.get(), console_);
  }

  TrainingResult finish() {
    const double wall_seconds = seconds_since(run_start_);
    ParamStore<float>& store = model_->store();
    TrainingResult result;
    result.best_epoch = state_.early_stopping.best_epoch;
    result.stopped_epoch = stopped_epoch_;
    result.restored_best = early_stop_.restore_best(state_, &store);
    if (result.restored_best) console_.restored(result.best_epoch);
    result.test_loss = result.test_acc = kNan;
    if (data_.test.size() > 0) {
      const Sums test = evaluate(data_.test);
      result.test_loss = test.mean_loss();
      result.test_acc = test.accuracy(classifies_);
      console_.test(result.test_loss, result.test_acc, classifies_);
    }
    result.epochs_run = static_cast<int>(state_.history.size());
    result.steps_run = state_.global_step;
    result.last_epoch = state_.history.empty() ? pb::EpochMetrics{} : state_.history.back();
    result.history = state_.history;
    run_on_all_or_fail_together(comm_, [&] {
      if (is_root_)
        write_run_model(config_, *model_, data_, make_provenance(command_line_, data_fingerprint_),
                        result);
    });
    // The run is over: the optimizer's state moves into the result, and the parameters are
    // copied only once the model file no longer needs memory.
    result.parameters.assign(store.values(), store.values() + store.size());
    share_optimizer_state();
    result.optimizer_slots = std::move(step_->optimizer().slots());
    // After the model file, so the peak covers all of the run's work.
    const RunTotals totals{comm_.size(),           store.size(),         data_.test.size() > 0,
                           total_train_samples_,   total_train_seconds_, wall_seconds,
                           seconds_before_resume_, peak_rss_mb()};
    write_run_end(result, totals, config_, gemm_, output_.get());
    return result;
  }

  pb::TrainConfig config_;
  Communicator& comm_;
  const TrainingHooks& hooks_;
  const std::string command_line_;
  const bool is_root_;
  const Clock::time_point run_start_ = Clock::now();
  const Console console_;
  const CheckpointPolicy checkpoints_;
  StopPolicy stops_;
  EarlyStopPolicy early_stop_;
  const PausePolicy pause_;
  const std::string checkpoint_dir_;

  TrainingData data_;
  uint64_t data_fingerprint_ = 0;
  pb::Standardization standardization_;  // of data_, saved in checkpoints
  bool classifies_ = false, has_val_ = false;
  std::unique_ptr<RunOutput> output_;
  std::unique_ptr<Model<float>> model_;
  std::unique_ptr<TrainStep> step_;
  std::unique_ptr<BatchPlan> plan_;
  std::unique_ptr<Progress> progress_;
  std::unique_ptr<StepLog> step_log_;
  GemmSetup gemm_;
  int64_t max_steps_ = 0, total_steps_ = 0;

  RunState state_;
  int stopped_epoch_ = 0;             // 0 unless early stopping ended the run
  int64_t saved_step_ = -1;           // of the newest checkpoint this process wrote
  double seconds_before_resume_ = 0;  // wall time of the processes before this one
  double total_train_seconds_ = 0, total_train_samples_ = 0;
  BatchBuffers batch_, eval_;
};

}  // namespace

TrainingResult run_training(pb::TrainConfig config, Communicator& comm, const TrainingHooks& hooks,
                            const std::string& command_line) {
  Trainer trainer(std::move(config), comm, hooks, command_line);
  return trainer.run();
}

}  // namespace mlp
