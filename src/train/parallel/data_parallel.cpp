#include "train/parallel/data_parallel.h"

#include <algorithm>
#include <cstring>

#include "engine/error.h"
#include "model/layers/batch_norm2d.h"
#include "model/layers/ternary_layer.h"

namespace chimera {

Shard shard_of(int64_t total, int rank, int size) {
  const int64_t base = total / size, extra = total % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

Tensor rows_of(const Tensor& t, const Shard& s) {
  Shape shape = t.shape();
  const int64_t row = t.numel() / std::max<int64_t>(shape[0], 1);
  shape[0] = s.size();
  Tensor out(shape, t.dtype());
  const size_t row_bytes = static_cast<size_t>(row) * dtype_size(t.dtype());
  if (out.nbytes())
    std::memcpy(out.raw(), static_cast<const char*>(t.raw()) + s.begin * row_bytes, out.nbytes());
  return out;
}

void combine_gradients(const std::vector<Var>& params, Communicator& comm, int64_t shard,
                       int64_t total) {
  int64_t n = 0;
  for (const Var& p : params) n += p.value().numel();
  std::vector<float> flat(static_cast<size_t>(n), 0.0f);
  const float weight = static_cast<float>(shard) / static_cast<float>(total);
  int64_t at = 0;
  for (const Var& p : params) {
    const int64_t k = p.value().numel();
    if (p.grad().defined()) {
      const float* g = p.grad().f32();
      for (int64_t i = 0; i < k; ++i) flat[at + i] = g[i] * weight;
    }
    at += k;
  }
  comm.sum_in_rank_order(flat.data(), n);
  // Which parameters have a gradient is the same on every rank (same model, non-empty shards).
  at = 0;
  for (const Var& p : params) {
    const int64_t k = p.value().numel();
    if (p.grad().defined())
      std::memcpy(const_cast<Var&>(p).grad().f32(), flat.data() + at,
                  static_cast<size_t>(k) * sizeof(float));
    at += k;
  }
}

namespace {

void for_each_module(Module& m, const std::function<void(Module&)>& f) {
  f(m);
  m.visit_children([&](const std::string&, Module& child) { for_each_module(child, f); });
}

}  // namespace

void sync_batch_norm(Module& model, Communicator& comm, int64_t shard, int64_t total) {
  const double share = static_cast<double>(shard) / static_cast<double>(total);
  for_each_module(model, [&](Module& m) {
    auto* bn = dynamic_cast<BatchNorm2d*>(&m);
    if (!bn) return;
    bn->state.sum_stats = [&comm](double* sums, int64_t n) { comm.sum_in_rank_order(sums, n); };
    // Each rank's gradient is of its shard's mean loss: weighted by its share of the global
    // batch, summed, and brought back to this rank's scale.
    bn->state.sum_grads = [&comm, share](double* sums, int64_t n) {
      for (int64_t i = 0; i < n; ++i) sums[i] *= share;
      comm.sum_in_rank_order(sums, n);
      for (int64_t i = 0; i < n; ++i) sums[i] /= share;
    };
  });
  for_each_module(model, [&](Module& m) {
    if (auto* t = dynamic_cast<TernaryLayer*>(&m))
      t->sync_activation_max = [&comm](float local) {
        comm.max(&local, 1);
        return local;
      };
  });
}

void broadcast_buffers(Module& model, Communicator& comm) {
  model.visit([](const std::string&, Var&) {},
              [&](const std::string&, Tensor& b) { comm.broadcast(b.raw(), b.nbytes(), 0); });
}

uint64_t weights_hash(const std::vector<Var>& params) {
  uint64_t h = 1469598103934665603ull;
  for (const Var& p : params) {
    const auto* bytes = static_cast<const unsigned char*>(p.value().raw());
    for (size_t i = 0; i < p.value().nbytes(); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  }
  return h;
}

void check_same_weights(const std::vector<Var>& params, Communicator& comm, int64_t step) {
  const std::vector<uint64_t> hashes = comm.all_gather(weights_hash(params));
  for (size_t r = 1; r < hashes.size(); ++r)
    CHIMERA_CHECK(hashes[r] == hashes[0], "data-parallel training: after step ", step,
                  " the weights of rank ", r, " differ from rank 0's (hash ", hashes[r], " vs ",
                  hashes[0], "); the ranks must run the same build, flags and thread count");
}

}  // namespace chimera
