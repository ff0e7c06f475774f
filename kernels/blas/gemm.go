package blas

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/attnlab/attnlab/kernels/parallel"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(A) is m×k and op(B) is k×n. With transA, A is stored
// k×m; with transB, B is stored n×k. lda, ldb and ldc are the row strides.
// beta == 0 overwrites C (NaNs in C do not propagate); beta == 1
// accumulates. Gemm panics if the slices are too short for the dimensions.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("Gemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	gemm(active, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// GemmBias computes C = alpha·op(A)·op(B) + bias, bias (n values) added to
// every row. The micro-kernel adds it as it first stores each tile, so C
// is written once, never filled with the bias and read back; the result
// is bit for bit that of filling C's rows with bias and calling Gemm with
// beta 1 (each element is the bias plus the same sums, in the same order).
func GemmBias(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, bias []float32, c []float32, ldc int) {
	checkGemm("GemmBias", transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if len(bias) < n {
		panic(fmt.Sprintf("blas.GemmBias: bias has %d values, C has %d columns", len(bias), n))
	}
	gemm(active, transA, transB, m, n, k, alpha, a, lda, b, ldb, 0, c, ldc, bias[:n])
}

// GemmStrided runs batch independent Gemms whose matrices start every
// strideA, strideB and strideC elements. The batch is split across threads
// when each product is small; results are identical either way.
func GemmStrided(transA, transB bool, batch, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int) {
	for i := range batch {
		checkGemm("GemmStrided", transA, transB, m, n, k, a[i*strideA:], lda, b[i*strideB:], ldb, c[i*strideC:], ldc)
	}
	if batch == 0 {
		return
	}
	// Large products parallelise internally; small ones run one per part.
	if m*n*k >= 1<<21 {
		for i := range batch {
			gemm(active, transA, transB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc, nil)
		}
		return
	}
	j := batchJobs.Get()
	*j = batchJob{kern: active, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, sa: strideA, b: b, ldb: ldb, sb: strideB, beta: beta, c: c, ldc: ldc, sc: strideC}
	parallel.Do(batch, j)
	*j = batchJob{}
	batchJobs.Put(j)
}

type batchJob struct {
	kern           *microKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	sa, sb, sc     int
}

func (j *batchJob) Run(i int) {
	gemmSerial(j.kern, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a[i*j.sa:], j.lda, j.b[i*j.sb:], j.ldb, j.beta, j.c[i*j.sc:], j.ldc, nil)
}

// gemmJob is one Gemm call's state; parts index (i-range, j-block) pairs
// in phase "compute" and groups of A panels in phase "pack".
type gemmJob struct {
	kern           *microKernel
	transA, transB bool
	m, n, k        int
	alpha          float32
	a, b, c        []float32
	lda, ldb, ldc  int

	bias []float32 // GemmBias's, or nil

	phase int // phasePackA, phasePackB or phaseCompute
	apack []float32
	bpack []float32 // op(B)'s K block, all columns, packed once and shared
	// bInPlace: the micro-kernel reads B where it lies (readsBInPlace).
	bInPlace bool
	p0, kb   int
	acc      int
	ni, nj   int // part grid: ni row ranges × nj column blocks
	rowsPer  int // rows per row range (multiple of mr)
}

const (
	panelsPerPackPart = 8
	phasePackA        = iota
	phasePackB
	phaseCompute
)

var (
	gemmJobs  parallel.FreeList[gemmJob]
	batchJobs parallel.FreeList[batchJob]
)

// gemm is Gemm (bias nil) and GemmBias (bias non-nil, beta 0).
func gemm(kern *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) {
	if m == 0 || n == 0 {
		return
	}
	if bias != nil && (k == 0 || alpha == 0) {
		fillRows(m, bias, c, ldc)
		return
	}
	if kern.alt != nil && (!transA && packRowsA(lda, kern.mr) && !packRowsA(lda, kern.alt.mr) || kern.altFits(m)) {
		kern = kern.alt
	}
	kern = kern.forWidth(n)
	if k == 0 || alpha == 0 || beta != 0 && beta != 1 {
		scaleC(m, n, beta, c, ldc)
		if k == 0 || alpha == 0 {
			return
		}
		beta = 1
	}
	j := gemmJobs.Get()
	*j = gemmJob{kern: kern, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, bias: bias}
	mr := kern.mr
	mPanels := (m + mr - 1) / mr
	j.nj = (n + kern.nc - 1) / kern.nc
	// Enough parts for two cores to balance, chosen from the shape alone.
	j.ni = min(mPanels, max(1, (8+j.nj-1)/j.nj))
	if m*n*k < 1<<18 {
		j.ni, j.nj = 1, 1 // too small to be worth a second core
	}
	j.rowsPer = ((mPanels + j.ni - 1) / j.ni) * mr
	j.ni = (m + j.rowsPer - 1) / j.rowsPer
	if j.ni*j.nj == 1 {
		gemmJobs.Put(j)
		gemmSerial(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias)
		return
	}
	j.bInPlace = readsBInPlace(kern, transB, m, n, alpha)
	packing := packsA(kern, transA, lda, n, j.bInPlace)
	if packing {
		j.apack = getBuf(mPanels * mr * kern.kc)
	}
	bw := kern.bstep()
	nPanels := (n + bw - 1) / bw
	if !j.bInPlace {
		j.bpack = getBuf(nPanels * bw * kern.kc)
	}
	for p0 := 0; p0 < k; p0 += kern.kc {
		j.p0, j.kb = p0, min(kern.kc, k-p0)
		j.acc = firstAcc(p0, beta, bias)
		if packing {
			j.phase = phasePackA
			parallel.Do((mPanels+panelsPerPackPart-1)/panelsPerPackPart, j)
		}
		// Every row range reads the same B block: pack it once.
		if !j.bInPlace {
			j.phase = phasePackB
			parallel.Do((nPanels+panelsPerPackPart-1)/panelsPerPackPart, j)
		}
		j.phase = phaseCompute
		parallel.Do(j.ni*j.nj, j)
	}
	putBuf(j.bpack)
	putBuf(j.apack)
	*j = gemmJob{}
	gemmJobs.Put(j)
}

func (j *gemmJob) Run(part int) {
	mr, nr, kb := j.kern.mr, j.kern.bstep(), j.kb
	switch j.phase {
	case phasePackA:
		r0 := part * panelsPerPackPart * mr
		rows := min(panelsPerPackPart*mr, j.m-r0)
		packA(j.apack[r0*kb:], j.transA, j.a, j.lda, r0, rows, j.p0, kb, mr, 1)
		return
	case phasePackB:
		c0 := part * panelsPerPackPart * nr
		cols := min(panelsPerPackPart*nr, j.n-c0)
		dst := j.bpack[c0*kb : (c0+(cols+nr-1)/nr*nr)*kb]
		packB(dst, j.transB, j.b, j.ldb, j.p0, kb, c0, cols, nr, j.alpha)
		return
	}
	pi, pj := part/j.nj, part%j.nj
	i0 := pi * j.rowsPer
	rows := min(j.rowsPer, j.m-i0)
	jc := pj * j.kern.nc
	cols := min(j.kern.nc, j.n-jc)
	sp := getScratch(scratchLen(j.kern))
	scratch := *sp
	src := inPlaceA(j.transA, j.a, j.lda, j.p0)
	src.apack = j.apack
	var bsrc bSource
	if j.bInPlace {
		bsrc = inPlaceB(j.b, j.ldb, j.p0, jc, nr)
	} else {
		bsrc = packedB(j.bpack[jc*kb:], nr, kb)
	}
	macroKernel(j.kern, src, i0, bsrc, rows, cols, kb, j.c[i0*j.ldc+jc:], j.ldc, j.acc, biasFrom(j.bias, jc), scratch)
	putScratch(sp)
}

// aSource says where the micro-kernel reads A for one K block (columns
// from p0): from packed panels (apack, rows from 0), or in place through
// strides, A[i,p] = a[i*rs + p*cs]. A stored transposed (k×m, rs=1,
// cs=lda) is read in place: each step's mr values are contiguous, which is
// already the packed layout with a longer step, unless that step would put
// a K block's steps into a few L1 sets (packStepsA). A stored row-major
// (rs=lda, cs=1) is read in place too (mr row cursors) unless its row
// stride would map the mr rows onto a few L1 sets (strides of 4 KiB and
// the like, packRowsA). Gemm packs A first in those two cases.
type aSource struct {
	apack  []float32 // nil: read in place
	a      []float32
	rs, cs int
	p0     int
}

func inPlaceA(transA bool, a []float32, lda, p0 int) aSource {
	if transA {
		return aSource{a: a, rs: 1, cs: lda, p0: p0}
	}
	return aSource{a: a, rs: lda, cs: 1, p0: p0}
}

// packsA reports whether Gemm packs A (see aSource) for a product n
// columns wide whose B is read in place (bInPlace) or packed. A stored
// transposed with crowded steps is not packed when B is read in place and
// each A micro-panel serves at most 8 B micro-panels: the copy then costs
// more than the L1 misses it saves (a weight gradient dW = dYᵀ·X at 512
// output and 128 input features: 2.70 ms in place against 3.10 packed;
// at 512 inputs, packed 11.0–12.2 against 11.3–12.9; medians of 60 calls
// alternating the two, caches flushed before each).
func packsA(kern *microKernel, transA bool, lda, n int, bInPlace bool) bool {
	if transA {
		return packStepsA(lda) && !(bInPlace && n <= 8*kern.nr)
	}
	return packRowsA(lda, kern.mr)
}

// packStepsA reports whether A stored transposed (each k step's values
// contiguous, steps lda apart) must be packed: true when a K block's steps
// fall into at most 4 of the L1's 64 sets, so that the micro-panel, read
// once for every B micro-panel, cannot stay in L1 (lda a multiple of 512:
// a weight gradient's dYᵀ at 512 or 2048 features). Measured
// (BenchmarkLinearShapes, dW at 2048×512): 81 -> 93 GFLOP/s; at 8 sets
// and more (lda 128, 384) packing costs more than it saves.
func packStepsA(lda int) bool {
	var seen [64]bool
	sets := 0
	for p := range 256 {
		set := (p * lda * 4 / 64) % 64
		if !seen[set] {
			seen[set] = true
			sets++
		}
	}
	return sets <= 4
}

// packRowsA reports whether a row-major A with row stride lda must be
// packed: true when more than 4 of the kernel's mr rows fall into the same
// set of a 32 KiB, 8-way L1 (64 sets of 64-byte lines).
func packRowsA(lda, mr int) bool {
	var count [64]int
	for i := range mr {
		set := (i * lda * 4 / 64) % 64
		count[set]++
		if count[set] > 4 {
			return true
		}
	}
	return false
}

// gemmSerial is the single-goroutine driver, used for small products and
// inside batched jobs.
func gemmSerial(kern *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 || beta != 0 && beta != 1 {
		scaleC(m, n, beta, c, ldc)
		if k == 0 || alpha == 0 {
			return
		}
		beta = 1
	}
	kern = kern.forWidth(n)
	mr, bw := kern.mr, kern.bstep()
	mPanels := (m + mr - 1) / mr
	kcb := min(kern.kc, k)
	ncPad := (kern.nc + bw - 1) / bw * bw // a B block's packed width
	inPlace := readsBInPlace(kern, transB, m, n, alpha)
	var apack []float32
	packing := packsA(kern, transA, lda, n, inPlace)
	if packing {
		apack = getBuf(mPanels * mr * kcb)
	}
	var bpack []float32
	if !inPlace {
		bpack = getBuf(ncPad * kcb)
	}
	sp := getScratch(scratchLen(kern))
	scratch := *sp
	for p0 := 0; p0 < k; p0 += kern.kc {
		kb := min(kern.kc, k-p0)
		acc := firstAcc(p0, beta, bias)
		if packing {
			packA(apack, transA, a, lda, 0, m, p0, kb, mr, 1)
		}
		src := inPlaceA(transA, a, lda, p0)
		src.apack = apack
		for jc := 0; jc < n; jc += kern.nc {
			cols := min(kern.nc, n-jc)
			var bsrc bSource
			if inPlace {
				bsrc = inPlaceB(b, ldb, p0, jc, bw)
			} else {
				packB(bpack, transB, b, ldb, p0, kb, jc, cols, bw, alpha)
				bsrc = packedB(bpack, bw, kb)
			}
			macroKernel(kern, src, 0, bsrc, m, cols, kb, c[jc:], ldc, acc, biasFrom(bias, jc), scratch)
		}
	}
	putScratch(sp)
	putBuf(bpack)
	putBuf(apack)
}

// macroKernel multiplies rows [i0, i0+rows) of op(A) for one K block by a
// B block (kb×cols) into C (whose first row is row i0), mr×nr tiles in
// rows of tiles; acc is the micro-kernel's (2: plus bias, whose first
// value is column 0's). Each row's A micro-panel stays in L1 while the B
// micro-panels stream from L2. The full tiles go to the micro-kernel in one
// call, which loops over them itself; edge tiles go through a scratch
// tile computed by the same micro-kernel, so every element sees the same
// sequence of operations wherever tile boundaries fall.
func macroKernel(kern *microKernel, src aSource, i0 int, bsrc bSource, rows, cols, kb int, c []float32, ldc int, acc int, bias []float32, scratch []float32) {
	mr, nr := kern.mr, kern.nr
	tile, edge := scratch[:mr*nr], scratch[mr*nr:]
	full, mt := cols/nr, rows/mr // full tiles in a row, rows of full height
	if full > 0 && mt > 0 {
		// The index expressions check that the kernel stays inside A, B,
		// C and the bias.
		var ap *float32
		rs, cs, anext := 1, mr, mr*kb
		if src.apack != nil {
			o := (i0 / mr) * mr * kb // i0 is a whole number of panels
			_ = src.apack[o+mt*mr*kb-1]
			ap = &src.apack[o]
		} else {
			rs, cs, anext = src.rs, src.cs, mr*src.rs
			_ = src.a[(i0+mt*mr-1)*src.rs+(src.p0+kb-1)*src.cs]
			ap = &src.a[i0*src.rs+src.p0*src.cs]
		}
		_ = bsrc.b[(full-1)*bsrc.panel+(kb-1)*bsrc.ldb+nr-1]
		_ = c[(mt*mr-1)*ldc+full*nr-1]
		var bb *float32
		if acc == 2 {
			bb = &bias[:full*nr][0]
		}
		kern.fn(kb, ap, rs, cs, &bsrc.b[0], bsrc.ldb, bsrc.panel, &c[0], ldc, acc, bb, full, mt, anext)
	}
	for i := 0; i < rows; i += mr {
		h := min(mr, rows-i)
		jj := 0
		if h == mr {
			jj = full * nr // done above
		}
		if jj >= cols {
			continue
		}
		var ap *float32
		rs, cs := 1, mr
		switch {
		case src.apack != nil:
			ap = &src.apack[((i0+i)/mr)*mr*kb]
		case h < mr:
			// Pack the edge rows so that the kernel reads nothing past A.
			for p := range kb {
				row := edge[p*mr : p*mr+mr]
				for ii := range h {
					row[ii] = src.a[(i0+i+ii)*src.rs+(src.p0+p)*src.cs]
				}
				clear(row[h:])
			}
			ap = &edge[0]
		default:
			ap, rs, cs = &src.a[(i0+i)*src.rs+src.p0*src.cs], src.rs, src.cs
		}
		// Edge tiles, one at a time through the scratch tile. bo steps
		// through the B micro-panels (a running offset: jj/nr would
		// divide by a variable on every tile).
		for bo := (jj / nr) * bsrc.panel; jj < cols; jj, bo = jj+nr, bo+bsrc.panel {
			w := min(nr, cols-jj)
			kern.fn(kb, ap, rs, cs, &bsrc.b[bo], bsrc.ldb, bsrc.panel, &tile[0], nr, 0, nil, 1, 1, 0)
			for ii := range h {
				dst := c[(i+ii)*ldc+jj : (i+ii)*ldc+jj+w]
				srcRow := tile[ii*nr : ii*nr+w]
				switch acc {
				case 2:
					for x, v := range srcRow {
						dst[x] = v + bias[jj+x]
					}
				case 1:
					for x, v := range srcRow {
						dst[x] += v
					}
				default:
					copy(dst, srcRow)
				}
			}
		}
	}
}

// bSource says where the micro-kernel reads one K block of B: micro-panel
// q starts at b[q*panel] and its steps are ldb apart. Packed, the panels
// follow one another (ldb the packed step, panel = ldb·kb); read in place
// from a row-major B, panel q is columns q·nr on (ldb B's row stride,
// panel = nr).
type bSource struct {
	b          []float32
	ldb, panel int
}

// packedB is a packed B block: micro-panels of kb steps of step floats,
// one after another.
func packedB(bp []float32, step, kb int) bSource {
	return bSource{b: bp, ldb: step, panel: step * kb}
}

// inPlaceB is K block p0 of a row-major B (row stride ldb) read in place
// from column jc on: micro-panels nr columns apart.
func inPlaceB(b []float32, ldb, p0, jc, nr int) bSource {
	return bSource{b: b[p0*ldb+jc:], ldb: ldb, panel: nr}
}

// inPlaceBOK lets Gemm read a row-major B in place (readsBInPlace);
// tests and benchmarks turn it off to compare with packing.
var inPlaceBOK = true

// readsBInPlace reports whether Gemm's micro-kernel reads B where it lies
// instead of packing it: B row-major (each step's nr values contiguous,
// already a micro-panel with a longer step), not scaled, no edge panel
// (the kernel would read past B's last column), and C short enough (m
// rows) that each B block is read by few row tiles, so that packing would
// not pay for itself.
func readsBInPlace(kern *microKernel, transB bool, m, n int, alpha float32) bool {
	return inPlaceBOK && !transB && alpha == 1 && kern.step == 0 && n%kern.nr == 0 && m <= maxInPlaceBRows
}

// maxInPlaceBRows is the tallest C for which Gemm reads B in place.
const maxInPlaceBRows = 512

// firstAcc is the micro-kernel's acc for the K block at p0: the first
// block stores (plus the bias, if any) when beta is 0; the others add.
func firstAcc(p0 int, beta float32, bias []float32) int {
	switch {
	case p0 > 0 || beta != 0:
		return 1
	case bias != nil:
		return 2
	}
	return 0
}

// biasFrom is the bias of the columns from jc (nil without a bias).
func biasFrom(bias []float32, jc int) []float32 {
	if bias == nil {
		return nil
	}
	return bias[jc:]
}

// fillRows sets each of C's m rows to bias.
func fillRows(m int, bias, c []float32, ldc int) {
	for i := range m {
		copy(c[i*ldc:i*ldc+len(bias)], bias)
	}
}

// scratchLen is the size of macroKernel's scratch: an edge tile of C and
// an edge panel of A.
func scratchLen(kern *microKernel) int { return kern.mr*kern.nr + kern.mr*kern.kc }

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for x := range row {
			row[x] *= beta
		}
	}
}

// Packing buffers live in a free list that is never emptied, unlike
// sync.Pool whose contents the GC may drop, so steady-state calls do not
// allocate.
var (
	bufMu   sync.Mutex
	bufFree [][]float32
)

func getBuf(n int) []float32 {
	bufMu.Lock()
	defer bufMu.Unlock()
	// Best fit: the smallest free buffer that is large enough, so each
	// call site keeps getting the same buffer and its pages stay hot.
	best := -1
	for i, b := range bufFree {
		if cap(b) >= n && (best < 0 || cap(b) < cap(bufFree[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := bufFree[best]
		bufFree = append(bufFree[:best], bufFree[best+1:]...)
		return b[:n]
	}
	return make([]float32, n)
}

func putBuf(b []float32) {
	if b == nil {
		return // a buffer that was never taken
	}
	bufMu.Lock()
	bufFree = append(bufFree, b[:cap(b)])
	bufMu.Unlock()
}

// The micro-kernel's scratch (an mr×nr tile and a packed mr×kc panel of A,
// a few KiB) is taken for every small product, hundreds of thousands of
// times in one tiled attention backward, from every worker at once: a
// mutex there was a measurable share of the time on two threads. So the
// scratches live in a few slots taken and returned with one atomic swap
// each; like bufFree, the slots are never emptied by the GC.
var scratchSlots [16]atomic.Pointer[[]float32]

// getScratch returns a scratch of length n; give it back with putScratch.
func getScratch(n int) *[]float32 {
	for i := range scratchSlots {
		if b := scratchSlots[i].Swap(nil); b != nil {
			if cap(*b) >= n {
				*b = (*b)[:n]
				return b
			}
			scratchSlots[i].CompareAndSwap(nil, b)
		}
	}
	b := make([]float32, n)
	return &b
}

func putScratch(b *[]float32) {
	for i := range scratchSlots {
		if scratchSlots[i].CompareAndSwap(nil, b) {
			return
		}
	}
}
