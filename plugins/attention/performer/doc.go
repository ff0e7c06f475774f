// Package performer is attnlab's Performer attention component
// (Choromanski et al. 2021, "Rethinking Attention with Performers",
// FAVOR+, §2.2-2.4 and §2.6), by kernels/attention.PerformerForward and
// PerformerBackward: the softmax kernel estimated with m positive
// orthogonal random features (attention.PerformerFeatures), inputs scaled
// by D^(-1/4), exponents stabilised, so attention costs O(T·m·D) and
// needs no T×T matrix. Causal layers use prefix sums (§2.6).
//
// # Parameters
//
//   - features (m, default 256): random features per layer, shared by its
//     heads. The estimate's error falls as m grows.
//   - redraw (default 0 = never): draw new features after every redraw
//     optimiser steps (the feature redrawing the paper recommends). Step redraws
//     them when step s completes an interval, so step s+1 and its
//     evaluations use draw ⌊(s+1)/redraw⌋.
//   - scale (default 0 = 1/√head_dim): the softmax temperature; the kernel
//     scales q and k by its square root.
//
// Layer i's draw d comes from the spec's Seed through a stream named
// "performer", split by i and then by d: runs with the same seed see the
// same features at the same steps, in-process or as a plugin.
//
// Capabilities: causal, key padding masks, grouped key/value heads and
// cross-attention (Tq != Tk). Nothing is trained (GradNormSq is 0), but
// the component is not stateless: the harness must call Step for the
// redraws. Init allocates the features and, per layer, the output and
// gradients (plugins/attention/internal/layers); a redraw allocates the
// kernel's Gram-Schmidt scratch, once per interval. Backward reads the
// output Forward returned, which callers leave unchanged.
package performer
