// Package blas is attnlab's single-precision matrix multiplication: the hot
// path of every transformer kernel.
//
// Gemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, where
// op(X) is X or Xᵀ. It follows the GotoBLAS/BLIS design: the K dimension is
// cut into blocks of kc, each kc×m slice of op(A) is packed once into
// micro-panels of mr rows, each kc×nc block of op(B) is packed into
// micro-panels of nr columns sized to stay in the L2 cache, and a register
// micro-kernel computes one mr×nr tile of C from one panel of each.
//
// Micro-kernels (chosen at start-up by CPU feature, see kernel.go):
//
//	avx512  12×32 tile, 24 zmm accumulators, two 512-bit FMAs per A value;
//	        8×32 where it tiles m exactly (avx512x8); and 16×16
//	        (avx512x16n16) for products at most 16 columns wide (head
//	        dimension 16), which reads the first half of 32-wide packed
//	        panels and takes A by embedded broadcast, one FMA per A value
//	avx2     6×16 tile, 12 ymm accumulators (Haswell and later, Zen 1-4)
//	generic  4×4 tile in pure Go, for other CPUs and the `purego` build tag
//
// Where the GotoBLAS recipe bends: A is read in place, without packing,
// unless its stride would crowd a micro-panel into a few of the L1's sets
// (packRowsA for a row-major A, packStepsA for one stored transposed); a
// row-major B is read in place too when C is short (at most 512 rows, a
// weight gradient's), because each of its blocks then serves too few row
// tiles to repay a copy (readsBInPlace);
// transposed B panels are built by 8×8 register transposes; and GemmBias
// adds a linear layer's bias as the micro-kernel first stores each tile,
// so the output is written once instead of being filled and read back.
//
// Building with -tags purego forces the generic kernel; tests run every
// kernel the CPU supports against GemmNaive, the triple loop kept beside the
// fast path as the oracle.
//
// Determinism: work is cut into parts that depend only on (m, n, k) and the
// kernel's tile sizes, never on the thread count, and every element of C is
// accumulated in the same order whichever goroutine computes it, so results
// are bit-identical for any parallel.SetThreads or GOMAXPROCS value.
//
// Memory: packing buffers are kept in a package-level free list and reused,
// so a warmed-up Gemm call allocates nothing.
//
// Subnormals: the assembly micro-kernels run with MXCSR's DAZ and FTZ bits
// set (restoring the caller's MXCSR before they return), so subnormal
// operands count as zero and subnormal results are stored as zero. On
// Intel cores a multiply with a subnormal operand or result takes a
// microcode assist: a 256×256 product whose A is half subnormal took
// 10 ms against 0.1 with zeros, and a trained model's sharp attention
// fills its probabilities and gradients with such values (the reference
// model's trial step slowed from 28 to 130 ms after about 350 steps of
// BenchmarkTrialStep's configuration; with flushing it stays within 10%).
// The values dropped are below 2^-126, under float32's resolution of any
// sum whose terms are not all that small. The generic kernel (purego,
// other architectures) computes with subnormals as they are, so on inputs
// holding them its results may differ from the assembly's by such values.
package blas
