// Package full is attnlab's baseline attention component: exact softmax
// attention (Vaswani et al. 2017, "Attention Is All You Need", eq. 1),
//
//	O = softmax(scale · Q·Kᵀ + M) · V
//
// computed by kernels/attention.FullForward and FullBackward, with the
// causal mask of decoder self-attention (GPT-2, nanoGPT) and an optional
// key-padding mask. It materialises the T×T probabilities and caches them
// for the backward pass, so time and memory grow with T²: this is the
// reference every efficient variant is compared with.
//
// New returns the component; it has no trainable parameters (GradNormSq is
// 0 and Step does nothing). Its one configuration parameter, scale,
// multiplies Q·Kᵀ; the default 0 means 1/√head_dim.
//
// # Buffers and shapes
//
// Init allocates, per attention layer, the output, the probability cache
// (attention.CacheShape) and the gradients dq, dk and dv, each sized for
// the largest call the spec allows: (Batch, Heads, MaxSeq, HeadDim), dk
// and dv with KVHeads heads, and for the cache
// (Batch, Heads, ⌈MaxSeq/nr⌉, MaxSeq, nr). A call with a
// smaller batch or shorter sequence (an evaluation batch, a short last
// batch, a curriculum) uses a prefix of those buffers under a resized
// tensor header, so Forward and Backward never allocate once Init has run.
//
// Forward keeps q, k and v (the caller guarantees they stay unchanged until
// the Backward of that layer) and copies the key mask; Backward reads them
// with the cached probabilities, zeroes its dq, dk and dv and accumulates
// the gradients into them. The tensors returned by Forward (Backward) are
// the layer's own buffers, valid until the next Forward (Backward) of the
// same layer, as the sdk contract says.
//
// # Grouped key/value heads
//
// With spec.KVHeads < Heads (grouped-query attention, Ainslie et al. 2023,
// §2; multi-query attention, Shazeer 2019, when KVHeads = 1), k and v are
// (B, KVHeads, Tk, D) and query head h reads key/value head
// h / (Heads/KVHeads): kernels/attention.FullGroupedForward and
// FullGroupedBackward, which repeat k and v in a reused kernel scratch and
// sum dk and dv over each group. KVHeads must divide Heads. With KVHeads =
// Heads the component calls FullForward and FullBackward as before.
//
// # Versions
//
// 1.1.0 computes the softmax in base 2, log2(e) folded into the query
// scale (kernels/vmath.Exp2SubCols): a quarter cheaper than exp, with
// results that differ from 1.0.0's in the last bits.
package full
