// The exact mode's input-gradient kernel: every kernel of the build gives the portable formula's
// bits on shapes that fill no tile exactly, with empty and one-sample blocks; a column's values
// are the same whichever columns share the call (as ranks group blocks); the result is a
// double-precision product's within float rounding.
#include "core/column_product.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/core/gradient_check.h"

namespace mlp {
namespace {

struct Columns {
  Matrix<float> w;                    // (O, I)
  std::vector<Matrix<float>> dz, dx;  // (O, n), (I, n) per block
  Columns(int outputs, int inputs, const std::vector<int>& sizes)
      : w(test_matrix(outputs, inputs, 7, -1, 1).cast<float>()) {
    for (size_t b = 0; b < sizes.size(); ++b) {
      dz.push_back(test_matrix(outputs, sizes[b], 30 + b, -1e-2, 1e-2).cast<float>());
      dx.push_back(Matrix<float>::Constant(inputs, sizes[b], 99.0f));
    }
  }
  std::vector<ProductColumns> blocks(size_t first, size_t end) {
    std::vector<ProductColumns> f;
    for (size_t b = first; b < end; ++b)
      f.push_back({dz[b].data(), dx[b].data(), static_cast<int>(dz[b].cols())});
    return f;
  }
};

}  // namespace

TEST(ColumnProduct, EveryKernelGivesThePortableBits) {
  for (const auto& shape : std::vector<std::vector<int>>{{70, 13}, {10, 1030}, {129, 7}, {1, 1}}) {
    const int outputs = shape[0], inputs = shape[1];
    SCOPED_TRACE(testing::Message() << outputs << "x" << inputs);
    Columns columns(outputs, inputs, {16, 0, 1, 17, 5});
    ColumnProduct product;
    product.compute(outputs, inputs, columns.w.data(), columns.blocks(0, 5),
                    FixedKernel::kPortable);
    const std::vector<Matrix<float>> reference = columns.dx;
    for (FixedKernel k : available_fixed_kernels()) {
      for (Matrix<float>& dx : columns.dx) dx.setConstant(99.0f);
      product.compute(outputs, inputs, columns.w.data(), columns.blocks(0, 5), k);
      for (size_t b = 0; b < reference.size(); ++b)
        EXPECT_TRUE(columns.dx[b].cwiseEqual(reference[b]).all()) << "block " << b;
    }
  }
}

TEST(ColumnProduct, AColumnIsTheSameWhicheverColumnsShareTheCall) {
  const int outputs = 96, inputs = 50;
  Columns columns(outputs, inputs, {8, 9, 7, 16});
  ColumnProduct product;
  product.compute(outputs, inputs, columns.w.data(), columns.blocks(0, 4));
  const std::vector<Matrix<float>> together = columns.dx;
  product.compute(outputs, inputs, columns.w.data(), columns.blocks(0, 1));
  product.compute(outputs, inputs, columns.w.data(), columns.blocks(1, 3));
  product.compute(outputs, inputs, columns.w.data(), columns.blocks(3, 4));
  for (size_t b = 0; b < together.size(); ++b)
    EXPECT_TRUE(columns.dx[b].cwiseEqual(together[b]).all()) << "block " << b;
}

TEST(ColumnProduct, EqualsADoublePrecisionProductWithinFloatRounding) {
  const int outputs = 300, inputs = 20;
  Columns columns(outputs, inputs, {16, 3});
  ColumnProduct product;
  product.compute(outputs, inputs, columns.w.data(), columns.blocks(0, 2));
  for (size_t b = 0; b < columns.dz.size(); ++b) {
    const Matrix<double> exact =
        columns.w.cast<double>().transpose() * columns.dz[b].cast<double>();
    const Matrix<double> magnitude =
        columns.w.cast<double>().cwiseAbs().transpose() * columns.dz[b].cast<double>().cwiseAbs();
    for (Eigen::Index i = 0; i < exact.size(); ++i)
      EXPECT_NEAR(columns.dx[b].data()[i], exact.data()[i], outputs * 6e-8 * magnitude.data()[i])
          << i;
  }
}

}  // namespace mlp
