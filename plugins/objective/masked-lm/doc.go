// Package maskedlm is the masked language-modelling objective ("masked-lm")
// of BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional
// Transformers for Language Understanding", §3.1 "Task #1: Masked LM" and
// appendix A.1): a fraction of the input tokens is corrupted and the model,
// an encoder that sees the whole sequence, predicts the original tokens at
// those positions only. New returns it as an sdk.Objective; a plugin main
// wraps it with sdk.Serve.
//
// # Vocabulary and outputs
//
// Byte-level: ids 0..255 are bytes, Pad = 256 fills the positions after
// a shorter example (inputs only; KeyMask 0 there), Mask = 257 is the
// [MASK] token, so Vocab = 258. There is no [CLS] or [SEP]: BERT's
// next-sentence task is not part of this objective. InputSpec is
// {Vocab: 258, SeqLen: seq_len, Batch: batch, Output: "tokens", Task:
// sdk.TaskMaskedLM}: the architecture (an encoder, bidirectional) returns
// logits (B, T, 258).
//
// # Masking
//
// Every real (non-padding) position is selected independently with
// probability mask_prob (0.15); a selected position's target is its
// original token, every other target is sdk.IgnoreIndex. The input at a
// selected position becomes Mask with probability replace_mask (0.8), a
// random data token (uniform over the dataset's data ids: 0..255 for text,
// 0..repeat_vocab-1 for repeat; it may equal the original) with probability
// replace_random (0.1), and stays unchanged otherwise (0.1). This is the
// per-token Bernoulli selection of the common implementations (Hugging
// Face's DataCollatorForLanguageModeling); the original BERT data script
// instead masks exactly round(0.15·n) positions of each sequence, which
// has the same rate and less variance per sequence. A sequence may have
// no selected position; its examples then carry no loss.
//
// Loss is the mean cross-entropy over the selected positions of the
// batch; the metrics are "accuracy" (argmax of the logits equals the
// original token, over selected positions), "tokens" (the number of
// selected positions) and, for dataset=text, "unigram_entropy": the
// entropy of the file's byte distribution in nats per byte (the same unit
// as the loss), the loss of the best predictor that ignores context.
// A masked-token loss clearly below it shows the model uses context.
// UnigramEntropy computes it; divide by ln 2 for bits.
//
// # dataset=text
//
// Byte-level text from the file at path, read whole at Init; it must be
// non-empty UTF-8 (an error names the file, line and column of the first
// invalid byte). The last eval_fraction of its bytes (rounded down) are the
// eval split and the rest the train split; an example is a window of
// seq_len consecutive bytes inside one split, its start uniform, so train
// and eval never share a byte. Each split must hold at least seq_len
// bytes. Text batches have no KeyMask: every position is real.
//
// # dataset=repeat
//
// A synthetic task for tests and smoke runs: a string x of L tokens, L
// uniform in [max(1, floor(T/4)), floor(T/2)] and tokens uniform in
// [0, repeat_vocab), written twice (x x) and padded with Pad to T; KeyMask
// marks the 2L real positions. A masked token is recoverable from its twin
// unless that is corrupted too. The eval split holds out the strings x
// whose hash (FNV-1a of the tokens, finalised by SplitMix64's mixer) falls
// below eval_fraction of the 64-bit range: train draws strings until one
// is not held out, eval until one is, so no string is in both splits.
//
// # Determinism
//
// Example e of Batch(split, index) depends only on (seed, parameters,
// split, index, e): rng.New(seed).SplitName("masked-lm") is split by name
// into "train" and "eval", those by batch index and those by example
// index; each example then uses stream 0 for its data and stream 1 for its
// masking, so the masks do not depend on how much randomness the data
// took. Batch(Eval, i) returns batch i mod eval_batches.
//
// # Buffers
//
// Batch returns one *sdk.Batch per split, allocated at Init and refilled
// in place: valid until the next Batch of the same split. Loss owns its
// gradient, softmax cache and Metrics map, valid until the next Loss.
// After Init, Batch and Loss allocate nothing.
package maskedlm
