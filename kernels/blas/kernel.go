package blas

// microKernel computes mt rows of np mr×nr tiles of C, tile (r, t) (rows
// r·mr on, columns t·nr on) from A's rows r·mr on and its own B
// micro-panel:
//
//	C[(r*mr+i)*ldc+t*nr+j] (+)= sum_{p<k} A[r*anext+i,p] * b[t*bnext+p*ldb+j]
//
// where A[i,p] = a[i*rs + p*cs] and anext moves to the next row of tiles
// (mr·k for packed panels, mr·lda for a matrix read in place, counted as
// in a). A B micro-panel is k steps of nr values, ldb apart: packed (ldb
// the packed step, panels bnext = ldb·k apart) or columns of a row-major
// B read in place (ldb its row stride, bnext = nr). A's strides let a
// packed A micro-panel (rs=1, cs=mr), a transposed matrix (rs=1, cs=lda)
// and a row-major matrix (rs=lda, cs=1) all be read in place. The kernel
// reads all mr rows: the caller packs edge panels so that no read goes
// past its operand. With acc == 0 the tiles are overwritten, with 1
// added, and with 2 overwritten by the sum plus bias[t*nr+j] (bias is read
// only then). One call covers every full tile of a block: the loops over
// them run in the kernel, not through a Go call per tile (BenchmarkTrialStep,
// 1 thread: 2.5% less time a step; flash attention at 4096 tokens and head
// dimension 16, whose score products are 16 steps long: 5%).
type microKernel struct {
	name   string
	mr, nr int
	kc, nc int // K block and B block width, sized for L1/L2
	fn     func(k int, a *float32, rs, cs int, b *float32, ldb, bnext int, c *float32, ldc int, acc int, bias *float32, np, mt, anext int)
	// alt, if set, is a kernel with fewer rows but the same nr and kc (so
	// the same packed B), used by MulPacked when it fits m exactly and the
	// main kernel would leave a partial edge panel.
	alt *microKernel
	// half, if set, is a kernel nr/2 wide with the same kc that reads the
	// first nr/2 columns of B micro-panels packed nr wide, used by
	// MulPacked and Gemm when n <= nr/2. Each element of C sees the same operations
	// as under the full-width kernel (a sum from zero in k order, then
	// stored or added), so results do not depend on which of the two ran.
	half *microKernel
	// step is the width of the packed B micro-panels the kernel reads
	// (floats per k step); 0 means nr.
	step int
}

// bstep is the width B must be packed with for kern.
func (k *microKernel) bstep() int {
	if k.step != 0 {
		return k.step
	}
	return k.nr
}

// altFits reports whether Gemm serves m rows better with the alt kernel:
// when altExact, and the main kernel's edge would be one of fewer than 16
// panels. With more, the
// edge costs less than the alt kernel's lower speed (8 rows at a time
// against 12): BenchmarkLinearShapes' weight gradients, m = 128: 101 ->
// 110 GFLOP/s with alt; m = 512: 105 -> 103. (MulPacked, whose products
// are short in k, prefers alt at any m: flash attention's m = 512 score
// blocks ran 3% slower on the main kernel.)
func (k *microKernel) altFits(m int) bool {
	return k.altExact(m) && m < 16*k.mr
}

// altExact reports whether m rows fill the alt kernel's panels exactly but
// would leave the main kernel an edge panel.
func (k *microKernel) altExact(m int) bool {
	return k.alt != nil && m%k.mr != 0 && m%k.alt.mr == 0
}

// forWidth returns the kernel to use for a product n columns wide.
func (k *microKernel) forWidth(n int) *microKernel {
	if k.half != nil && n <= k.half.nr {
		return k.half
	}
	return k
}

// kernels lists the micro-kernels this CPU can run, fastest first; the first
// is used unless a test selects another with useKernel.
var kernels []*microKernel

var active *microKernel

func init() {
	kernels = append(kernels, asmKernels()...)
	kernels = append(kernels, genericKernel)
	active = kernels[0]
}

// KernelName names the micro-kernel in use ("avx512", "avx2" or "generic").
func KernelName() string { return active.name }

// useKernel selects a micro-kernel by name and returns the previous one's
// name; tests use it to run every path. It is not safe to call while a Gemm
// is running.
func useKernel(name string) (prev string, ok bool) {
	prev = active.name
	for _, k := range kernels {
		if k.name == name {
			active = k
			return prev, true
		}
	}
	return prev, false
}

var genericKernel = &microKernel{name: "generic", mr: 4, nr: 4, kc: 256, nc: 256, fn: kernel4x4Go}

// kernel4x4Go is the pure-Go micro-kernel: 16 scalar accumulators.
func kernel4x4Go(k int, ap *float32, rs, cs int, bp *float32, ldb, bnext int, cp *float32, ldc int, acc int, bias *float32, np, mt, anext int) {
	for r := range mt {
		ar, cr := &unsafeSlice(ap, r*anext+1)[r*anext], &unsafeSlice(cp, 4*r*ldc+1)[4*r*ldc]
		for t := range np {
			var bt *float32
			if acc == 2 {
				bt = &unsafeSlice(bias, 4*np)[4*t]
			}
			tile4x4Go(k, ar, rs, cs, &unsafeSlice(bp, t*bnext+1)[t*bnext], ldb, &unsafeSlice(cr, 4*t+1)[4*t], ldc, acc, bt)
		}
	}
}

// tile4x4Go is one tile of kernel4x4Go.
func tile4x4Go(k int, ap *float32, rs, cs int, bp *float32, ldb int, cp *float32, ldc int, acc int, bias *float32) {
	a := unsafeSlice(ap, 3*rs+(k-1)*cs+1)
	b := unsafeSlice(bp, max(0, (k-1)*ldb+4))
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		o := p * cs
		bb := b[p*ldb : p*ldb+4 : p*ldb+4]
		a0, a1, a2, a3 := a[o], a[o+rs], a[o+2*rs], a[o+3*rs]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	c := unsafeSlice(cp, 3*ldc+4)
	rows := [4][4]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}}
	for i := range 4 {
		r := c[i*ldc : i*ldc+4 : i*ldc+4]
		switch acc {
		case 2:
			bb := unsafeSlice(bias, 4)
			r[0], r[1], r[2], r[3] = rows[i][0]+bb[0], rows[i][1]+bb[1], rows[i][2]+bb[2], rows[i][3]+bb[3]
		case 1:
			r[0] += rows[i][0]
			r[1] += rows[i][1]
			r[2] += rows[i][2]
			r[3] += rows[i][3]
		default:
			r[0], r[1], r[2], r[3] = rows[i][0], rows[i][1], rows[i][2], rows[i][3]
		}
	}
}
