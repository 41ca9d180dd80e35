// Each subcommand registers its flags and its callback here.
#pragma once

#include <CLI/CLI.hpp>

namespace chimera {

void register_commands(CLI::App& app);

// --threads N (default: all cores), shared by every subcommand that computes.
void add_threads_option(CLI::App& cmd, int& threads);
void apply_threads(int threads);

void register_smoke(CLI::App& app);

}  // namespace chimera
