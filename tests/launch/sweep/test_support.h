// Shared fixtures of the sweep tests: a tiny three-class CSV problem that trains in well under
// a second, spec files, and running the real sweep binary with its exit code and output.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace mlp::sweep_test {

using test::Run;
using test::slurp;

inline void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

inline std::string fresh_dir(const std::string& name) {
  return mlp::test::fresh_test_dir("sweep", name);
}

// n rows "class,x0..x3" of three overlapping blobs.
inline std::string write_blobs(const std::string& dir, const std::string& name, int n) {
  return test::write_rows(dir + "/" + name, test::blob_rows(n, 4, 0));
}

// The base config of a small classification trial on CSV files.
inline std::string tiny_base(const std::string& train_csv, const std::string& test_csv,
                             int epochs) {
  return "base {\n"
         "  data { train_csv: \"" +
         train_csv + "\" test_csv: \"" + test_csv +
         "\" val_fraction: 0.2 }\n"
         "  model { hidden: \"6\" }\n"
         "  epochs: " +
         std::to_string(epochs) +
         "\n"
         "  batch_size: 16\n"
         // One named matrix-product backend: separate runs of a trial then give the same bits,
         // where under auto a loaded machine may time another backend fastest.
         "  gemm: \"eigen\"\n"
         "}\n";
}

// Open MPI refuses to start as root without these; set for the tests only, never by the sweep.
inline void allow_mpirun_as_root() {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
}

// Runs the sweep binary with args, waiting for it.
inline Run run_sweep_binary(const std::string& args, const std::string& log_dir) {
  allow_mpirun_as_root();
  return test::run_binary(MLP_SWEEP_PATH, args, log_dir + "/sweep");
}

}  // namespace mlp::sweep_test
