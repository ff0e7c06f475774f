// Package bigbird is attnlab's BigBird attention component (Zaheer et al.
// 2020, "Big Bird: Transformers for Longer Sequences", §2 and Appendix D):
// block-sparse attention in the ITC layout, by
// kernels/attention.BigBirdForward and BigBirdBackward on the tiled flash
// engine. The sequence is cut into blocks of b tokens, and each query
// block attends to
//
//   - 3 window blocks: itself and its two neighbours;
//   - 2 global blocks, the first and the last, which also attend to every
//     block;
//   - r random blocks per head, drawn without replacement from the blocks
//     not already attended.
//
// The window and global counts are fixed by the kernel (the paper's ITC
// configuration); block and random_blocks are parameters. When fewer than
// r blocks are left (short sequences; at most 4 blocks, or 5 with one
// random block, means every block is attended: full attention), the kernel draws what is left.
// A block longer than a layer's sequence is rejected at Init.
//
// The random blocks come from the spec's Seed: a stream named "bigbird"
// split by layer, so each layer has its own layout and the same trial
// seed gives the same layouts. The layout also depends on the call's
// sequence length (the number of blocks).
//
// Capabilities: causal (a query sees no later key; random blocks are
// drawn among earlier blocks), key padding masks and grouped key/value
// heads. Self-attention only: a cross-attention layer, or one with MaxQ !=
// MaxK, is rejected at Init. No trainable parameters. Buffers are
// allocated once at Init (plugins/attention/internal/layers); Backward
// reads the output Forward returned, which callers leave unchanged.
//
// # Versions
//
// 1.1.0 computes the softmax in base 2, log2(e) folded into the query
// scale (kernels/vmath.Exp2SubCols): a quarter cheaper than exp, with
// results that differ from 1.0.0's in the last bits.
package bigbird
