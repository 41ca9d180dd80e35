#include <iostream>

#include "harness/cli/commands.h"
#include "harness/experiments/export_model.h"

namespace chimera {

static void register_export(CLI::App& app) {
  struct Args {
    ExportArgs exp;
    bool json = false;
  };
  static Args a;
  a = Args{};
  auto* cmd = app.add_subcommand(
      "export", "write a checkpoint as a deployable model file with packed ternary weights");
  cmd->add_option("--checkpoint", a.exp.checkpoint, "a checkpoint or a state dict in safetensors")
      ->required();
  cmd->add_option("--format", a.exp.format,
                  "packing of the ternary layers: i2 (2 bits, what the kernels read), tq1 "
                  "(1.6 bits) or entropy (rANS, close to the effective bits); for a language "
                  "model also gguf-tq2_0, gguf-tq1_0 or gguf-f32 (a GGUF file for llama.cpp)")
      ->capture_default_str();
  cmd->add_option("--out", a.exp.out, "the model file to write")->required();
  cmd->add_option("--mode", a.exp.mode, "model mode when the checkpoint does not record it");
  cmd->add_flag("--json", a.json, "print one JSON object");
  cmd->callback([] {
    const Json r = export_checkpoint(a.exp);
    if (a.json)
      std::cout << r.dump() << std::endl;
    else if (r.contains("tensors"))
      std::cout << "[export] wrote " << r["out"].get<std::string>() << ": GGUF ("
                << r["format"].get<std::string>() << "), " << r["tensors"].dump() << " tensors, "
                << r["bytes"].dump() << " bytes" << std::endl;
    else
      std::cout << "[export] wrote " << r["out"].get<std::string>() << ": "
                << r["ternary_layers"].dump() << " ternary layers packed as "
                << r["format"].get<std::string>() << ", " << r["float_tensors"].dump()
                << " float32 tensors, " << r["bytes"].dump() << " bytes" << std::endl;
  });
}

static const CommandRegistration registration("export", register_export);

}  // namespace chimera
