// Writes synthetic_data.h's rows to stdout, for the shell tests:
//   synthetic_csv blobs|rules|noisy_rules ROWS FEATURES SALT
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/support/synthetic_data.h"

int main(int argc, char** argv) {
  const std::string kind = argc == 5 ? argv[1] : "";
  if (kind != "blobs" && kind != "rules" && kind != "noisy_rules") {
    std::fprintf(stderr, "usage: synthetic_csv blobs|rules|noisy_rules ROWS FEATURES SALT\n");
    return 2;
  }
  const int rows = std::atoi(argv[2]), features = std::atoi(argv[3]);
  const auto salt = static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10));
  const std::vector<std::string> lines =
      kind == "blobs" ? mlp::test::blob_rows(rows, features, salt)
                      : mlp::test::rule_rows(rows, features, salt, kind == "noisy_rules");
  for (const std::string& line : lines) std::cout << line << "\n";
  return 0;
}
