// Dropout: drop rate within statistical bounds, inverted scaling keeps the expected activation,
// identity at evaluation, masks keyed by sample rather than by column position, the same keep
// decisions as the stream's plain formula, and a gradient check with fixed keep decisions.
#include "core/dropout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/keep_bits.h"
#include "core/rng.h"
#include "tests/core/gradient_check.h"

namespace mlp {
namespace {

// The keep decision of one unit of one sample, the trainer's stream written plainly: the
// reference every kernel and the layer are held to.
bool reference_keeps(uint64_t seed, int64_t step, int64_t sample, int layer, int unit, float rate) {
  const uint64_t where = (static_cast<uint64_t>(layer) << 32) | static_cast<uint32_t>(unit);
  return random_uniform(seed, RngStream::kDropout, static_cast<uint64_t>(step),
                        static_cast<uint64_t>(sample), where) >= rate;
}

ForwardContext training_context(const std::vector<int64_t>& ids, int64_t step = 7) {
  return ForwardContext{true, /*seed=*/11, step, ids.data()};
}

std::vector<int64_t> ids_from(int64_t first, int64_t n) {
  std::vector<int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

TEST(Dropout, DropRateAndExpectedActivationWithinStatisticalBounds) {
  for (float rate : {0.2f, 0.5f}) {
    const int units = 200, n = 500;
    DropoutLayer<float> layer(rate, units, 1);
    const Matrix<float> x = Matrix<float>::Ones(units, n);
    Matrix<float> y;
    layer.forward(x, y, training_context(ids_from(0, n)));
    const double count = static_cast<double>(units) * n;
    const double dropped = static_cast<double>((y.array() == 0.0f).count());
    // Binomial standard deviation sqrt(p(1-p)/count); 5 of them.
    EXPECT_NEAR(dropped / count, rate, 5 * std::sqrt(rate * (1 - rate) / count)) << rate;
    // Kept units are scaled by 1/(1-p), so the mean activation stays 1.
    const double mean = y.cast<double>().mean();
    EXPECT_NEAR(mean, 1.0, 5 * std::sqrt(rate / (1 - rate) / count)) << rate;
    EXPECT_FLOAT_EQ(y.maxCoeff(), 1.0f / (1.0f - rate));
  }
}

TEST(Dropout, EvaluationIsTheIdentity) {
  DropoutLayer<float> layer(0.5f, 3, 0);
  const Matrix<float> x = Matrix<float>::Random(3, 4);
  Matrix<float> y;
  layer.forward(x, y, ForwardContext{});
  EXPECT_EQ(y, x);
  Matrix<float> dx;
  layer.backward(x, y, x, &dx);
  EXPECT_EQ(dx, x);
}

TEST(Dropout, MaskFollowsTheSampleNotItsColumnOrRank) {
  // Samples 10..19 as one batch, or split as two ranks would compute them.
  DropoutLayer<float> whole(0.5f, 64, 2), first(0.5f, 64, 2), second(0.5f, 64, 2);
  const Matrix<float> x = Matrix<float>::Ones(64, 10);
  Matrix<float> y_whole, y_first, y_second;
  whole.forward(x, y_whole, training_context(ids_from(10, 10)));
  first.forward(x.leftCols(4), y_first, training_context(ids_from(10, 4)));
  second.forward(x.rightCols(6), y_second, training_context(ids_from(14, 6)));
  EXPECT_EQ(y_whole.leftCols(4), y_first);
  EXPECT_EQ(y_whole.rightCols(6), y_second);
  // Another step or another layer draws another mask.
  Matrix<float> y_next_step, y_next_layer;
  whole.forward(x, y_next_step, training_context(ids_from(10, 10), 8));
  EXPECT_NE(y_whole, y_next_step);
  DropoutLayer<float> third(0.5f, 64, 3);
  third.forward(x, y_next_layer, training_context(ids_from(10, 10)));
  EXPECT_NE(y_whole, y_next_layer);
}

// Bits of the stream as the trainer drew them one unit at a time before the vectorized kernels:
// units 0 to 63 of sample 10 at step 7, seed 11. A change of the stream fails here first.
TEST(Dropout, KeepDecisionsAreTheStreamsOfEarlierReleases) {
  const struct {
    int layer;
    float rate;
    uint64_t word;
  } cases[] = {{0, 0.2f, 0xebf79bcfde9ffffdULL},
               {0, 0.5f, 0xe1d20b46461fd3ddULL},
               {2, 0.2f, 0xffffff7bfebee37fULL},
               {2, 0.5f, 0xf6d88313fe3a237fULL}};
  for (const auto& c : cases) {
    uint64_t word = 0;
    for (int u = 0; u < 64; ++u)
      word |= static_cast<uint64_t>(reference_keeps(11, 7, 10, c.layer, u, c.rate)) << u;
    EXPECT_EQ(word, c.word) << c.layer << " " << c.rate;
    for (KeepKernel kernel : available_keep_kernels()) {
      uint64_t drawn = 0;
      draw_keep_bits(keep_column(11, 7, 10, c.layer, c.rate), 64, &drawn, kernel);
      EXPECT_EQ(drawn, c.word) << static_cast<int>(kernel);
    }
  }
}

// Every kernel against the plain formula, bit for bit: widths around the vector and word sizes,
// rates whose thresholds fall between and on the generator's 24-bit steps, large counters.
TEST(Dropout, EveryKernelDrawsTheReferenceBits) {
  const float rates[] = {
      0.0f, 0.2f, 0.5f, 0.8f, 0.99f, 0.25f, 1.0f / 16777216.0f, 1.0f - 1.0f / 16777216.0f};
  const int widths[] = {1, 7, 8, 15, 16, 17, 63, 64, 65, 100, 784, 1024, 1031};
  for (KeepKernel kernel : available_keep_kernels()) {
    for (const float rate : rates) {
      for (const int units : widths) {
        for (const int64_t sample : {int64_t{0}, int64_t{59999}, int64_t{1} << 40}) {
          const int64_t step = sample % 7 + 1234567;
          const int layer = static_cast<int>(sample % 3);
          std::vector<uint64_t> bits(static_cast<size_t>(keep_words(units)), ~uint64_t{0});
          draw_keep_bits(keep_column(5, step, sample, layer, rate), units, bits.data(), kernel);
          for (int u = 0; u < keep_words(units) * 64; ++u) {
            const bool drawn = (bits[static_cast<size_t>(u / 64)] >> (u % 64)) & 1;
            const bool expected = u < units && reference_keeps(5, step, sample, layer, u, rate);
            ASSERT_EQ(drawn, expected) << "kernel " << static_cast<int>(kernel) << " rate " << rate
                                       << " units " << units << " unit " << u;
          }
        }
      }
    }
  }
}

// Applying the bits multiplies by scale or zero, as a float mask would: a dropped infinity
// becomes NaN and a dropped negative value -0, so nothing is hidden from the non-finite check.
TEST(Dropout, EveryKernelAppliesTheBitsAsAProductWithTheMask) {
  const int units = 37;
  std::vector<uint64_t> bits = {0x0000001f0f0f3a5cULL};
  std::vector<float> in(units);
  for (int u = 0; u < units; ++u) in[static_cast<size_t>(u)] = static_cast<float>(u) - 20.5f;
  in[2] = INFINITY;
  in[3] = NAN;
  for (KeepKernel kernel : available_keep_kernels()) {
    std::vector<float> out(units + 1, 7.0f);
    apply_keep_bits(bits.data(), 2.5f, units, in.data(), out.data(), kernel);
    for (int u = 0; u < units; ++u) {
      const float mask = ((bits[0] >> u) & 1) ? 2.5f : 0.0f;
      const float expected = in[static_cast<size_t>(u)] * mask;
      const float got = out[static_cast<size_t>(u)];
      EXPECT_TRUE(std::memcmp(&got, &expected, sizeof(float)) == 0 ||
                  (std::isnan(got) && std::isnan(expected)))
          << "kernel " << static_cast<int>(kernel) << " unit " << u;
    }
    EXPECT_EQ(out[units], 7.0f) << "wrote past the last unit";
  }
}

// The layer's masks are the reference decisions of each sample, applied with the inverted scale.
TEST(Dropout, LayerMasksAreTheReferenceDecisions) {
  const int units = 130, n = 9;
  DropoutLayer<float> layer(0.3f, units, 4);
  const std::vector<int64_t> ids = ids_from(500, n);
  const Matrix<float> x = Matrix<float>::Ones(units, n);
  Matrix<float> y;
  layer.forward(x, y, training_context(ids, 21));
  for (Eigen::Index j = 0; j < n; ++j) {
    for (int u = 0; u < units; ++u) {
      const bool keep = reference_keeps(11, 21, ids[static_cast<size_t>(j)], 4, u, 0.3f);
      ASSERT_EQ(layer.kept(u, j), keep);
      ASSERT_EQ(y(u, j), keep ? 1.0f / (1.0f - 0.3f) : 0.0f);
    }
  }
}

TEST(Dropout, GradientCheckWithFixedKeepDecisions) {
  const int units = 6, n = 5;
  DropoutLayer<double> layer(0.5f, units, 1);
  layer.set_fixed_keeps(test_matrix(units, n, 3, 0, 1).array() > 0.5);
  Matrix<double> x = test_matrix(units, n, 4);
  const Matrix<double> weights = test_matrix(units, n, 5);  // loss = sum(weights .* y)
  const ForwardContext ctx{true, 0, 0, nullptr};
  Matrix<double> y, dx;
  layer.forward(x, y, ctx);
  layer.backward(x, y, weights, &dx);
  EXPECT_TRUE(gradients_match(x.data(), dx.data(), x.size(), [&] {
    Matrix<double> out;
    layer.forward(x, out, ctx);
    return out.cwiseProduct(weights).sum();
  }));
}

}  // namespace
}  // namespace mlp
