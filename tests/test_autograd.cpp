#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/ops/ops.h"

namespace chimera {
namespace {

TEST(Autograd, IntermediatesOwnedOnlyByTheGraphSurviveBackward) {
  // Each intermediate here is held only by the op that consumes it; backward releases closures
  // as it goes and must keep the inputs alive until their turn.
  Var w(Tensor::from_vector({3}, {1, 2, 3}), true);
  Var loss = sum(mul(scale(add_scalar(w, 1.0), 2.0), scale(w, 3.0)));  // sum(6 (w+1) w)
  backward(loss);
  // d/dw 6 (w^2 + w) = 12 w + 6
  EXPECT_FLOAT_EQ(w.grad().f32()[0], 18.0f);
  EXPECT_FLOAT_EQ(w.grad().f32()[1], 30.0f);
  EXPECT_FLOAT_EQ(w.grad().f32()[2], 42.0f);
}

TEST(Autograd, LeafGradientsAccumulateAcrossBackwardPassesUntilCleared) {
  Var w(Tensor::from_vector({2}, {1, -1}), true);
  backward(sum(scale(w, 2.0)));
  backward(sum(scale(w, 3.0)));
  EXPECT_FLOAT_EQ(w.grad().f32()[0], 5.0f);
  w.clear_grad();
  EXPECT_FALSE(w.has_grad());
}

TEST(Autograd, DiamondSumsBothPaths) {
  Var x(Tensor::from_vector({1}, {2}), true);
  Var y = mul(x, x);                 // used twice below
  backward(sum(add(y, scale(y, 4))));  // 5 x^2 -> 10 x
  EXPECT_FLOAT_EQ(x.grad().f32()[0], 20.0f);
}

TEST(Autograd, ConstantsAndNoGradRecordNothing) {
  Var c(Tensor::from_vector({2}, {1, 2}));
  EXPECT_FALSE(add(c, c).requires_grad());
  Var w(Tensor::from_vector({2}, {1, 2}), true);
  {
    NoGradGuard guard;
    Var y = mul(w, w);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.node()->op, std::string("leaf"));
  }
  EXPECT_TRUE(mul(w, w).requires_grad());
  EXPECT_THROW(backward(sum(c)), Error);
  EXPECT_THROW(backward(mul(w, w)), Error);  // not one element, no seed
}

}  // namespace
}  // namespace chimera
