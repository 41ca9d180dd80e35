// Float convolution on oneDNN. The primitives want blocked layouts (nChw16c and friends) for
// their fast JIT kernels, so our NCHW tensors are reordered in and out around each call: on the
// ResNet-20 shapes that is 2-3x faster than the plain-layout (im2col + GEMM) kernels even with
// the reorders counted. Primitives and reorders are built once per geometry and thread count.
#include "engine/kernels/conv2d_f32.h"

#include <algorithm>
#include <dnnl.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <unordered_map>

#include "engine/error.h"
#include "engine/kernels/elementwise_f32.h"
#include "engine/tensor.h"
#include "engine/threads.h"

namespace chimera {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// The longest float sum a weight gradient may take: chunks of samples are sized to it.
constexpr int64_t kSumPixels = 2048;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// One stream per thread: the weight gradient runs primitives from several threads at once.
dnnl::stream& cpu_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

// Every primitive here takes its scratchpad from the caller (a temporary per call), so one
// primitive may run on several threads at once: with the library's own scratchpad (one per
// primitive in Debian's build) it could not.
dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// A oneDNN memory and, for a temporary, the tensor storage behind it: taken from the engine's
// allocator, which reuses layer-sized blocks (oneDNN's own allocation would page-fault them in
// on every call).
struct Buffer {
  memory mem;
  Tensor storage;
};

Buffer temporary(const memory::desc& d) {
  Tensor t = Tensor::empty({static_cast<int64_t>(d.get_size())}, DType::i8);
  return {memory(d, cpu_engine(), t.raw()), t};
}

// One operand as the caller stores it (`user`) and as the primitive wants it, with the reorder
// between the two when they differ.
// Runs a primitive with a scratchpad of the size its descriptor asks for.
void run(const dnnl::primitive& prim, const memory::desc& scratchpad,
         std::unordered_map<int, memory> args) {
  Buffer pad;
  if (scratchpad.get_size() > 0) {
    pad = temporary(scratchpad);
    args.insert({DNNL_ARG_SCRATCHPAD, pad.mem});
  }
  prim.execute(cpu_stream(), args);
}

// One operand as the caller stores it (`user`) and as the primitive wants it, with the reorder
// between the two when they differ.
struct Operand {
  memory::desc user, conv, reorder_scratchpad;
  std::optional<dnnl::reorder> reorder;

  Operand(const memory::desc& user_desc, const memory::desc& conv_desc, bool output)
      : user(user_desc), conv(conv_desc) {
    if (user == conv) return;
    const dnnl::reorder::primitive_desc pd =
        output ? dnnl::reorder::primitive_desc(cpu_engine(), conv, cpu_engine(), user,
                                               user_scratchpad())
               : dnnl::reorder::primitive_desc(cpu_engine(), user, cpu_engine(), conv,
                                               user_scratchpad());
    reorder = dnnl::reorder(pd);
    reorder_scratchpad = pd.scratchpad_desc();
  }

  // An input in the primitive's layout: the caller's data itself, or a reordered copy.
  Buffer input(const void* data) const {
    memory m(user, cpu_engine(), const_cast<void*>(data));
    if (!reorder) return {m, Tensor()};
    Buffer copy = temporary(conv);
    run(*reorder, reorder_scratchpad, {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, copy.mem}});
    return copy;
  }
  // Where the primitive writes an output: the caller's buffer, or a temporary to reorder back.
  Buffer output(void* data) const {
    return reorder ? temporary(conv) : Buffer{memory(user, cpu_engine(), data), Tensor()};
  }
  void finish_output(const Buffer& written, void* data) const {
    if (!reorder) return;
    run(*reorder, reorder_scratchpad,
        {{DNNL_ARG_FROM, written.mem}, {DNNL_ARG_TO, memory(user, cpu_engine(), data)}});
  }
};

struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  Operand src, wei, dst;
};
struct BackwardData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  Operand diff_dst, wei, diff_src;
};
struct BackwardWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  Operand src, diff_dst, diff_wei;
};

// The descriptors of one convolution: shapes in the caller's layouts (NCHW activations, OIHW
// weights, GOIHW with groups), `any` layouts for the primitives to choose.
struct ConvDescs {
  memory::desc src, wei, dst, src_any, wei_any, dst_any;
  memory::dims strides, dilates, pad_l, pad_r;
};

ConvDescs conv_descs(const ConvGeometry& g) {
  const auto f32 = memory::data_type::f32;
  const memory::dims src{g.n, g.c_in, g.h, g.w}, dst{g.n, g.c_out, g.out_h, g.out_w};
  const memory::dims wei = g.p.groups == 1
                               ? memory::dims{g.c_out, g.c_in, g.kh, g.kw}
                               : memory::dims{g.p.groups, g.cout_g(), g.cin_g(), g.kh, g.kw};
  const Tag wei_tag = g.p.groups == 1 ? Tag::oihw : Tag::goihw;
  // Symmetric padding, as torch pads: oneDNN's output-size formula then floors like ours.
  return {memory::desc(src, f32, Tag::nchw),
          memory::desc(wei, f32, wei_tag),
          memory::desc(dst, f32, Tag::nchw),
          memory::desc(src, f32, Tag::any),
          memory::desc(wei, f32, Tag::any),
          memory::desc(dst, f32, Tag::any),
          {g.p.stride_h, g.p.stride_w},
          {g.p.dil_h - 1, g.p.dil_w - 1},
          {g.p.pad_h, g.p.pad_w},
          {g.p.pad_h, g.p.pad_w}};
}

// The primitives of one geometry at one thread count (oneDNN sizes its work split when a
// primitive is created, so a primitive made for one count is never run under another). The
// backward ones are made on first use: evaluation never needs them.
class ConvPlan {
 public:
  explicit ConvPlan(const ConvGeometry& g) : d_(conv_descs(g)), out_pixels_(g.out_pixels()) {
    const auto fd = dnnl::convolution_forward::desc(
        dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, d_.src_any,
        d_.wei_any, d_.dst_any, d_.strides, d_.dilates, d_.pad_l, d_.pad_r);
    fwd_pd_ = dnnl::convolution_forward::primitive_desc(fd, user_scratchpad(), cpu_engine());
  }

  const Forward& forward() {
    std::call_once(fwd_once_, [this] {
      fwd_.emplace(Forward{fwd_pd_, dnnl::convolution_forward(fwd_pd_),
                           Operand(d_.src, fwd_pd_.src_desc(), false),
                           Operand(d_.wei, fwd_pd_.weights_desc(), false),
                           Operand(d_.dst, fwd_pd_.dst_desc(), true)});
    });
    return *fwd_;
  }

  const BackwardData& backward_data() {
    std::call_once(data_once_, [this] {
      const auto bd = dnnl::convolution_backward_data::desc(
          dnnl::algorithm::convolution_direct, d_.src_any, d_.wei_any, d_.dst_any, d_.strides,
          d_.dilates, d_.pad_l, d_.pad_r);
      const dnnl::convolution_backward_data::primitive_desc pd(bd, user_scratchpad(),
                                                               cpu_engine(), fwd_pd_);
      data_.emplace(BackwardData{
          pd, dnnl::convolution_backward_data(pd), Operand(d_.dst, pd.diff_dst_desc(), false),
          Operand(d_.wei, pd.weights_desc(), false), Operand(d_.src, pd.diff_src_desc(), true)});
    });
    return *data_;
  }

  const BackwardWeights& backward_weights() {
    std::call_once(weights_once_, [this] {
      // The JIT kernels sum a weight's gradient over all pixels of a sample in one float
      // accumulator; when that is a long sum, the GEMM-based primitive on plain layouts (which
      // blocks the sum) keeps the digits.
      const bool plain = out_pixels_ > kSumPixels;
      const auto bw = dnnl::convolution_backward_weights::desc(
          dnnl::algorithm::convolution_direct, plain ? d_.src : d_.src_any,
          plain ? d_.wei : d_.wei_any, plain ? d_.dst : d_.dst_any, d_.strides, d_.dilates,
          d_.pad_l, d_.pad_r);
      const dnnl::convolution_backward_weights::primitive_desc pd(bw, user_scratchpad(),
                                                                  cpu_engine(), fwd_pd_);
      weights_.emplace(BackwardWeights{pd, dnnl::convolution_backward_weights(pd),
                                       Operand(d_.src, pd.src_desc(), false),
                                       Operand(d_.dst, pd.diff_dst_desc(), false),
                                       Operand(d_.wei, pd.diff_weights_desc(), true)});
    });
    return *weights_;
  }

 private:
  ConvDescs d_;
  int64_t out_pixels_;
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  std::once_flag fwd_once_, data_once_, weights_once_;
  std::optional<Forward> fwd_;
  std::optional<BackwardData> data_;
  std::optional<BackwardWeights> weights_;
};

using PlanKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int>;

ConvPlan& plan_for(const ConvGeometry& g, int threads = num_threads()) {
  static std::mutex mutex;
  static std::map<PlanKey, std::unique_ptr<ConvPlan>> plans;
  const PlanKey key{g.n,       g.c_in,    g.h,          g.w,          g.c_out,
                    g.kh,      g.kw,      g.p.stride_h, g.p.stride_w, g.p.pad_h,
                    g.p.pad_w, g.p.dil_h, g.p.dil_w,    g.p.groups,   threads};
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<ConvPlan>& plan = plans[key];
  if (!plan) {
    try {
      plan = std::make_unique<ConvPlan>(g);
    } catch (const dnnl::error& e) {
      plans.erase(key);
      CHIMERA_FAIL("conv2d: oneDNN has no convolution for input [", g.n, ", ", g.c_in, ", ", g.h,
                   ", ", g.w, "] and weight [", g.c_out, ", ", g.cin_g(), ", ", g.kh, ", ", g.kw,
                   "]: ", e.what());
    }
  }
  return *plan;
}

// Whether memory laid out as `whole` (all samples) holds a run of samples in `part`'s layout
// starting at any sample: the same blocking, samples outermost, so a run is a contiguous slice.
bool slices_as(const memory::desc& whole, const memory::desc& part) {
  const dnnl_memory_desc_t &a = whole.data, &b = part.data;
  if (a.format_kind != dnnl_blocked || b.format_kind != dnnl_blocked || a.ndims != b.ndims ||
      a.data_type != b.data_type || a.offset0 != 0 || b.offset0 != 0)
    return false;
  const dnnl_blocking_desc_t &x = a.format_desc.blocking, &y = b.format_desc.blocking;
  if (x.inner_nblks != y.inner_nblks) return false;
  for (int i = 0; i < x.inner_nblks; ++i)
    if (x.inner_blks[i] != y.inner_blks[i] || x.inner_idxs[i] != y.inner_idxs[i] ||
        x.inner_idxs[i] == 0)
      return false;
  for (int d = 0; d < a.ndims; ++d)
    if (x.strides[d] != y.strides[d] || (d > 0 && a.padded_dims[d] != b.padded_dims[d]))
      return false;
  return x.strides[0] * a.dims[0] *
             static_cast<dnnl_dim_t>(memory::data_type_size(whole.data_type())) ==
         static_cast<dnnl_dim_t>(whole.get_size());
}

// Samples [s0, s0 + part.dims[0]) of `whole` as memory in `part`'s layout (slices_as holds).
Buffer slice(const Buffer& whole, const memory::desc& part, int64_t s0) {
  char* base = static_cast<char*>(whole.mem.get_data_handle());
  const int64_t sample_bytes = whole.mem.get_desc().data.format_desc.blocking.strides[0] *
                               static_cast<int64_t>(memory::data_type_size(part.data_type()));
  return {memory(part, cpu_engine(), base + s0 * sample_bytes), whole.storage};
}

// The weight gradient of samples [s0, s0 + b's batch) into `target` (the caller's OIHW layout).
// `x_f32` holds the float copy of an int8 chunk; `split` lets that conversion use the threads
// (false inside a parallel loop).
template <class X>
void chunk_weight_gradient(const BackwardWeights& b, const ConvGeometry& g, const X* x,
                           const float* dy, const std::optional<Buffer>& dy_whole, int64_t s0,
                           int64_t n, Tensor& x_f32, bool split, float* target) {
  const int64_t in_size = g.c_in * g.h * g.w, out_size = g.c_out * g.out_pixels();
  const float* xs;
  if constexpr (std::is_same_v<X, int8_t>) {
    // oneDNN's int8-to-float reorders are its slow generic ones: convert the chunk here (it
    // stays in cache for the fast float reorder).
    if (!x_f32.defined() || x_f32.numel() < n * in_size) x_f32 = Tensor::empty({n * in_size});
    float* xf = x_f32.f32();
    const int8_t* xi = x + s0 * in_size;
    if (split)
      for_blocks(n * in_size, [&](int64_t b0, int64_t e) { i8_to_f32(e - b0, xi + b0, xf + b0); });
    else
      i8_to_f32(n * in_size, xi, xf);
    xs = xf;
  } else {
    xs = x + s0 * in_size;
  }
  const Buffer src = b.src.input(xs);
  const Buffer diff_dst = dy_whole && slices_as(dy_whole->mem.get_desc(), b.diff_dst.conv)
                              ? slice(*dy_whole, b.diff_dst.conv, s0)
                              : b.diff_dst.input(dy + s0 * out_size);
  const Buffer diff_wei = b.diff_wei.output(target);
  run(b.prim, b.pd.scratchpad_desc(),
      {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DIFF_DST, diff_dst.mem},
       {DNNL_ARG_DIFF_WEIGHTS, diff_wei.mem}});
  b.diff_wei.finish_output(diff_wei, target);
  cpu_stream().wait();
}

// dx (when asked for) from the whole batch, keeping dy in the primitive's layout for dw.
//
// dw: oneDNN's JIT kernels sum a weight gradient in one float accumulator per weight over every
// sample and pixel they are given; over a large batch that loses digits (3e-5 relative over
// 9 x 64 x 64 pixels). Chunks of samples with at most kSumPixels output pixels (or one sample)
// keep every such sum short, and their gradients are added in chunk order. When the chunks
// divide evenly over the threads (or are many), each thread runs whole chunks on one-thread
// primitives: a chunk of two 32x32 samples is too small for oneDNN to split well (weight
// gradients scaled 1.7x on 2 threads against 1.9x for the other convolutions), and the result
// is then the same as on one thread. Otherwise each chunk uses all threads. Either way the
// result depends on nothing but the thread count. Each chunk reads its dy from the reordered
// batch when the layouts allow, else reorders its own slice.
template <class X>
void backward(const ConvGeometry& g, const X* x, const float* w, const float* dy, float* dx,
              float* dw) {
  const int64_t w_size = g.c_out * g.k_size();
  if (g.n == 0) {
    if (dw) std::fill(dw, dw + w_size, 0.0f);
    return;
  }
  std::optional<Buffer> dy_whole;
  if (dx) {
    const BackwardData& b = plan_for(g).backward_data();
    const Buffer diff_dst = b.diff_dst.input(dy), wei = b.wei.input(w),
                 diff_src = b.diff_src.output(dx);
    run(b.prim, b.pd.scratchpad_desc(),
        {{DNNL_ARG_DIFF_DST, diff_dst.mem}, {DNNL_ARG_WEIGHTS, wei.mem},
         {DNNL_ARG_DIFF_SRC, diff_src.mem}});
    b.diff_src.finish_output(diff_src, dx);
    cpu_stream().wait();
    dy_whole = diff_dst;
  }
  if (!dw) return;
  const int64_t chunk =
      std::clamp<int64_t>(kSumPixels / g.out_pixels(), 1, std::max<int64_t>(g.n, 1));
  const int64_t chunks = (g.n + chunk - 1) / chunk;
  const int threads = num_threads();
  const bool per_thread =
      threads > 1 && chunks > 1 && (chunks % threads == 0 || chunks >= 4 * threads);
  ConvGeometry g_full = g, g_tail = g;
  g_full.n = chunk;
  g_tail.n = g.n - (chunks - 1) * chunk;
  const BackwardWeights *full, *tail;
  if (per_thread) {
    OneThreadScope one;  // primitives sized for the one thread that runs each
    full = &plan_for(g_full, 1).backward_weights();
    tail = &plan_for(g_tail, 1).backward_weights();
  } else {
    full = &plan_for(g_full).backward_weights();
    tail = &plan_for(g_tail).backward_weights();
  }
  Tensor parts = chunks > 1 ? Tensor::empty({chunks, w_size}) : Tensor();
  auto run_chunk = [&](int64_t c, Tensor& x_f32) {
    const int64_t s0 = c * chunk, n = std::min(chunk, g.n - s0);
    float* target = chunks > 1 ? parts.f32() + c * w_size : dw;
    chunk_weight_gradient(n == chunk ? *full : *tail, g, x, dy, dy_whole, s0, n, x_f32,
                          !per_thread, target);
  };
  if (per_thread) {
    parallel_for(chunks, kParallelMinWork, [&](int64_t c) {
      thread_local Tensor x_f32;
      run_chunk(c, x_f32);
    });
  } else {
    Tensor x_f32;
    for (int64_t c = 0; c < chunks; ++c) run_chunk(c, x_f32);
  }
  if (chunks == 1) return;
  const float* p = parts.f32();
  for_blocks(w_size, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float sum = p[i];
      for (int64_t c = 1; c < chunks; ++c) sum += p[c * w_size + i];
      dw[i] = sum;
    }
  });
}

}  // namespace

void conv2d_forward_f32(const ConvGeometry& g, const float* x, const float* w, float* y) {
  if (g.n == 0) return;
  const Forward& f = plan_for(g).forward();
  const Buffer src = f.src.input(x), wei = f.wei.input(w), dst = f.dst.output(y);
  run(f.prim, f.pd.scratchpad_desc(),
      {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, wei.mem}, {DNNL_ARG_DST, dst.mem}});
  f.dst.finish_output(dst, y);
  cpu_stream().wait();
}

void conv2d_backward_input_f32(const ConvGeometry& g, const float* w, const float* dy, float* dx) {
  backward<float>(g, nullptr, w, dy, dx, nullptr);
}

void conv2d_backward_weight_f32(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  backward(g, x, nullptr, dy, nullptr, dw);
}

void conv2d_backward_f32(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                         float* dx, float* dw) {
  backward(g, x, w, dy, dx, dw);
}

void conv2d_backward_f32(const ConvGeometry& g, const int8_t* x, const float* w, const float* dy,
                         float* dx, float* dw) {
  backward(g, x, w, dy, dx, dw);
}

}  // namespace chimera
