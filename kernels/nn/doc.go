// Package nn holds the layer kernels of a transformer, forward and backward:
// linear, token and position embeddings, layer and RMS normalisation, GELU,
// ReLU, SiLU and softplus, softmax and log-softmax, cross-entropy, dropout
// and the residual addition. Attention lives in package attention and
// optimisers in package optim; models are built from these by the caller.
//
// # Conventions
//
// The style is llm.c's (train_gpt2.c): each layer is a pair of plain
// functions, XForward and XBackward, over caller-owned *tensor.Tensor
// buffers, row-major float32. A comment beside every buffer gives its shape;
// "(N.., C)" means any leading dimensions, flattened into N rows of C, so a
// (B, T, C) activation is N = B·T rows. Per-row caches such as a layer
// norm's mean take either the leading dimensions themselves, (B, T), or
// their flattened form (B·T).
//
//   - The forward caches exactly what the backward needs (LayerNorm: mean
//     and rstd; Dropout: the mask; CrossEntropy: the probabilities) and
//     nothing else; a backward that needs a forward input takes it again.
//   - Backward functions accumulate: every gradient buffer they are given,
//     parameter and input gradients alike, receives += its contribution, so
//     a tensor used twice (a residual stream, tied embeddings) just receives
//     two calls. Callers zero gradients themselves between steps
//     (tensor.Tensor.Zero); there is deliberately no ZeroGrad here. The
//     exceptions are named for it: LinearBackwardTo and GELUBackwardTo
//     overwrite their input gradient, for a caller that knows it is that
//     buffer's first writer and would otherwise zero it only to have the
//     kernel read the zeros back.
//   - A nil gradient buffer means "not needed" and is skipped, so the first
//     layer need not compute its input gradient.
//   - Every function validates its operands before touching any of them and
//     returns a *tensor.ShapeError naming all operands, their shapes and
//     what was expected; a bad token id or target is an error naming its
//     position and value. On error nothing has been written. Nothing panics
//     on bad shapes and nothing broadcasts silently.
//   - Outputs must not overlap inputs unless a function says it may alias:
//     PositionForward, ResidualForward, DropoutForward, SoftmaxForward,
//     LogSoftmaxForward and CrossEntropyForward (probs over logits) allow it,
//     because their backward does not read the overwritten input.
//
// # Speed and determinism
//
// Kernels allocate nothing once warm: validation (tensor.Check, on the
// stack) builds an error only when there is one, element-wise and
// log-softmax kernels use small stack buffers to vectorise exponentials
// through vmath.Exp and vmath.ExpSubSum (GELU calls the fused kernels
// vmath.GELUTanh, vmath.GELUErf and their gradients), and per-call state
// lives in job structs kept on free lists. Matrix products go through
// blas.Gemm, which parallelises deterministically.
//
// The norms, GELU, softmax, log-softmax, cross-entropy, the residual and
// LinearBackward's bias gradient run on kernels/parallel's pool too
// (parallel.go): the work is cut into parts by rows or elements, with
// the number and boundaries of the parts fixed by the problem size alone;
// an input of at most one part's worth (16K elements) is a single part
// and runs serially on the caller. Row reductions keep eight partial
// sums in a fixed order, and sums over rows (the norms' weight and bias
// gradients, the bias gradient) are taken per part and combined in part
// order, so results are bit-identical for any thread count
// (TestSameBitsForAnyThreadCount). The GELU loops are straight-line
// arithmetic with no data-dependent branch.
//
// # References
//
// A naive implementation stays beside every kernel whose fast version
// differs from the textbook formula (linearForwardNaive,
// layerNormForwardNaive, softmaxForwardNaive, ...): plain loops in float64,
// used as the test oracle. Kernels that are a copy or an addition
// (embedding, positions, residual, ReLU, dropout) are their own reference.
package nn
