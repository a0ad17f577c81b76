// The subcommand table and the flag parsing they share; see subcommands.h.
#include "launch/tools/subcommands.h"

#include <iostream>

#include "core/errors.h"

namespace mlp {

namespace po = boost::program_options;

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"evaluate", evaluate_command,
       "loss, accuracy, per-class precision/recall/F1 and confusion of a model on labelled data"},
      {"predict", predict_command,
       "class probabilities, outputs or hidden activations of a model for a CSV or IDX input"},
      {"export", export_command, "write a model as ONNX"},
      {"inspect", inspect_command,
       "verify a checkpoint or model file, describe it, write its weights as CSV"},
  };
  return table;
}

std::string subcommands_text() {
  std::string text = "subcommands (trainer NAME --help for their flags):\n";
  for (const Subcommand& s : subcommands())
    text += "  " + std::string(s.name) + std::string(10 - std::string(s.name).size(), ' ') +
            s.summary + "\n";
  return text;
}

bool parse_subcommand_flags(int argc, char** argv, const std::string& usage,
                            po::options_description& options, po::variables_map* vm,
                            const po::positional_options_description& positional) {
  const std::string name = std::string("trainer ") + argv[1];
  options.add_options()("help,h", "print this help and exit");
  try {
    po::store(
        po::command_line_parser(argc - 1, argv + 1).options(options).positional(positional).run(),
        *vm);
    if (vm->count("help")) {
      std::cout << "usage: " << usage << "\n\n" << options << "\n";
      return false;
    }
    po::notify(*vm);
  } catch (const po::error& e) {
    throw UsageError(name + ": " + e.what() + " (see " + name + " --help)");
  }
  return true;
}

}  // namespace mlp
