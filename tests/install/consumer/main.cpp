// Uses the installed engine: a golden optimizer trajectory (Chimera21, 25 steps) read with the
// engine's safetensors reader, and a BitLinear forward on the integer kernels. Prints
// "consumer ok" only when the trajectory matches; exits 1 otherwise.
#include <cmath>
#include <cstring>
#include <iostream>

#include "engine/io/safetensors.h"
#include "model/layers/bit_linear.h"
#include "train/optim/chimera21.h"

using namespace chimera;

static Tensor row(const Tensor& stacked, int64_t i) {
  Tensor out(Shape(stacked.shape().begin() + 1, stacked.shape().end()));
  std::memcpy(out.raw(), stacked.f32() + i * out.numel(), out.nbytes());
  return out;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer GOLDEN_DIR\n";
    return 2;
  }
  const Safetensors g = read_safetensors(std::string(argv[1]) + "/optimizer_chimera21.safetensors");
  Var a(g.at("p0.a").clone(), true), b(g.at("p0.b").clone(), true);
  Chimera21Options options;
  options.lr = 0.01;  // the golden case's setting (its metadata)
  Chimera21 opt({a, b}, options);
  double worst = 0;
  for (int64_t s = 0; s < 25; ++s) {
    a.grad() = row(g.at("grads.a"), s);
    b.grad() = row(g.at("grads.b"), s);
    opt.step();
    const Tensor want = row(g.at("expected.a"), s);
    for (int64_t i = 0; i < want.numel(); ++i)
      worst = std::max(worst, std::fabs(double(a.value().f32()[i]) - want.f32()[i]) /
                                  (1e-6 + 1e-5 * std::fabs(want.f32()[i])));
  }
  Rng rng(1);
  BitLinear layer(8, 4, true, BitLayerOptions{}, rng);
  const Var y = layer.forward(Var(Tensor::full({2, 8}, 0.5f)));
  std::cout << "trajectory " << (worst <= 1 ? "matches" : "differs") << ", y " << shape_str(y.shape())
            << "\n";
  if (worst > 1 || y.shape() != Shape{2, 4}) return 1;
  std::cout << "consumer ok\n";
  return 0;
}
