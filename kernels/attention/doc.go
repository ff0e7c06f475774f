// Package attention holds attnlab's attention kernels, forward and
// backward. This file set implements full scaled-dot-product attention
// (Vaswani et al. 2017, eq. 1):
//
//	O = softmax(scale · Q·Kᵀ + M) · V
//
// over tensors of shape (B, H, T, D) with an optional causal mask and an
// optional key-padding mask. Like every "full" attention it materialises
// the T×T probability matrix and caches it for the backward pass, so its
// memory grows with T²; that is the baseline efficient variants are
// measured against.
//
// Layout of the cache. The forward walks each head in blocks of nr queries
// (nr is the matmul micro-kernel's tile width, 32 with AVX-512) and keeps
// each block's probabilities transposed, keys × queries, row-major. In that
// layout the block is a ready packed operand for the matmul micro-kernel,
// the softmax over keys vectorises across queries, and neither product of
// the forward nor three of the four of the backward copy or transpose the
// T×T data. The cache is therefore shaped (B, H, ceil(Tq/nr), Tk, nr);
// Weights converts it to the ordinary (B, H, Tq, Tk) for inspection.
//
// Masks: with Causal, query i sees keys j <= i + (Tk - Tq), which is the
// usual lower triangle when Tq == Tk. A key-padding mask has one flag per
// (batch, key); false hides the key from every query. A query that sees no
// key at all gets a zero output and zero gradients (PyTorch would give
// NaN).
//
// Work is split by head, so results are bit-identical for any thread
// count; the naive reference in naive.go is the test oracle.
//
// The efficient variants, each a Forward/Backward pair citing its paper:
//
//   - FlashForward/FlashBackward (flash.go, tiled.go): exact attention in
//     query×key tiles with an online softmax (FlashAttention-2), keeping
//     only the log-sum-exp per query (LSEShape) and recomputing the
//     probabilities in the backward: memory linear in T.
//   - FullGroupedForward/Backward (fullgrouped.go) and the flash kernels
//     take fewer key/value heads than query heads (GQA; one is MQA).
//   - SlidingWindowForward/Backward (window.go): Longformer's band, with
//     dilation and global tokens, on the tiled engine.
//   - BigBirdForward/Backward (bigbird.go): block-sparse window, global and
//     random blocks; BigBirdLayout shows the pattern.
//   - LinformerForward/Backward (linformer.go): keys and values projected
//     along the sequence by caller-owned E and F, with their gradients.
//   - PerformerForward/Backward (performer.go, performer_causal.go): FAVOR+
//     positive orthogonal random features (PerformerFeatures), causal by
//     prefix sums.
//
// Every variant runs through the conformance suite in attntest (shapes,
// bad input, causal leakage, key masks, finite differences, determinism
// across threads, equality with full attention where exact, allocation).
package attention
