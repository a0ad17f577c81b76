// The CPUs this process may run on, as a Linux cpu list ("0-3,6"). Recorded in events.jsonl so a
// slow run can be told apart from one that shared its cores with a neighbour.
#pragma once

#include <string>
#include <vector>

namespace mlp {

// Sorted, distinct CPU numbers written as ranges: {0, 1, 2, 5} -> "0-2,5"; {} -> "".
std::string format_cpu_list(const std::vector<int>& cpus);

// This process's CPU affinity mask in that form; "" when the kernel does not say.
std::string allowed_cpus();

}  // namespace mlp
