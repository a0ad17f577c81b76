// bf16 rounding, the CPU check and its MLP_HIDE_CPU_FEATURES pretence, and bf16 products against
// a double reference: exact where the operands are bf16 values whose products sum exactly in
// float, within the bound of bf16 rounding otherwise. Products are skipped on a CPU or build
// without bf16.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "core/bf16.h"
#include "core/errors.h"
#include "core/gemm.h"
#include "tests/core/gradient_check.h"

namespace mlp {
namespace {

// bf16's unit roundoff: 8 significant bits, round to nearest.
constexpr double kBf16Unit = 1.0 / 256;

float from_bits(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

TEST(Bf16, RoundsToNearestTiesToEven) {
  EXPECT_EQ(bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(bf16_bits(-2.0f), 0xc000);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa, 1.
  EXPECT_EQ(bf16_bits(1.0f + 1.0f / 256), 0x3f80);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  EXPECT_EQ(bf16_bits(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_EQ(bf16_bits(1.0f + 1.0f / 256 + 1.0f / 4096), 0x3f81);
  EXPECT_EQ(bf16_bits(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(bf16_bits(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to infinity
  EXPECT_TRUE(std::isnan(from_bits(bf16_bits(std::numeric_limits<float>::quiet_NaN()))));
  // A NaN whose payload lies in the dropped bits stays a NaN, not an infinity.
  uint32_t low_nan = 0x7f800001u;
  float f;
  std::memcpy(&f, &low_nan, sizeof f);
  EXPECT_TRUE(std::isnan(from_bits(bf16_bits(f))));
  // Subnormals round like other values.
  EXPECT_EQ(bf16_bits(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(bf16_bits(from_bits(0x0001) * 1.5f), 0x0002);
}

TEST(Bf16, VectorConversionMatchesTheScalarAndEigen) {
  std::vector<float> in;
  for (int i = -2000; i < 2000; ++i) in.push_back(static_cast<float>(i) * 0.7071f + 1e-3f * i * i);
  in.push_back(std::numeric_limits<float>::infinity());
  in.push_back(-0.0f);
  std::vector<Bf16> out(in.size());
  to_bf16(in.data(), out.data(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(Eigen::numext::bit_cast<uint16_t>(out[i]), bf16_bits(in[i])) << in[i];
    EXPECT_EQ(Eigen::numext::bit_cast<uint16_t>(Bf16(in[i])), bf16_bits(in[i])) << in[i];
    if (std::isfinite(in[i])) {
      EXPECT_LE(std::abs(bf16_to_float(out[i]) - in[i]), kBf16Unit * std::abs(in[i])) << in[i];
    }
  }
}

// Sets MLP_HIDE_CPU_FEATURES for the test's lifetime.
class HiddenFeatures {
 public:
  explicit HiddenFeatures(const char* list) { setenv("MLP_HIDE_CPU_FEATURES", list, 1); }
  ~HiddenFeatures() { unsetenv("MLP_HIDE_CPU_FEATURES"); }
};

TEST(Bf16, HidingTheInstructionSetsMakesTheCheckRefuse) {
  const HiddenFeatures hidden("avx512_bf16,amx_bf16");
  const std::string missing = missing_bf16_isa();
  EXPECT_NE(missing.find("avx512_bf16"), std::string::npos) << missing;
  try {
    require_bf16_cpu("--precision bf16");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--precision bf16: this CPU lacks avx512", 0), 0u)
        << e.what();
  }
}

TEST(Bf16, HidingAnotherFeatureChangesNothing) {
  const std::string unhidden = missing_bf16_isa();
  const HiddenFeatures hidden("sse2,avx512_bf16x");
  EXPECT_EQ(missing_bf16_isa(), unhidden);
}

struct Case {
  int m, n, k;
  bool transpose_a, transpose_b;
  Accumulate mode;
};

const Case kCases[] = {
    {7, 5, 3, false, false, Accumulate::kOverwrite}, {33, 17, 65, true, false, Accumulate::kAdd},
    {16, 40, 9, false, true, Accumulate::kOverwrite}, {1, 1, 300, true, true, Accumulate::kAdd},
    {130, 64, 129, false, false, Accumulate::kAdd},   {10, 128, 256, true, false,
                                                       Accumulate::kOverwrite},
};

// a, b: double values that are bf16 values; c (m, n) float, its start for kAdd.
struct Operands {
  Matrix<double> a, b, c0;
};

// Each entry q / 8 for an integer q in [-40, 40]: a bf16 value (at most 6 significant bits), and
// every product and partial sum of up to 300 of them is a multiple of 1/64 below 2^15, exact in
// float.
Matrix<double> small_grid(int rows, int cols, uint64_t key) {
  Matrix<double> m = test_matrix(rows, cols, key, -40, 41);
  return (m.array().floor() / 8).matrix();
}

Matrix<double> to_bf16_values(const Matrix<double>& m) {
  return m.cast<float>().cast<Bf16>().cast<float>().cast<double>();
}

// c = c0 (kAdd) + op(a) op(b) through bf16 gemm; returns c in double.
Matrix<double> bf16_product(const Case& p, const Matrix<double>& a, const Matrix<double>& b,
                            const Matrix<double>& c0) {
  const Matrix<Bf16> a16 = a.cast<float>().cast<Bf16>(), b16 = b.cast<float>().cast<Bf16>();
  Matrix<float> c = c0.cast<float>();
  gemm({GemmBackend::kOnednn, Precision::kBf16}, a16, p.transpose_a, b16, p.transpose_b, c,
       p.mode);
  return c.cast<double>();
}

Matrix<double> op(const Matrix<double>& x, bool transpose) {
  return transpose ? Matrix<double>(x.transpose()) : x;
}

TEST(Bf16Products, ExactOnOperandsWhoseProductsSumExactlyInFloat) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  uint64_t key = 100;
  for (const Case& p : kCases) {
    const Matrix<double> a = p.transpose_a ? small_grid(p.k, p.m, key++) : small_grid(p.m, p.k, key++);
    const Matrix<double> b = p.transpose_b ? small_grid(p.n, p.k, key++) : small_grid(p.k, p.n, key++);
    const Matrix<double> c0 = small_grid(p.m, p.n, key++);
    ASSERT_EQ(to_bf16_values(a), a);
    Matrix<double> expected = op(a, p.transpose_a) * op(b, p.transpose_b);
    if (p.mode == Accumulate::kAdd) expected += c0;
    EXPECT_EQ(bf16_product(p, a, b, c0), expected) << p.m << "x" << p.n << "x" << p.k;
  }
}

// For arbitrary float operands each product term carries the rounding of both operands,
// |bf(x) bf(y) - x y| <= (2u + u^2) |x y| with u = 2^-8, and float accumulation of k terms adds
// at most k 2^-24 of the sum of their magnitudes: so |c - c_exact| <= (2u + u^2 + k 2^-24 (1 +
// u)^2) (|op(a)| |op(b)|) (+ the float rounding of c0 for kAdd), entry by entry.
TEST(Bf16Products, WithinBf16RoundingOfTheDoubleReferenceOnAnyOperands) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  uint64_t key = 500;
  for (const Case& p : kCases) {
    const Matrix<double> a = (p.transpose_a ? test_matrix(p.k, p.m, key++)
                                            : test_matrix(p.m, p.k, key++))
                                 .cast<float>()
                                 .cast<double>();
    const Matrix<double> b = (p.transpose_b ? test_matrix(p.n, p.k, key++)
                                            : test_matrix(p.k, p.n, key++))
                                 .cast<float>()
                                 .cast<double>();
    const Matrix<double> c0 = test_matrix(p.m, p.n, key++).cast<float>().cast<double>();
    Matrix<double> exact = op(a, p.transpose_a) * op(b, p.transpose_b);
    const Matrix<double> magnitude =
        op(a, p.transpose_a).cwiseAbs() * op(b, p.transpose_b).cwiseAbs();
    const double u = kBf16Unit, fp32 = std::ldexp(1.0, -24);
    const double factor = 2 * u + u * u + (p.k + 1) * fp32 * (1 + u) * (1 + u);
    Matrix<double> bound = factor * magnitude;
    if (p.mode == Accumulate::kAdd) {
      exact += c0;
      bound += fp32 * 2 * (c0.cwiseAbs() + magnitude);
    }
    const Matrix<double> got = bf16_product(p, a, b, c0);
    const Matrix<double> error = (got - exact).cwiseAbs();
    EXPECT_TRUE((error.array() <= bound.array()).all())
        << p.m << "x" << p.n << "x" << p.k << ": worst excess "
        << (error - bound).maxCoeff();
    // And the rounding is there: bf16 products are not float products.
    EXPECT_GT(error.maxCoeff(), 0.0);
  }
}

}  // namespace
}  // namespace mlp
