#include <gtest/gtest.h>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace chimera {

TEST(Tensor, ZeroFilledAlignedAndShaped) {
  Tensor t({3, 5});
  EXPECT_EQ(t.numel(), 15);
  EXPECT_EQ(t.dim(), 2);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  for (int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(t.f32()[i], 0.0f);
}

TEST(Tensor, ReshapeSharesStorageAndCloneCopies) {
  Tensor t = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor r = t.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  r.f32()[0] = 9;
  EXPECT_EQ(t.f32()[0], 9);
  Tensor c = t.clone();
  c.f32()[1] = 7;
  EXPECT_EQ(t.f32()[1], 2);
  EXPECT_THROW(t.reshape({4, 2}), Error);
}

TEST(Tensor, DtypeChecksAndConversion) {
  Tensor t = Tensor::from_vector({3}, {-1.5f, 0.0f, 2.0f});
  EXPECT_THROW(t.data<int8_t>(), Error);
  Tensor i = t.to(DType::i64);
  EXPECT_EQ(i.data<int64_t>()[0], -1);
  EXPECT_EQ(i.data<int64_t>()[2], 2);
  EXPECT_DOUBLE_EQ(Tensor::scalar(2.5f).item(), 2.5);
}

TEST(Rng, SameSeedSameSequenceDifferentSeedDifferent) {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    (void)c;
  }
  Rng d(7), e(8);
  EXPECT_NE(d.next_u64(), e.next_u64());
}

TEST(Rng, DistributionsHaveTheRightMoments) {
  Rng r(123);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    const double z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(su / n, 0.5, 0.005);
  EXPECT_NEAR(sn / n, 0.0, 0.01);
  EXPECT_NEAR(sn2 / n, 1.0, 0.01);
}

TEST(Rng, PermutationIsAPermutation) {
  Rng r(5);
  auto p = r.permutation(1000);
  std::vector<int> seen(1000, 0);
  for (int64_t v : p) seen[v]++;
  for (int s : seen) EXPECT_EQ(s, 1);
  Rng r2(5);
  EXPECT_EQ(p, r2.permutation(1000));
}

}  // namespace chimera
