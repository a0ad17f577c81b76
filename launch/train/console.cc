// Rank 0's console lines; see console.h.
#include "launch/train/console.h"

#include <cctype>
#include <cstdio>
#include <stdexcept>

#include "core/record_csv.h"

namespace mlp {
namespace {

std::string model_shape(const pb::ModelConfig& m) {
  std::string hidden = m.hidden();
  for (char& c : hidden)
    if (c == ',') c = '-';
  return std::to_string(m.inputs()) + (hidden.empty() ? "" : "-" + hidden) + "-" +
         std::to_string(m.outputs());
}

const char* plural(int64_t n) { return n == 1 ? "" : "s"; }

// Whether `format` is text with exactly one conversion of a real: '%', an optional precision
// (".4"), then f, g or e. printf given anything else would read past its one argument.
bool one_real_conversion(const std::string& format) {
  const size_t at = format.find('%');
  if (at == std::string::npos) return false;
  size_t end = at + 1;
  if (end < format.size() && format[end] == '.')
    while (++end < format.size() && std::isdigit(static_cast<unsigned char>(format[end]))) {
    }
  return end < format.size() && std::string("fge").find(format[end]) != std::string::npos &&
         format.find('%', end) == std::string::npos;
}

// The field's console_format applied to its value.
std::string formatted(const google::protobuf::Message& m,
                      const google::protobuf::FieldDescriptor* f) {
  const std::string& format = f->options().GetExtension(pb::console_format);
  if (!one_real_conversion(format))
    throw std::logic_error("the console_format of " + f->full_name() + " is not text with one " +
                           "%f, %g or %e: " + format);
  char text[128];
  std::snprintf(text, sizeof text, format.c_str(), number_field(m, f));
  return text;
}

}  // namespace

void Console::banner(const pb::TrainConfig& config, int64_t train, int64_t val, int64_t test,
                     size_t parameters, int world_size) const {
  if (!enabled_) return;
  std::printf(
      "training %s on %lld samples (%lld validation, %lld test), %zu parameters, %d rank%s, "
      "global batch %d\n",
      model_shape(config.model()).c_str(), static_cast<long long>(train),
      static_cast<long long>(val), static_cast<long long>(test), parameters, world_size,
      plural(world_size), config.batch_size());
  std::fflush(stdout);
}

void Console::no_checkpoint(const std::string& dir) const {
  if (enabled_) std::printf("no checkpoint in %s: starting fresh\n", dir.c_str());
}

void Console::resumed(const std::string& source, int epoch, int64_t step_in_epoch,
                      int64_t global_step, int saved_world_size) const {
  if (!enabled_) return;
  std::printf("resuming from %s at epoch %d, step %lld (global step %lld), saved by %d rank%s\n",
              source.c_str(), epoch + 1, static_cast<long long>(step_in_epoch),
              static_cast<long long>(global_step), saved_world_size, plural(saved_world_size));
}

void Console::schedule_changed(const pb::TrainConfig& saved, int64_t saved_steps,
                               const pb::TrainConfig& now, int64_t planned_steps, int64_t step,
                               double rate_now, double rate_before) const {
  if (!enabled_) return;
  std::fprintf(stderr,
               "trainer: warning: the learning-rate schedule differs from the checkpoint's "
               "(%d epochs, %lld planned steps there; %d, %lld now): global step %lld gets "
               "rate %g instead of %g\n",
               saved.epochs(), static_cast<long long>(saved_steps), now.epochs(),
               static_cast<long long>(planned_steps), static_cast<long long>(step), rate_now,
               rate_before);
}

void Console::epoch(const pb::EpochMetrics& m, int epochs) const {
  if (!enabled_) return;
  char line_start[48];
  std::snprintf(line_start, sizeof line_start, "epoch %3d/%d", m.epoch(), epochs);
  std::string line = line_start;
  for (const google::protobuf::FieldDescriptor* f : present_fields(m))
    if (f->options().HasExtension(pb::console_format)) line += formatted(m, f);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void Console::early_stop(int epoch, const char* metric, int patience, int best_epoch) const {
  if (!enabled_) return;
  std::printf("early stopping after epoch %d: no improvement of %s for %d epochs (best epoch %d)\n",
              epoch, metric, patience, best_epoch);
}

void Console::paused(int epoch, int epochs, const std::string& checkpoint_dir) const {
  if (!enabled_) return;
  std::printf("paused after epoch %d of %d with a checkpoint in %s; continue with --resume auto\n",
              epoch, epochs, checkpoint_dir.c_str());
  std::fflush(stdout);
}

void Console::warning(const std::string& text) const {
  if (enabled_ && !text.empty()) std::fprintf(stderr, "trainer: warning: %s\n", text.c_str());
}

void Console::restored(int best_epoch) const {
  if (enabled_) std::printf("restored the weights of epoch %d\n", best_epoch);
}

void Console::test(double loss, double acc, bool classifies) const {
  if (!enabled_) return;
  std::printf("test loss %.4f", loss);
  if (classifies) std::printf(" acc %.4f", acc);
  std::printf("\n");
}

}  // namespace mlp
