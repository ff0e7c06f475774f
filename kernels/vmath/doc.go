// Package vmath holds vectorised element-wise kernels over float32 slices:
// exp, the fused max-subtract-exp-sum at the heart of softmax, dot products
// and axpy, column versions of them for the transposed probability blocks
// of attention, and GELU (tanh and erf forms) with its derivative, fused
// around the same exp. Exponentials dominate attention and activation time
// unless they are vectorised.
//
// # Paths
//
// Exp, ExpSubSum, the GELU kernels and the column operations have three
// implementations, chosen once at start-up: AVX-512 (16 lanes) if the CPU
// has it, else AVX2 with FMA (8 lanes: Intel Haswell and later, AMD Zen
// 1-3), else pure Go, which is the only path on other architectures and
// under the purego build tag. The tests run every path the machine
// supports. Exp and ExpSubSum vectorise the longest prefix whose length is
// a multiple of 16 (AVX-512 only), then of 8, and do the last few elements
// in Go. The GELU kernels split the same way but run the last few elements
// through the 8-lane kernel in a padded buffer, so every element gets the
// same bits wherever it lies (gelu.go and geluerf.go describe them). The
// column operations use assembly when the width is a multiple of 8: the
// AVX2 path in 8-column strips, the AVX-512 path in 16-column strips and,
// when the width is an odd multiple of 8, one last 8-column AVX2 strip.
//
// # Exp
//
// Exp follows Cephes expf: x = n·ln2 + r with |r| <= ln2/2, n rounded to
// nearest, ln2 split into a high and a low part so that r is exact, and
// exp(r) ≈ 1 + r + r²·P(r) with a degree-5 minimax polynomial P. Every
// path is within 1 ulp of the correctly rounded float32 result where that
// is normal, and within 2^-149 (one unit of the smallest subnormal) where
// it is subnormal (TestExpSweep, about two million inputs). The AVX2 and
// AVX-512 paths give identical bits; the Go path, which computes without
// fused multiply-adds and hands the extremes to math.Exp, can differ from
// them by that much.
//
// At the edges every path gives:
//
//   - exp(NaN) = NaN. A NaN in ExpSubSum's input, or a NaN m, therefore
//     makes its sum NaN, as does +Inf - +Inf.
//   - exp(x) = +Inf for x >= 88.72283935546875 (bits 0x42b17218) and for
//     +Inf; the float32 below it, 88.72283172607422, gives 3.40279e38.
//   - Subnormal results, not zero, for -103.97 < x < -87.33654 (where
//     exp(x) < 2^-126): the vector paths clamp x to [-104, 88.72283935546875]
//     and scale by 2^n with a single rounding (VSCALEFPS on AVX-512; on
//     AVX2, adding n>>1 to the exponent bits and multiplying by 2^(n-n>>1),
//     so that no step leaves the normal range). Results round to 0 below
//     -103.972 (exp(x) < 2^-150), so exp(x) = 0 for x <= -104 and for -Inf.
//   - exp(±0) = 1 exactly, and exp(x) = 1 for |x| < 2^-25.
//
// The column operations follow the same rules; MaxCols skips NaN elements
// (see its comment).
//
// # Exp2SubCols
//
// The column exponential also comes in base 2, for softmaxes whose scores
// carry log2(e) (attention folds it into the query scale): Cephes exp2f,
// x clamped to [-150, 128], n = x rounded to nearest, f = x - n exact,
// 2^f = 1 + f·P(f) with P of degree 5, then the same single-rounding
// scaling by 2^n as Exp. Twelve operations a vector against eighteen: 0.161
// against 0.211 ns per element on a 512×32 block (BenchmarkExpSubCols).
// The same accuracy bound as Exp (TestExp2SubColsSweep over a million
// inputs in [-160, 130]), the AVX2 and AVX-512 paths bit for bit alike,
// 2^NaN = NaN, 2^x = +Inf from 128, 0 at and below -150 and for -Inf.
package vmath
