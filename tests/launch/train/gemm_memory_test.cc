// --gemm auto's memory file: what is written reads back as the same choice and rates; no file is
// no choice and no complaint; a file of another host, CPU, shape or build, one whose backend is
// not the fastest of its rates or lacks a rate, a file that does not parse and one too large are
// each refused with a reason naming the file.
#include "launch/train/gemm_memory.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/launch/process_run.h"

namespace mlp {
namespace {

std::vector<GemmTiming> made_up_timings() {
  std::vector<GemmTiming> timings;
  for (GemmBackend b : available_gemm_backends()) {
    const double rate = b == GemmBackend::kEigen ? 100 : 20 + static_cast<double>(timings.size());
    timings.push_back({b, 1.0 / rate, rate});  // eigen the fastest
  }
  return timings;
}

const GemmMemoryKey& a_key() {
  static const GemmMemoryKey key = gemm_memory_key(step_products({20, 16, 3}, 8));
  return key;
}

// Recalls path for a_key(): "recalled", or why it was not ("" when there is no file).
std::string refusal(const std::string& path) {
  GemmBackend backend;
  std::vector<GemmTiming> timings;
  std::string why;
  if (recall_gemm_choice(path, a_key(), &backend, &timings, &why)) return "recalled";
  return why;
}

void replace_line(const std::string& path, const std::string& starting, const std::string& by) {
  std::string text = test::slurp(path), out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out += (line.rfind(starting, 0) == 0 ? by : line) + "\n";
  std::ofstream(path) << out;
}

}  // namespace

TEST(GemmMemory, WhatIsRememberedIsRecalled) {
  const std::string path = gemm_memory_path(test::fresh_test_dir("gemm_memory"), a_key());
  remember_gemm_choice(path, a_key(), made_up_timings());
  GemmBackend backend = GemmBackend::kBlas;
  std::vector<GemmTiming> timings;
  std::string why = "unset";
  ASSERT_TRUE(recall_gemm_choice(path, a_key(), &backend, &timings, &why)) << why;
  EXPECT_EQ(why, "");
  EXPECT_EQ(backend, GemmBackend::kEigen);
  ASSERT_EQ(timings.size(), made_up_timings().size());
  for (size_t i = 0; i < timings.size(); ++i) {
    EXPECT_EQ(timings[i].backend, made_up_timings()[i].backend);
    EXPECT_EQ(timings[i].gflops, made_up_timings()[i].gflops);
  }
}

TEST(GemmMemory, NoFileIsNoChoiceAndNoComplaint) {
  EXPECT_EQ(refusal(test::fresh_test_dir("gemm_memory") + "/gemm-choice-0.txt"), "");
  EXPECT_EQ(refusal(test::fresh_test_dir("gemm_memory", "missing") + "/no/such/folder/x.txt"), "");
}

TEST(GemmMemory, TheKeyIsTheHostTheCpuTheShapesAndTheBuild) {
  GemmMemoryKey other = a_key();
  other.products = gemm_memory_key(step_products({20, 16, 3}, 9)).products;
  EXPECT_NE(other.products, a_key().products);
  EXPECT_NE(gemm_memory_path("d", other), gemm_memory_path("d", a_key()));
  EXPECT_EQ(a_key().cpu_flags.size(), 16u);
  EXPECT_NE(a_key().backends.find("eigen"), std::string::npos);
}

TEST(GemmMemory, EveryFieldIsCheckedAndAFileThatFailsIsRefusedWithAReason) {
  const std::string dir = test::fresh_test_dir("gemm_memory");
  const std::string path = gemm_memory_path(dir, a_key());
  const struct {
    const char* field;
    const char* value;
    const char* reason;
  } cases[] = {
      {"format_version:", "format_version: 2", "format version 2 is not 1"},
      {"host:", "host: \"elsewhere\"", "it was measured on host elsewhere"},
      {"cpu:", "cpu: \"Other CPU\"", "it was measured on another CPU (Other CPU)"},
      {"cpu_flags:", "cpu_flags: \"0000000000000000\"", "it was measured on another CPU"},
      {"products:", "products: \"1x1x1\"", "it was measured on other product shapes"},
      {"backends:", "backends: \"eigen\"", "it was measured by a build with the backends eigen"},
      {"backend:", "backend: \"unheard\"", "its backend unheard is not the fastest of its rates"},
      {"  eigen:", "  eigen: -3", "it holds no rate for eigen"},
      {"  eigen:", "  eigen: nan", "it holds no rate for eigen"},
      {"unix_time:", "", "it has no time of measurement"},
      {"host:", "host: 12", ":2:7: Expected string"},
      {"host:", "colour: \"red\"", "Message type \"mlp.pb.GemmChoice\" has no field named"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value);
    remember_gemm_choice(path, a_key(), made_up_timings());
    ASSERT_EQ(refusal(path), "recalled");
    replace_line(path, c.field, c.value);
    const std::string why = refusal(path);
    EXPECT_EQ(why.rfind(path, 0), 0u) << why;
    EXPECT_NE(why.find(c.reason), std::string::npos) << why;
  }
  std::ofstream(path) << std::string(100 * 1024, '#');
  EXPECT_NE(refusal(path).find("too large"), std::string::npos);
}

}  // namespace mlp
