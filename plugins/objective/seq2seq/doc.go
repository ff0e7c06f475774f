// Package seq2seq is the sequence-to-sequence objective ("seq2seq") of an
// encoder-decoder transformer (Vaswani et al. 2017, "Attention Is All You
// Need", §3; trained as in T5, Raffel et al. 2020, §3.1: teacher forcing,
// cross-entropy on the target tokens): the encoder reads a source
// sequence, the decoder is fed the target shifted right behind a start
// token and predicts the target. New returns it as an sdk.Objective; a
// plugin main wraps it with sdk.Serve.
//
// # Vocabulary and outputs
//
// Byte-level: ids 0..255 are bytes (or the symbols of the synthetic
// tasks), Pad = 256 fills inputs after a shorter sequence, BOS = 257
// starts every decoder input and EOS = 258 ends every target, so Vocab =
// 259. InputSpec is {Vocab: 259, SeqLen: the encoder's length, TargetLen:
// the decoder's length, Batch, Output: "tokens", Task: sdk.TaskSeq2Seq,
// Generate: true, BOS: 257}: the architecture returns logits (B,
// TargetLen, 259), one row per decoder position.
//
// # Batches
//
// For a source x (n tokens) and a target y (m tokens), with T = SeqLen and
// U = TargetLen (so m+1 <= U):
//
//	Inputs        (B, T)  x_0 .. x_{n-1} Pad .. Pad
//	KeyMask       (B, T)  1 .. 1 (n ones) 0 .. 0
//	DecoderInputs (B, U)  BOS y_0 .. y_{m-1} Pad .. Pad
//	Targets       (B, U)  y_0 .. y_{m-1} EOS ign .. ign
//
// where ign is sdk.IgnoreIndex: the decoder input at position t is the
// target at t-1 (teacher forcing), and positions after EOS carry no loss.
// The decoder needs no key mask: its self-attention is causal, so the Pad
// inputs after EOS only reach positions that are ignored.
//
// # Loss and metrics
//
// Loss is the mean cross-entropy over the positions whose target is not
// ign. Metrics: "accuracy" (of those positions, the fraction whose largest
// logit is the target), "exact_match" (the fraction of examples whose
// every scored position is right, EOS included) and "tokens" (the scored
// positions). With Generate set, the harness also decodes every eval batch
// greedily, feeding the decoder its own predictions, and reports the same
// metrics as eval/greedy_accuracy and eval/greedy_exact_match: the
// teacher-forced exact match is an upper bound that greedy decoding must
// earn.
//
// # Datasets
//
// reverse: n uniform in [min_len, seq_len], x_i uniform in [0, symbols), y
// = x reversed. U = seq_len + 1.
//
// sort: as reverse, y = x sorted ascending. U = seq_len + 1.
//
// add: multi-digit addition in ASCII digits. a and b are uniform in
// [0, 10^digits), written in decimal without leading zeros, most
// significant digit first: x = "a+b" (at most 2·digits+1 tokens, so
// seq_len must be at least that) and y = "a+b" evaluated, e.g. "123+45"
// -> "168". U = digits + 2 (the sum has at most digits+1 digits, then EOS).
//
// text: pairs from the UTF-8 file at path, one per line: the source, one
// tab, the target ("source<TAB>target"; bytes, a trailing CR dropped).
// Empty lines are skipped; a line without exactly one tab, with an empty
// side, a source longer than seq_len bytes or a target longer than
// target_len bytes is an error naming the file and line, as are a
// missing, empty or non-UTF-8 file. U = target_len + 1.
//
// # Held-out evaluation
//
// Train and eval never share a source: a source belongs to the eval split
// when its hash (FNV-1a of its tokens, finalised by SplitMix64's mixer)
// falls below eval_fraction of the 64-bit range. Synthetic tasks draw
// examples until one lies on the split's side (a train draw is rejected
// with probability eval_fraction, an eval draw accepted with it). Text
// pairs are partitioned once at Init, so duplicate sources, even with
// different targets, all land in one split; each split needs at least one
// pair. A train example is a uniform draw from the train pairs; eval batch
// i holds eval pairs i·B .. i·B+B-1 in file order, wrapping around.
//
// # Determinism
//
// Example e of Batch(split, index) depends only on (seed, parameters,
// split, index, e): rng.New(seed).SplitName("seq2seq") is split by name
// into "train" and "eval", those by batch index and by example index.
// Batch(Eval, i) returns batch i mod eval_batches.
//
// # Buffers
//
// Batch returns one *sdk.Batch per split, allocated at Init and refilled
// in place: valid until the next Batch of the same split. Loss owns its
// gradient, softmax cache and Metrics map, valid until the next Loss.
// After Init, Batch and Loss allocate nothing.
package seq2seq
