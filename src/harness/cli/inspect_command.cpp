#include <iostream>

#include "harness/cli/commands.h"
#include "harness/experiments/inspect_model.h"
#include "harness/experiments/lm_inference.h"

namespace chimera {

static void register_inspect(CLI::App& app) {
  struct Args {
    std::string model;
    bool json = false;
  };
  static Args a;
  a = Args{};
  auto* cmd = app.add_subcommand(
      "inspect", "show a model file's tensors, effective and actual bits, sizes and compression");
  cmd->add_option("model", a.model, "a model file from `chimera export`, or a GGUF file")
      ->required();
  cmd->add_flag("--json", a.json, "print one JSON object");
  cmd->callback([] {
    const bool gguf = is_gguf_file(a.model);
    const Json r = gguf ? inspect_gguf(a.model) : inspect_model(a.model);
    if (a.json)
      std::cout << r.dump() << std::endl;
    else
      std::cout << (gguf ? format_inspect_gguf(r) : format_inspect(r));
  });
}

static const CommandRegistration registration("inspect", register_inspect);

}  // namespace chimera
