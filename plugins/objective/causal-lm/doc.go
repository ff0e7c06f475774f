// Package causallm is the causal language-modelling objective ("causal-lm"):
// next-token prediction with a mean cross-entropy over the scored positions,
// on byte-level text or on two synthetic recall tasks. New returns it as an
// sdk.Objective; a plugin main wraps it with sdk.Serve.
//
// # Vocabulary and outputs
//
// Every dataset uses the byte-level vocabulary of Vocab = 256 tokens, so a
// model trained on one dataset can be evaluated on another. The synthetic
// tasks draw their data tokens from the low ids and use two fixed special
// ids above every data range: Sep = 254 (separator) and Pad = 255 (padding).
// InputSpec is {Vocab: 256, SeqLen: seq_len, Batch: batch, Output: "tokens"}:
// the architecture returns logits (B, T, 256) and Loss returns their
// gradient. The objective lists the capability "causal": it only makes
// sense with causal attention, as every target is a later input.
//
// # Examples and targets
//
// Each example is a stream s of T+1 tokens (T = seq_len); the inputs are
// s[0:T] and the target of position t is s[t+1], or sdk.IgnoreIndex where
// the next token is unpredictable (random data) or padding. Loss and the
// metrics "accuracy" (argmax of the logits equals the target) and "tokens"
// (the number of scored positions) count only targets != IgnoreIndex.
// Batches have no KeyMask: padding, where there is any, is only ever the
// last target s[T], never an input.
//
// # dataset=copy
//
// With L = floor(T/2) and x_0..x_{L-1} uniform in [0, copy_vocab):
//
//	s       = x_0 .. x_{L-1}  Sep  x_0 .. x_{L-1}  [Pad if T is odd]
//	inputs  = x_0 .. x_{L-1}  Sep  x_0 .. x_{L-2}  [x_{L-1} if T is odd]
//	targets = ign .. ign      x_0  x_1 .. x_{L-1}  [ign if T is odd]
//
// so exactly the L positions t in [L, 2L) are scored, and they are exactly
// the copied half: position L (input Sep) must produce x_0, position L+i
// must produce x_i. For T = 6: inputs a b c Sep a b, targets - - - a b c.
//
// # dataset=mqar
//
// Multi-query associative recall after Zoology (Arora et al. 2023,
// "Zoology: Measuring and Improving Recall in Efficient Language Models",
// arXiv:2312.04927, and its multiquery_ar data generator). With
// N = mqar_pairs, K = mqar_keys and V = mqar_values, an example holds N
// keys k_0..k_{N-1}, distinct, drawn from [0, K), and N values
// v_0..v_{N-1}, distinct, drawn from [K, K+V); keys and values never share
// an id. The stream is the N pairs followed by
// Q = floor((T+1-2N)/2) queries, each a key followed by its value:
//
//	s       = k_0 v_0 .. k_{N-1} v_{N-1}  k_{q_0} v_{q_0} .. k_{q_{Q-1}} v_{q_{Q-1}}  [Pad]
//	targets = ign ign .. ign     ign      v_{q_0} ign     .. v_{q_{Q-1}} ign
//
// The Pad is there when T+1-2N is odd, as the last target. The scored
// positions are t = 2N+2j for j < Q: the input is a query key and the
// target its value, so every scored target is answerable from the pairs.
// The query indices q are independent uniform permutations of 0..N-1
// concatenated and cut to Q, so the first min(N, Q) queries ask each key
// once, as in Zoology, and longer sequences ask every key again. Zoology
// spaces its queries with power-law gaps of filler tokens and asks each
// key once; here the queries are packed densely, which scores more
// positions per sequence and keeps every position meaningful. Init requires
// N <= K, N <= V, K+V <= 254 and T >= 2N+1 (at least one query).
// For N = 2, T = 8: inputs k0 v0 k1 v1 k1 v1 k0 v0, targets - - - - v1 - v0 -.
//
// # dataset=text
//
// Byte-level language modelling on the file at path, read whole at Init.
// The first floor(0.9·n) bytes of an n-byte file are the train split and
// the rest the eval split; an example is a window of T+1 consecutive bytes
// that lies entirely inside one split (inputs its first T bytes, targets
// its last T), so train and eval never share a byte. Window starts are
// uniform over the split. Every target is scored. Each split must hold at
// least T+1 bytes, so the file needs roughly 10·(T+1) bytes; Init says how
// long it is and what it needs otherwise.
//
// # Determinism
//
// Example e of Batch(split, index) depends only on (seed, dataset
// parameters, split, index, e): the data stream
// rng.New(seed).SplitName("causal-lm") is split by name into "train" and
// "eval" streams, those by batch index, and those by example index, so any
// batch is regenerated without the ones before it, the first examples of a
// batch do not depend on the batch size, and train and eval draw from
// disjoint streams. Eval has
// eval_batches distinct batches: Batch(Eval, i) returns batch
// i mod eval_batches, so an evaluation over eval_batches batches always
// sees the same data. (Synthetic eval examples come from another stream
// than train examples; for tiny vocabularies and lengths an eval example
// may equal a train example by chance.)
//
// # Buffers
//
// Batch returns one *sdk.Batch per split, allocated at Init and refilled in
// place: it is valid until the next Batch call of the same split. Loss
// owns its gradient, its softmax cache and its Metrics map, all valid until
// the next Loss. After Init, Batch and Loss allocate nothing.
package causallm
