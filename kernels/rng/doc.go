// Package rng is attnlab's deterministic random number generator.
//
// Reproducibility is a feature of attnlab, so the generator is specified
// here rather than borrowed from a library whose algorithms may change:
//
//   - The core is SplitMix64 (Steele, Lea and Flood, "Fast splittable
//     pseudorandom number generators", OOPSLA 2014): a 64-bit counter advanced
//     by the golden-ratio increment 0x9e3779b97f4a7c15 and passed through a
//     fixed 64-bit finaliser. It passes BigCrush and costs a few cycles.
//   - Split(key) derives an independent stream from a stream's seed and a
//     key without consuming values from the parent, so a trial seed can be
//     split per layer, per worker or per purpose ("init", "dropout", "data")
//     and the values each stream produces never depend on how many values
//     another stream drew, or in which order goroutines ran.
//   - Float32 returns the top 24 bits scaled by 2^-24: uniform on [0, 1).
//   - Normal uses the Box-Muller transform in float64 and returns both
//     values of each pair in turn.
//   - Perm is the Fisher-Yates shuffle driven by Intn, which uses Lemire's
//     multiply-shift rejection method (unbiased).
//
// The same seed gives the same sequence on every platform and Go version.
package rng
