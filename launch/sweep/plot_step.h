// The plot step of `sweep report`: a plotting script (experiments/plot_sweep.py) run on the
// sweep folder by a python3 with matplotlib, or a line saying why it was not.
#pragma once

#include <cstdio>
#include <string>

namespace mlp {

// Runs `python3 script dir` with the first python3 that imports matplotlib (the one in PATH,
// else /usr/bin/python3), its output going to the caller's stdout and stderr. Writes one line to
// `out` instead when the script is missing, no such python3 exists, or the script fails.
void run_plot_script(const std::string& script, const std::string& dir, std::FILE* out);

}  // namespace mlp
