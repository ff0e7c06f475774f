// Package linformer is attnlab's Linformer attention component (Wang et
// al. 2020, "Linformer: Self-Attention with Linear Complexity", §4,
// eq. 7):
//
//	head = softmax(scale · Q·(E·K)ᵀ) · (F·V)
//
// where the learned projections E and F (k × n) shrink the n keys and
// values along the sequence to k rows, so attention costs O(n·k), by
// kernels/attention.LinformerForward and LinformerBackward.
//
// # Parameters
//
//   - k (default 128): the projected length; k greater than a layer's key
//     length n (its MaxK) is rejected at Init.
//   - sharing (§4, "Parameter sharing"): none (E and F per layer and per
//     key/value head), headwise (default: E and F per layer, shared by its
//     heads), kv (one E = F per layer) or layerwise (one E = F for every
//     layer, head, key and value; its n is the longest layer's).
//   - init_std (default 0 = 1/√n): E and F start as N(0, init_std²)
//     draws from the spec's Seed (a stream named "linformer", split by
//     parameter), so the same trial seed gives the same projections.
//   - scale (default 0 = 1/√head_dim).
//
// E and F are the component's own parameters: Backward accumulates their
// gradients, GradNormSq returns the gradients' squared norm, and Step
// applies the trial's optimiser (spec.Optimizer through kernels/optim,
// AdamW or SGD; AdamW with PyTorch's defaults when the spec names none)
// with the harness's learning rate and clipping factor, then clears the
// gradients, as the transformer architecture does with its own.
//
// A call with fewer keys than n (a short batch) uses the first Tk columns
// of E and F, which is Linformer on keys and values zero-padded to n, and
// needs Tk >= k. A key mask zeroes the hidden keys and values before the
// projection.
//
// Linformer cannot be causal (§4: every projected row mixes all
// positions), so a causal layer is an error at Init. Cross-attention
// (Tq != Tk) works: the keys' length is what is projected. Capabilities:
// key padding masks and grouped key/value heads. Buffers are allocated
// once at Init (plugins/attention/internal/layers).
package linformer
