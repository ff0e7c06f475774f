// Package flash is attnlab's flash attention component: exact softmax
// attention computed tile by tile with an online softmax (Dao et al. 2022,
// "FlashAttention", §3.1; Dao 2023, "FlashAttention-2", §3.1, Algorithms 1
// and 2), by kernels/attention.FlashForward and FlashBackward.
//
// It gives full attention's results (within float32 rounding: the sums
// run in another order) without materialising the T×T probabilities: the
// forward keeps one log-sum-exp per query, (B, H, Tq), and the backward
// recomputes the probabilities from it. Extra memory is linear in the
// sequence length, against full attention's quadratic cache.
//
// Capabilities: causal self-attention, cross-attention (Tq != Tk), key
// padding masks and grouped key/value heads (kv_heads < heads: GQA, MQA
// at kv_heads = 1, query head h reading key/value head h/(heads/kv_heads)).
// The kernel's tile sizes are fixed by the matmul micro-kernel and the head
// dimension (32 queries by 128 to 512 keys), so the only parameter is
// scale. No trainable parameters.
//
// Init allocates, per layer, the output, the log-sum-exps and dq, dk and
// dv for the largest call the spec allows; smaller calls use prefixes
// (plugins/attention/internal/layers). Backward reads the output Forward
// returned: callers must leave it unchanged, as the sdk contract says.
//
// # Versions
//
// 1.1.0 computes the softmax in base 2, log2(e) folded into the query
// scale (kernels/vmath.Exp2SubCols): a quarter cheaper than exp, with
// results that differ from 1.0.0's in the last bits.
package flash
