// Package transformer is attnlab's decoder-only GPT architecture: GPT-2
// (Radford et al. 2019, "Language Models are Unsupervised Multitask
// Learners") as Karpathy's nanoGPT (model.py) and llm.c (train_gpt2.c)
// write it, built from the kernels in kernels/nn and kernels/attention,
// with the attention itself delegated to a pluggable sdk.Attention.
//
//	x      = wte[ids] + wpe[:T]                                  (B, T, C)
//	block ×L (pre-LN):
//	  res1 = x + dropout(c_proj(attention(split(c_attn(ln_1(x))))))
//	  x    = res1 + dropout(mlp.c_proj(gelu_tanh(mlp.c_fc(ln_2(res1)))))
//	logits = ln_f(x) · lm_headᵀ                                  (B, T, V)
//
// c_attn is one fused (3C, C) projection split into q, k and v of shape
// (B, H, T, D), D = C/H; the attention component sees them through
// sdk.AttentionLayers, one call per layer and pass, with the causal mask
// and the batch's key-padding mask. New returns the component; parameters
// and their names (wte.weight, h.0.attn.c_attn.weight, ...) follow nanoGPT.
//
// # Choices
//
//   - Initialisation is GPT-2's, as in nanoGPT: normal(0, init_std) for
//     weight matrices and both embeddings, normal(0, init_std/√(2L)) for
//     the two residual projections of each block (attn.c_proj and
//     mlp.c_proj; GPT-2 paper §2.3), zero biases and unit norm gains. Each
//     tensor draws from its own rng stream split from the seed by name, so
//     the same seed gives the same weights, whatever else changes.
//   - tie_embeddings (default true, as GPT-2) uses wte as the LM head
//     (Press and Wolf 2017); the head has no bias. A tied tensor is one
//     parameter: counted once by NumParams, updated once by Step, and its
//     gradient is the sum of the head's and the embedding's.
//   - Weight decay applies to the weight matrices and to wte (and an
//     untied lm_head). Biases, layer-norm gains and biases, and the
//     position table wpe are exempt: the split of minGPT's
//     configure_optimizers, which the sdk documents as the convention.
//     nanoGPT instead decays every tensor of rank >= 2, wpe included; the
//     difference matters little at these sizes and keeping positions
//     undecayed avoids shrinking rarely-seen late positions.
//   - Dropout (default 0) is applied after the attention output projection
//     and after the MLP projection in training only, as nanoGPT's
//     resid_dropout. nanoGPT's embedding dropout is left out, and dropout
//     on the attention probabilities belongs to the attention component.
//     The masks are deterministic: the k-th training Forward draws the
//     mask of block l's attention (MLP) projection from the stream
//     Split(k).Split(2l) (Split(2l+1)) of the seed's "dropout" stream.
//   - GELU is the tanh approximation (GPT-2's gelu_new).
//   - Only Output "tokens" is supported; classification comes later.
//
// # Shapes, buffers and speed
//
// Init allocates every parameter, its gradient, the optimiser state and
// every activation and activation gradient for the largest batch
// (InputSpec.Batch) and sequence (InputSpec.SeqLen). Forward accepts any
// (B, T) up to those; activations are batch-major, so a smaller batch is a
// prefix of each buffer under a resized header. Once warmed up, Forward,
// Backward and Step allocate nothing (with the in-process full attention),
// and every result is bit-identical for any number of kernel threads.
//
// The sdk contract: Forward's logits belong to the model until the next
// Forward; Backward accumulates parameter gradients (Step scales them by
// GradScale, applies AdamW or SGD from kernels/optim and zeroes them).
// Forward copies the token ids and key mask, so the caller's batch may
// change before Backward.
package transformer
