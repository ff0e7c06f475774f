// Package longformer is attnlab's Longformer attention component (Beltagy
// et al. 2020, "Longformer: The Long-Document Transformer", §3.1):
// sliding-window attention, optionally dilated, with global tokens, by
// kernels/attention.SlidingWindowForward and SlidingWindowBackward on the
// tiled flash engine. Its cost is O(T·(window + globals)) and its memory
// linear in T.
//
// # Parameters
//
//   - window (w, default 128): a query at i sees keys j with
//     |i − j| <= δ·⌊w/2⌋, or under the causal mask 0 <= i − j <= δ·w.
//     A window that reaches past the sequence (δ·⌊w/2⌋ > T − 1, or
//     δ·w > T − 1 when causal) is rejected at Init: it would attend to
//     everything, which full or flash attention does for less.
//   - dilation (δ, default 1): only keys with i − j a multiple of δ
//     (§3.1, "dilated sliding window").
//   - global_tokens (default "0"): comma-separated positions that attend
//     to every position and that every position attends to (every earlier
//     one when causal): the classification token of §3.1 by default, ""
//     for none. Positions must lie in every layer's sequence; a shorter
//     call (an evaluation batch) drops the positions past its end.
//   - scale (default 0 = 1/√head_dim).
//
// The paper gives global attention its own projections (Q_g, K_g, V_g);
// those would belong to the architecture, and here global tokens use the
// layer's q, k and v.
//
// Capabilities: causal, key padding masks and grouped key/value heads.
// Self-attention only (the window is defined on one sequence): a
// cross-attention layer, or one with MaxQ != MaxK, is rejected at Init.
// No trainable parameters. Buffers are allocated once at Init
// (plugins/attention/internal/layers); Backward reads the output Forward
// returned, which callers leave unchanged.
//
// # Versions
//
// 1.1.0 computes the softmax in base 2, log2(e) folded into the query
// scale (kernels/vmath.Exp2SubCols): a quarter cheaper than exp, with
// results that differ from 1.0.0's in the last bits.
package longformer
