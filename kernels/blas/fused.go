package blas

import "fmt"

// This file is the packed interface for fused kernels (attention): the
// caller packs B once with PackB, or lays it out directly as one nr-wide
// panel, and MulPacked multiplies it by an A operand read in place through
// strides, without the copies and parallel dispatch of Gemm. MulPacked is
// serial: fused kernels parallelise over heads themselves.

// Panel returns the active micro-kernel's tile rows (mr), tile columns
// (nr) and K block (kc). A row-major k×nr matrix (stride nr) is a valid
// packed B for n <= nr, which lets a fused kernel write an operand straight
// into packed form.
func Panel() (mr, nr, kc int) { return active.mr, active.nr, active.kc }

// PackedBLen is the length PackB needs for a k×n op(B).
func PackedBLen(k, n int) int {
	nr := active.nr
	return (n + nr - 1) / nr * nr * k
}

// PackB packs alpha·op(B) (k×n; B stored n×k if transB) for MulPacked. The
// layout is blocked by kc: block p0 starts at ceil(n/nr)*nr*p0 and holds
// ceil(n/nr) micro-panels of min(kc, k-p0) steps of nr values, zero-padded
// past column n.
func PackB(dst []float32, transB bool, k, n int, alpha float32, b []float32, ldb int) {
	if len(dst) < PackedBLen(k, n) {
		panic(fmt.Sprintf("blas.PackB: dst has %d elements, a %d×%d packed B needs %d", len(dst), k, n, PackedBLen(k, n)))
	}
	rows, cols := k, n
	if transB {
		rows, cols = n, k
	}
	if ldb < cols || rows > 0 && cols > 0 && len(b) < (rows-1)*ldb+cols {
		panic(fmt.Sprintf("blas.PackB: B is %d×%d with leading dimension %d and needs %d elements, has %d", rows, cols, ldb, (rows-1)*ldb+cols, len(b)))
	}
	nr, kc := active.nr, active.kc
	nPad := (n + nr - 1) / nr * nr
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		blk := dst[nPad*p0 : nPad*p0+nPad*kb]
		packB(blk, transB, b, ldb, p0, kb, 0, n, nr, alpha)
	}
}

// MulPacked computes C (+)= A·B for an m×k A read in place as
// A[i,p] = a[i*rs + p*cs] and a k×n B packed by PackB. With accumulate
// false C is overwritten. It runs on the calling goroutine and allocates
// nothing once warmed up.
func MulPacked(m, n, k int, a []float32, rs, cs int, bp []float32, accumulate bool, c []float32, ldc int) {
	mulPacked("MulPacked", m, n, k, a, rs, cs, bp, accumulate, nil, c, ldc)
}

// MulPackedBias is MulPacked with C overwritten by A·B + bias (n values,
// added to every row as each tile is stored, as GemmBias does): the same
// bits as GemmBias for the same product.
func MulPackedBias(m, n, k int, a []float32, rs, cs int, bp, bias []float32, c []float32, ldc int) {
	if len(bias) < n {
		panic(fmt.Sprintf("blas.MulPackedBias: bias has %d values, C has %d columns", len(bias), n))
	}
	mulPacked("MulPackedBias", m, n, k, a, rs, cs, bp, false, bias[:n], c, ldc)
}

func mulPacked(op string, m, n, k int, a []float32, rs, cs int, bp []float32, accumulate bool, bias []float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	kern := active
	if kern.altExact(m) {
		kern = kern.alt // e.g. head dim 64: 8 full panels instead of 5 and an edge
	}
	nr, kc := kern.nr, kern.kc
	nPad := (n + nr - 1) / nr * nr // the packed layout's width, whichever kernel reads it
	kern = kern.forWidth(n)        // e.g. head dim 16: no FMAs spent on the padding
	if k == 0 {
		switch {
		case bias != nil:
			fillRows(m, bias, c, ldc)
		case !accumulate:
			scaleC(m, n, 0, c, ldc)
		}
		return
	}
	if need := (m-1)*rs + (k-1)*cs + 1; rs < 0 || cs < 0 || len(a) < need {
		panic(fmt.Sprintf("blas.%s: A is %d×%d with strides (%d, %d) and needs %d elements, has %d", op, m, k, rs, cs, need, len(a)))
	}
	if need := PackedBLen(k, n); len(bp) < need {
		panic(fmt.Sprintf("blas.%s: packed B for %d×%d needs %d elements, has %d", op, k, n, need, len(bp)))
	}
	if ldc < n || len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("blas.%s: C is %d×%d with leading dimension %d and needs %d elements, has %d", op, m, n, ldc, (m-1)*ldc+n, len(c)))
	}
	sp := getScratch(scratchLen(kern))
	scratch := *sp
	acc := 0
	switch {
	case bias != nil:
		acc = 2
	case accumulate:
		acc = 1
	}
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		macroKernel(kern, aSource{a: a, rs: rs, cs: cs, p0: p0}, 0, packedB(bp[nPad*p0:], kern.bstep(), kb), m, n, kb, c, ldc, acc, bias, scratch)
		acc = 1
	}
	putScratch(sp)
}
