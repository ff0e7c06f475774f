// Package transformer is attnlab's transformer architecture in three
// shapes, built from the kernels in kernels/nn and kernels/attention with
// the attention itself delegated to a pluggable sdk.Attention. Every block
// is GPT-2's pre-LN block (Radford et al. 2019) as Karpathy's nanoGPT
// (model.py) and llm.c (train_gpt2.c) write it.
//
// # Shapes
//
// The "shape" parameter chooses; its default, auto, follows the
// objective's task, and a shape that cannot serve the task is an error
// naming both:
//
//	shape            tasks                 output
//	decoder          causal-lm (classify)  logits (B, T, V)  (class logits (B, K), pool = mean only)
//	encoder          masked-lm, classify   logits (B, T, V), or class logits (B, K)
//	encoder-decoder  seq2seq               logits (B, Td, V)
//
// A decoder is the GPT, with causal self-attention:
//
//	x      = wte[ids] + wpe[:T]                                  (B, T, C)
//	block ×L (pre-LN):
//	  res1 = x + dropout(c_proj(attention(split(c_attn(ln_1(x))))))
//	  x    = res1 + dropout(mlp.c_proj(gelu_tanh(mlp.c_fc(ln_2(res1)))))
//	logits = ln_f(x) · lm_headᵀ                                  (B, T, V)
//
// An encoder is the same stack with bidirectional self-attention (BERT,
// Devlin et al. 2019, pre-LN): every token sees every real token of its
// example. For masked LM its head gives per-token logits; for
// classification (Output "classes") the final states ln_f(x) are pooled,
// by the first token's (pool = cls, BERT's [CLS]; the objective puts its
// class token first and pads on the right) or by the mean over the real
// tokens (pool = mean), and a linear layer cls_head (K, C) + (K) gives the
// class logits. BERT's tanh pooler is left out.
//
// An encoder-decoder (Vaswani et al. 2017, pre-LN as T5, Raffel et al.
// 2020) runs an encoder over batch.Inputs (B, Te) and a decoder over
// batch.DecoderInputs (B, Td) whose blocks each add a cross-attention
// sublayer between self-attention and the MLP:
//
//	enc    = ln_f(encoder blocks(wte[inputs] + enc.wpe[:Te]))     (B, Te, C)
//	block ×Ld (decoder, pre-LN):
//	  res1 = x + dropout(c_proj(causal self-attention(ln_1(x))))
//	  res2 = res1 + dropout(o_proj(attention(q_proj(ln_cross(res1)), k_proj(enc), v_proj(enc))))
//	  x    = res2 + dropout(mlp(ln_2(res2)))
//	logits = ln_f(x) · lm_headᵀ                                  (B, Td, V)
//
// Cross-attention reads the encoder's final states with the encoder's key
// mask, so its padding is never attended to; gradients flow from the
// decoder through k_proj and v_proj into the encoder. The decoder's
// self-attention is causal without a key mask: decoder inputs are padded
// on the right, where causality already hides them.
//
// # Attention layers
//
// The attention component is initialised once (Init) with a spec of every
// layer, and called once per layer and pass with that layer's index:
//
//	decoder          layers 0..L-1: self, causal, MaxSeq = S (no LayerSpecs: the spec of a GPT)
//	encoder          layers 0..L-1: self, bidirectional, MaxQ = MaxK = S
//	encoder-decoder  layers 0..L-1: the encoder's self-attention (bidirectional, S × S);
//	                 then for decoder block j: layer L+2j self (causal, Td × Td)
//	                 and layer L+2j+1 cross (Role "cross", MaxQ = Td, MaxK = S)
//
// S is the objective's SeqLen and Td its TargetLen. The key mask given to
// a layer is the batch's KeyMask (for the decoder and the encoder, and for
// cross-attention over the encoder's keys) or nil (the decoder's
// self-attention in an encoder-decoder).
//
// # Grouped key/value heads
//
// With kv_heads = KVH < heads = H (grouped-query attention, Ainslie et al.
// 2023; multi-query attention, Shazeer 2019, at KVH = 1), every
// attention layer has H query heads and KVH key and value heads of the
// same head_dim D: c_attn projects to (H+2·KVH)·D outputs laid out
// [q heads | k heads | v heads] (see heads.go), cross-attention's k_proj
// and v_proj to KVH·D, and the attention spec's KVHeads is KVH, so query
// head h reads key/value head h/(H/KVH). The attention component must
// list the "kv_heads" capability. With kv_heads = 0 or H the model is the
// ungrouped transformer, every parameter and result bit for bit.
//
// # Parameters
//
//	layers          blocks of a decoder or encoder, or of the encoder of an encoder-decoder (L)
//	decoder_layers  blocks of the encoder-decoder's decoder (Ld); 0 means L
//	d_model, heads, mlp_ratio, dropout, init_std, layernorm_eps, positions, tie_embeddings
//	kv_heads        key/value heads (KVH), dividing heads; 0 means heads
//	shape           auto | decoder | encoder | encoder-decoder
//	pool            cls | mean (classification only)
//
// Names follow nanoGPT (wte.weight, wpe.weight, h.0.attn.c_attn.weight,
// ln_f.weight, lm_head.weight); an encoder-decoder prefixes its stacks'
// with "enc." and "dec." (enc.h.0..., dec.wpe.weight, dec.ln_f.weight) and
// names the cross-attention dec.h.j.ln_cross.* and
// dec.h.j.crossattn.{q,k,v,c}_proj.*; the classification head is
// cls_head.weight and cls_head.bias. A decoder's parameters, their order,
// initial values and every result are those of version 1.0.0, which was
// decoder-only.
//
// # Choices
//
//   - Initialisation is GPT-2's, as in nanoGPT: normal(0, init_std) for
//     weight matrices, embeddings and heads, normal(0, init_std/√n) for
//     the residual projections of a stack with n residual branches (2L in a
//     decoder or encoder, GPT-2 paper §2.3; 3Ld in a decoder with
//     cross-attention), zero biases and unit norm gains. Each tensor draws
//     from its own rng stream split from the seed by name, so the same seed
//     gives the same weights, whatever else changes.
//   - One token embedding wte serves the encoder and the decoder (their
//     vocabulary is the objective's one vocabulary, as in T5);
//     tie_embeddings (default true, as GPT-2) also uses it as the LM head
//     (Press and Wolf 2017); the head has no bias. A tied tensor is one
//     parameter: counted once by NumParams, updated once by Step, and its
//     gradient is the sum of every use's.
//   - Positions: each stack has its own learned table (or fixed sinusoids)
//     of its longest sequence; with rope, q and k of every self-attention
//     are rotated by their positions, and cross-attention, which relates
//     two different sequences, has no positions (as T5's relative biases
//     are in self-attention only).
//   - Cross-attention's k_proj has no bias: it would add the same amount
//     to every score of a query, which the softmax ignores (its gradient
//     is zero).
//   - Weight decay applies to the weight matrices, wte and the heads.
//     Biases, layer-norm gains and biases, and the position tables are
//     exempt: the split of minGPT's configure_optimizers, which the sdk
//     documents as the convention. nanoGPT instead decays every tensor of
//     rank >= 2, wpe included; the difference matters little at these
//     sizes and keeping positions undecayed avoids shrinking rarely-seen
//     late positions.
//   - Dropout (default 0) is applied after every attention output
//     projection and after the MLP projection in training only, as
//     nanoGPT's resid_dropout. nanoGPT's embedding dropout is left out, and
//     dropout on the attention probabilities belongs to the attention
//     component. The masks are deterministic: blocks are numbered g = 0,
//     1, ... over the encoder's then the decoder's (a single stack's are
//     0..L-1), and the k-th training Forward draws block g's attention
//     (MLP) projection mask from the stream Split(k).Split(2g)
//     (Split(2g+1)) of the seed's "dropout" stream, and decoder block j's
//     cross-attention mask from Split(k).Split(2(L+Ld)+j).
//   - GELU is the tanh approximation (GPT-2's gelu_new).
//
// # Shapes, buffers and speed
//
// Init allocates every parameter, its gradient, the optimiser state and
// every activation and activation gradient for the largest batch
// (InputSpec.Batch) and sequences (SeqLen, and TargetLen for the decoder
// of an encoder-decoder). Forward accepts any batch and lengths up to
// those; activations are batch-major, so a smaller (B, T) is a prefix of
// each buffer under a resized header, and each stack resizes its own
// buffers to its own T. Once warmed up, Forward, Backward and Step
// allocate nothing (with the in-process full attention), and every result
// is bit-identical for any number of kernel threads.
//
// The harness evaluates seq2seq by greedy decoding, which calls Forward
// (train=false) TargetLen times with the same encoder inputs. An
// evaluation Forward whose inputs and key mask equal the previous
// Forward's, itself an evaluation with no Step since, reuses the
// encoder's final states and the cross-attention keys and values, which
// would be recomputed bit for bit the same; only the decoder runs.
//
// The sdk contract: Forward's output belongs to the model until the next
// Forward; Backward accumulates parameter gradients (Step scales them by
// GradScale, applies AdamW or SGD from kernels/optim and zeroes them).
// Forward copies the token ids and key mask, so the caller's batch may
// change before Backward.
package transformer
