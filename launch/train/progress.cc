// Progress display; see progress.h.
#include "launch/train/progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace mlp {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Progress::Progress(pb::ProgressMode mode, bool enabled, int epochs, int64_t steps_per_epoch)
    : epochs_(epochs),
      steps_per_epoch_(steps_per_epoch),
      epoch_start_(Clock::now()),
      last_draw_(Clock::now()) {
  if (!enabled || mode == pb::NONE) return;
  if (mode == pb::BAR || (mode == pb::AUTO && isatty(STDERR_FILENO)))
    style_ = Style::kBar;
  else
    style_ = Style::kLog;
}

void Progress::step(int epoch, int64_t step, double epoch_samples) {
  if (style_ == Style::kNone) return;
  const auto now = Clock::now();
  if (step == 0) epoch_start_ = now;
  // A terminal is redrawn ten times a second at most; a log gets a line every ten seconds.
  const double interval = style_ == Style::kBar ? 0.1 : 10.0;
  if (seconds(now - last_draw_) < interval && step + 1 < steps_per_epoch_) return;
  last_draw_ = now;
  const double elapsed = seconds(now - epoch_start_);
  const double done = static_cast<double>(step + 1) / static_cast<double>(steps_per_epoch_);
  const double rate = elapsed > 0 ? epoch_samples / elapsed : 0;
  const double eta = done > 0 ? elapsed * (1 - done) / done : 0;
  if (style_ == Style::kBar) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(done * kWidth);
    std::fprintf(stderr, "\repoch %d/%d [%s%s] %3.0f%%  %.0f samples/s  eta %.0f s ", epoch + 1,
                 epochs_, std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, '.').c_str(), 100 * done, rate, eta);
    drawn_ = true;
  } else {
    std::fprintf(stderr, "epoch %d/%d step %lld/%lld (%.0f%%)  %.0f samples/s  eta %.0f s\n",
                 epoch + 1, epochs_, static_cast<long long>(step + 1),
                 static_cast<long long>(steps_per_epoch_), 100 * done, rate, eta);
  }
  std::fflush(stderr);
}

void Progress::end_epoch() {
  if (style_ != Style::kBar || !drawn_) return;
  std::fprintf(stderr, "\r%*s\r", 79, "");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace mlp
