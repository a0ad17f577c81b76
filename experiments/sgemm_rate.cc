// Single-core Eigen SGEMM rate: a 1024^3 product, and every product of one training step of an
// MLP written as the dense layer writes it (y += W x, dW += dy x^T, dx = W^T dy). The sum of
// the step's products at their best rates is the floor a step of that model could reach.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using Clock = std::chrono::steady_clock;

enum class Form { kForward, kWeightGrad, kInputGrad };

struct Product {
  std::string name;
  Form form;
  int outputs, inputs;  // the layer's O and I
};

struct Timing {
  double seconds;  // best time of one product
  double flop;
};

// Each repeat runs the product enough times to last about 50 ms, so the clock's resolution does
// not matter; the best repeat is the one least disturbed by the other tenants of the machine.
template <typename Body>
double best_seconds(Body body, int repeats) {
  body();
  int calls = 1;
  while (true) {
    const auto t0 = Clock::now();
    for (int c = 0; c < calls; ++c) body();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s > 0.05) break;
    calls *= 2;
  }
  double best = std::numeric_limits<double>::max();
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    for (int c = 0; c < calls; ++c) body();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() / calls);
  }
  return best;
}

Timing time_square(int size, int repeats) {
  const Matrix a = Matrix::Random(size, size);
  const Matrix b = Matrix::Random(size, size);
  Matrix c(size, size);
  const double s = best_seconds([&] { c.noalias() = a * b; }, repeats);
  return {s, 2.0 * size * size * static_cast<double>(size)};
}

Timing time_product(const Product& p, int batch, int repeats) {
  const Matrix w = Matrix::Random(p.outputs, p.inputs);  // (O, I)
  const Matrix x = Matrix::Random(p.inputs, batch);      // (I, N)
  const Matrix dy = Matrix::Random(p.outputs, batch);    // (O, N)
  Matrix y = Matrix::Zero(p.outputs, batch);             // (O, N)
  Matrix dw = Matrix::Zero(p.outputs, p.inputs);         // (O, I)
  Matrix dx(p.inputs, batch);                            // (I, N)
  double s = 0;
  switch (p.form) {
    case Form::kForward:
      s = best_seconds([&] { y.noalias() += w * x; }, repeats);
      break;
    case Form::kWeightGrad:
      s = best_seconds([&] { dw.noalias() += dy * x.transpose(); }, repeats);
      break;
    case Form::kInputGrad:
      s = best_seconds([&] { dx.noalias() = w.transpose() * dy; }, repeats);
      break;
  }
  return {s, 2.0 * p.outputs * p.inputs * static_cast<double>(batch)};
}

std::vector<int> parse_widths(const std::string& text) {
  std::vector<int> widths;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) widths.push_back(std::stoi(item));
  return widths;
}

}  // namespace

int main(int argc, char** argv) {
  std::string hidden = "1024,1024";
  int inputs = 784, outputs = 10, batch = 128, size = 1024, repeats = 7;
  const std::map<std::string, int*> integer_flags = {{"--inputs", &inputs},
                                                     {"--outputs", &outputs},
                                                     {"--batch", &batch},
                                                     {"--size", &size},
                                                     {"--repeats", &repeats}};
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    const auto integer = integer_flags.find(flag);
    const bool known = flag == "--hidden" || integer != integer_flags.end();
    if (!known || i + 1 >= argc) {
      std::cerr << "sgemm_rate: bad or incomplete flag " << flag
                << "\nusage: sgemm_rate [--hidden 1024,1024] [--inputs 784] [--outputs 10]"
                   " [--batch 128] [--size 1024] [--repeats 7]\n";
      return 2;
    }
    if (flag == "--hidden") {
      hidden = argv[i + 1];
    } else {
      *integer->second = std::atoi(argv[i + 1]);
      if (*integer->second <= 0) {
        std::cerr << "sgemm_rate: " << flag << " wants a positive integer\n";
        return 2;
      }
    }
  }

  std::vector<int> widths = parse_widths(hidden);
  widths.insert(widths.begin(), inputs);
  widths.push_back(outputs);
  std::vector<Product> products;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const std::string id = std::to_string(l);
    products.push_back({"forward" + id, Form::kForward, widths[l + 1], widths[l]});
    products.push_back({"weight_grad" + id, Form::kWeightGrad, widths[l + 1], widths[l]});
    // The first layer's input gradient is never formed.
    if (l > 0) products.push_back({"input_grad" + id, Form::kInputGrad, widths[l + 1], widths[l]});
  }

  const Timing square = time_square(size, repeats);
  std::cout << "product=square m=" << size << " k=" << size << " n=" << size
            << " gflops=" << square.flop / square.seconds / 1e9 << "\n";
  double step_seconds = 0, step_flop = 0;
  for (const Product& p : products) {
    const Timing t = time_product(p, batch, repeats);
    step_seconds += t.seconds;
    step_flop += t.flop;
    std::cout << "product=" << p.name << " o=" << p.outputs << " i=" << p.inputs << " n=" << batch
              << " ms=" << t.seconds * 1e3 << " gflops=" << t.flop / t.seconds / 1e9 << "\n";
  }
  std::cout << "sgemm_gflops=" << square.flop / square.seconds / 1e9
            << " step_gemm_ms=" << step_seconds * 1e3
            << " step_gemm_gflops=" << step_flop / step_seconds / 1e9 << "\n";
  return 0;
}
