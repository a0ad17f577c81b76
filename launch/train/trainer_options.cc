// Flag table and parsing for the trainer. Flags are read as text and converted by reflection
// (config_fields.h), so each flag's type, default and error message come from the proto.
#include "launch/train/trainer_options.h"

#include <boost/program_options.hpp>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/config_fields.h"
#include "core/errors.h"
#include "core/gemm_backend.h"
#include "core/hidden_sizes.h"

namespace mlp {
namespace {

namespace po = boost::program_options;

struct Flag {
  const char* name;  // without the leading dashes
  const char* path;  // field of TrainConfig
  const char* help;  // an enum field's values are appended from the proto
};

const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = {
      {"data-dir", "data.data_dir", "folder with the four MNIST-style IDX files (raw or .gz)"},
      {"train-csv", "data.train_csv", "training CSV (target column(s) first); replaces --data-dir"},
      {"test-csv", "data.test_csv", "test CSV, same layout as --train-csv"},
      {"csv-header", "data.csv_header", "the CSV files start with a header line"},
      {"csv-targets", "data.csv_targets", "leading target columns of a CSV row (regression: K)"},
      {"val-fraction", "data.val_fraction", "fraction of the training set held out for validation"},
      {"standardize", "data.standardize", "standardize features with training-set mean and std"},
      {"train-limit", "data.train_limit", "use only the first N training samples (0: all)"},
      {"test-limit", "data.test_limit", "use only the first N test samples (0: all)"},
      {"data-cache", "data.cache_dir",
       "per-host data cache folder (empty: ~/.cache/mlp-trainer; off: floats in memory)"},
      {"hidden", "model.hidden", "hidden layer widths, e.g. 256,128; empty for none"},
      {"activation", "model.activation", "hidden activation"},
      {"loss", "model.loss", "loss"},
      {"optimizer", "optimizer.kind", "update rule"},
      {"lr", "optimizer.lr", "learning rate"},
      {"momentum", "optimizer.momentum", "momentum coefficient (optimizer momentum)"},
      {"nesterov", "optimizer.nesterov", "Nesterov momentum"},
      {"beta1", "optimizer.beta1", "Adam's first-moment decay"},
      {"beta2", "optimizer.beta2", "Adam's second-moment decay"},
      {"epsilon", "optimizer.epsilon", "Adam's epsilon"},
      {"weight-decay", "optimizer.weight_decay", "L2 weight decay (biases exempt)"},
      {"lr-schedule", "optimizer.lr_schedule", "learning-rate schedule"},
      {"warmup-steps", "optimizer.warmup_steps", "linear learning-rate warm-up steps"},
      {"final-lr-fraction", "optimizer.final_lr_fraction", "cosine ends at lr times this"},
      {"input-dropout", "model.input_dropout", "drop probability of the inputs (training only)"},
      {"dropout", "model.dropout", "drop probability of each hidden layer's output"},
      {"max-norm", "model.max_norm", "bound on each unit's incoming weight norm (0: off)"},
      {"early-stopping-patience", "early_stopping.patience",
       "epochs without improvement before stopping (0: off)"},
      {"early-stopping-metric", "early_stopping.metric", "the validation metric watched"},
      {"min-delta", "early_stopping.min_delta",
       "an improvement must beat the best by more than this"},
      {"restore-best", "early_stopping.restore_best",
       "keep the weights of the best epoch at the end"},
      {"start-from-epoch", "early_stopping.start_from_epoch",
       "epochs before this are not considered"},
      {"progress", "progress", "rank 0's view of an epoch on stderr"},
      {"log-every-steps", "log_every_steps", "log the training loss every N steps (0: off)"},
      {"batch-size", "batch_size", "GLOBAL mini-batch size, split over the ranks"},
      {"epochs", "epochs", "training epochs"},
      {"seed", "seed", "seed of initialization, data order and validation split"},
      {"out", "out_dir", "run folder: config.txt, metrics.csv, summary.json"},
      {"stall-timeout", "stall_timeout", "seconds a rank may wait in one collective (0: forever)"},
      {"max-steps", "max_steps", "stop after this many global steps (0: no limit)"},
      {"pause-after-epoch", "pause_after_epoch",
       "pause after this many epochs, before the last: checkpoint, no model or summary, exit 0; "
       "--resume auto continues exactly (0: no pause)"},
      {"grad-sync", "grad_sync", "how gradients are summed over ranks"},
      {"grad-bucket-kb", "grad_bucket_kb", "smallest overlap bucket in KiB"},
      {"exact-blocks", "exact_blocks",
       "sum gradients and metrics exactly over N fixed blocks of the batch: the same bits at "
       "every rank count up to N (0: off)"},
      {"gemm", "gemm",
       "matrix-product backend: auto (the fastest measured on this host, CPU and model, "
       "remembered), remeasure (auto, timed again), onednn, eigen or blas"},
      {"precision", "precision",
       "operands of the matrix products (bf16: oneDNN, avx512_bf16 or AMX; float32 master "
       "weights, gradients and optimizer)"},
      {"checkpoint-dir", "checkpoint_dir", "checkpoint folder (empty: OUT/checkpoints)"},
      {"checkpoint-every-steps", "checkpoint_every_steps",
       "checkpoint every N global steps (0: off)"},
      {"checkpoint-every-epoch", "checkpoint_every_epoch", "checkpoint at the end of every epoch"},
      {"keep-last", "keep_last",
       "checkpoints kept; older ones are deleted once a new one verifies"},
      {"resume", "resume", "auto (newest valid checkpoint, if any) or a checkpoint file"},
  };
  return table;
}

std::string flag_for_path(const std::string& path) {
  for (const Flag& f : flags())
    if (path == f.path) return std::string("--") + f.name;
  return path;
}

void require(bool ok, const std::string& path, const std::string& what) {
  if (!ok) throw UsageError(flag_for_path(path) + ": " + what);
}

const Flag& flag_named(const std::string& name) {
  for (const Flag& f : flags())
    if (name == f.name) return f;
  throw std::logic_error("the trainer has no flag --" + name);
}

// A flag read as text, its default shown as the proto's defaults print it; a bool flag given
// alone means true. help: the text shown, an enum field's values appended.
void declare(const Flag& f, const pb::TrainConfig& defaults, const char* help,
             po::options_description* options) {
  const std::string shown = field_text(defaults, f.path);
  auto* value = po::value<std::string>()->value_name("V")->default_value(
      shown, shown.empty() ? "\"\"" : shown);
  const bool is_bool = shown == "true" || shown == "false";
  if (is_bool) value->implicit_value("true");
  const std::string choices = field_choices(*pb::TrainConfig::descriptor(), f.path);
  options->add_options()(f.name, value,
                         choices.empty() ? help : (std::string(help) + ": " + choices).c_str());
}

// Sets the flag's field when the command line gave the flag.
void set_if_given(const Flag& f, const po::variables_map& vm, pb::TrainConfig* config) {
  if (vm[f.name].defaulted()) return;
  set_field_from_text(config, f.path, vm[f.name].as<std::string>(), std::string("--") + f.name);
}

pb::TrainConfig default_config() {
  pb::TrainConfig defaults;
  fill_defaults(&defaults);
  return defaults;
}

po::options_description describe(const pb::TrainConfig& defaults) {
  po::options_description options("trainer options (defaults in parentheses)");
  options.add_options()("help,h", "print this help and exit")(
      "config", po::value<std::string>()->value_name("FILE"),
      "text-format TrainConfig; flags given here override it");
  for (const Flag& f : flags()) declare(f, defaults, f.help, &options);
  return options;
}

}  // namespace

std::string exit_codes_text() {
  return "exit codes:\n"
         "  0   success\n"
         "  2   usage or config error (bad flag, value, config file, output folder)\n"
         "  3   data error (missing, corrupt or inconsistent data file)\n"
         "  4   non-finite loss or gradient\n"
         "  5   ranks disagree (config, data or parameters differ between ranks)\n"
         "  6   a rank failed or stalled in a collective\n"
         "  7   checkpoint or model file error (unreadable, corrupt or incompatible)\n"
         "  75  stopped by SIGUSR1/SIGTERM after writing a checkpoint, or before the first step\n"
         "      with nothing to save (requeue and resume)\n";
}

void add_trainer_flags(const std::vector<SharedFlag>& shared, po::options_description* options) {
  const pb::TrainConfig defaults = default_config();
  for (const SharedFlag& s : shared) {
    const Flag& f = flag_named(s.name);
    declare(f, defaults, s.help != nullptr ? s.help : f.help, options);
  }
}

void set_trainer_flags(const std::vector<SharedFlag>& shared, const po::variables_map& vm,
                       pb::TrainConfig* config) {
  for (const SharedFlag& s : shared) set_if_given(flag_named(s.name), vm, config);
}

TrainerArgs parse_trainer_args(int argc, const char* const* argv) {
  const po::options_description options = describe(default_config());

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }

  TrainerArgs args;
  if (vm.count("help")) {
    std::ostringstream out;
    out << "usage: trainer [options]        (or: mpirun -np N trainer [options])\n"
        << "Trains a multilayer perceptron; --batch-size is the global batch over all ranks.\n\n"
        << options << "\n"
        << exit_codes_text();
    args.help = true;
    args.help_text = out.str();
    return args;
  }
  if (vm.count("config")) read_text_file(vm["config"].as<std::string>(), &args.config);
  for (const Flag& f : flags()) set_if_given(f, vm, &args.config);
  fill_defaults(&args.config);
  validate_config(args.config);
  return args;
}

void validate_config(const pb::TrainConfig& c) {
  const pb::OptimizerConfig& o = c.optimizer();
  const pb::DataConfig& d = c.data();
  parse_hidden_sizes(c.model().hidden());  // its errors name --hidden already
  require(c.batch_size() > 0, "batch_size",
          "must be a positive integer, got " + std::to_string(c.batch_size()));
  require(c.epochs() > 0, "epochs",
          "must be a positive integer, got " + std::to_string(c.epochs()));
  require(std::isfinite(o.lr()) && o.lr() > 0, "optimizer.lr", "must be a positive number");
  require(o.momentum() >= 0 && o.momentum() < 1, "optimizer.momentum", "must be in [0, 1)");
  require(o.beta1() >= 0 && o.beta1() < 1, "optimizer.beta1", "must be in [0, 1)");
  require(o.beta2() >= 0 && o.beta2() < 1, "optimizer.beta2", "must be in [0, 1)");
  require(o.epsilon() > 0, "optimizer.epsilon", "must be positive");
  require(o.weight_decay() >= 0, "optimizer.weight_decay", "must be non-negative");
  validate_data_config(d);
  require(!c.out_dir().empty(), "out_dir", "must name a folder");
  require(c.stall_timeout() >= 0, "stall_timeout", "must be non-negative");
  require(c.max_steps() >= 0, "max_steps", "must be non-negative");
  require(c.pause_after_epoch() >= 0, "pause_after_epoch", "must be non-negative");
  require(c.grad_bucket_kb() > 0, "grad_bucket_kb", "must be a positive integer");
  require(c.exact_blocks() >= 0 && c.exact_blocks() <= c.batch_size(), "exact_blocks",
          "must be in [0, --batch-size " + std::to_string(c.batch_size()) + "], got " +
              std::to_string(c.exact_blocks()));
  if (c.gemm() != "auto" && c.gemm() != "remeasure")
    parse_gemm_backend(c.gemm(), flag_for_path("gemm"));
  if (c.precision() == pb::BF16) {
    require(gemm_backend_available(GemmBackend::kOnednn), "precision",
            "bf16 products run on oneDNN, which this build lacks (install libdnnl-dev and "
            "rebuild with -DMLP_ONEDNN=ON)");
    require(c.gemm() == "auto" || c.gemm() == "onednn", "precision",
            "bf16 products run on oneDNN only; use --gemm onednn or auto, not " + c.gemm());
    require(c.exact_blocks() == 0, "precision",
            "the exact mode (--exact-blocks) sums float32 products of its own; it runs with "
            "--precision fp32 only");
  }
  require(c.checkpoint_every_steps() >= 0, "checkpoint_every_steps", "must be non-negative");
  const pb::ModelConfig& m = c.model();
  require(m.input_dropout() >= 0 && m.input_dropout() < 1, "model.input_dropout",
          "must be in [0, 1)");
  require(m.dropout() >= 0 && m.dropout() < 1, "model.dropout", "must be in [0, 1)");
  require(m.max_norm() >= 0, "model.max_norm", "must be non-negative");
  require(o.warmup_steps() >= 0, "optimizer.warmup_steps", "must be non-negative");
  require(o.final_lr_fraction() >= 0 && o.final_lr_fraction() <= 1, "optimizer.final_lr_fraction",
          "must be in [0, 1]");
  const pb::EarlyStoppingConfig& es = c.early_stopping();
  require(es.patience() >= 0, "early_stopping.patience", "must be non-negative");
  require(es.min_delta() >= 0, "early_stopping.min_delta", "must be non-negative");
  require(es.patience() == 0 || d.val_fraction() > 0, "early_stopping.patience",
          "needs a validation set (--val-fraction > 0)");
  require(c.log_every_steps() >= 0, "log_every_steps", "must be non-negative");
  require(c.keep_last() >= 1, "keep_last", "must be at least 1");
  require(d.test_csv().empty() || !d.train_csv().empty(), "data.test_csv",
          "needs --train-csv as well");
}

void validate_data_config(const pb::DataConfig& d) {
  require(d.val_fraction() >= 0 && d.val_fraction() < 1, "data.val_fraction", "must be in [0, 1)");
  require(d.csv_targets() > 0, "data.csv_targets", "must be a positive integer");
  require(d.train_limit() >= 0, "data.train_limit", "must be non-negative");
  require(d.test_limit() >= 0, "data.test_limit", "must be non-negative");
}

}  // namespace mlp
