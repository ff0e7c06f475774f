package nn

import (
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// How the row-wise and element-wise kernels use several threads.
//
// A kernel cuts its rows (or elements, or columns) into parts whose number
// and boundaries depend only on the problem size, never on
// parallel.Threads or GOMAXPROCS, and hands them to parallel.Do. Each part
// writes only its own rows, in the same order of operations as a serial
// run, so results are bit-identical for every thread count. Sums over rows
// (the weight and bias gradients of the norms) are taken per part into
// partial sums and then added up in part order, which depends on the sizes
// alone as well.
//
// Per call state lives in a job struct taken from a free list and
// returned after the call, with its partial-sum buffer kept for the next
// call: a warmed-up kernel allocates nothing. Work of up to partGrain
// elements is a single part, which parallel.Do runs on the calling
// goroutine, so small inputs pay no dispatch.
const (
	// partGrain is the least work, in elements, that a part is given:
	// 16K elements take these kernels roughly 10-60 µs, far more than
	// handing a part to a worker costs.
	partGrain = 1 << 14
	// maxParts bounds the number of parts; larger inputs get larger parts.
	maxParts = 64
	// maxReduceParts bounds the parts of kernels that sum over rows, each
	// of which needs its own partial sums.
	maxReduceParts = 16
)

// span cuts n items (rows, elements or columns) into parts of per items,
// the last possibly shorter.
type span struct{ n, per int }

func (s span) parts() int {
	if s.n <= 0 {
		return 0
	}
	return (s.n + s.per - 1) / s.per
}

// bounds returns the items [lo, hi) of a part.
func (s span) bounds(part int) (lo, hi int) {
	lo = part * s.per
	return lo, min(lo+s.per, s.n)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// rowSpan cuts n rows of c elements into parts of at least partGrain
// elements (or one row, if a row is longer), at most limit of them; the
// last part takes what is left.
func rowSpan(n, c, limit int) span {
	return span{n, max(1, ceilDiv(partGrain, max(c, 1)), ceilDiv(n, limit))}
}

// elemSpan cuts n independent elements into at most maxParts parts, each a
// whole number of chunks, so that only the last part has a tail shorter
// than the vector kernels' blocks. The vmath GELU kernels give an element
// the same bits wherever it lies, so the boundaries never change results.
func elemSpan(n int) span {
	per := max(partGrain, ceilDiv(n, maxParts))
	return span{n, ceilDiv(per, chunk) * chunk}
}

// grow returns buf resliced to n elements, reallocated only if too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// normKind is the kernel a normJob runs.
type normKind uint8

const (
	layerNormFwd normKind = iota
	layerNormBwd
	rmsNormFwd
	rmsNormBwd
)

// normJob is one call of a normalisation kernel; a part is a range of
// rows. The backward kernels write per-part partial sums of their weight
// (and bias) gradients into partial, nvec vectors of c per part, which
// combine adds up in part order.
type normJob struct {
	span
	kind       normKind
	c          int
	eps        float32
	inp, w, b  []float32 // (N, C), (C), (C) or nil
	out        []float32 // forward output (N, C)
	mean, rstd []float32 // (N)
	dout, dinp []float32 // (N, C); dinp may be nil
	dw, db     bool      // whether the backward sums weight and bias gradients
	nvec       int       // partial-sum vectors per part
	partial    []float32 // parts × nvec × C, kept across calls
}

var normJobs parallel.FreeList[normJob]

// newNormJob returns a cleared job for n rows of c, keeping its buffer.
func newNormJob(kind normKind, n, c, limit int) *normJob {
	j := normJobs.Get()
	*j = normJob{span: rowSpan(n, c, limit), kind: kind, c: c, partial: j.partial}
	return j
}

// run runs every part and releases the job. A backward given dw or db
// (the weight and bias gradients, nil if not wanted) sums them per part
// into partial vectors 0 and 1 and adds those to dw and db.
func (j *normJob) run(dw, db []float32) {
	j.dw, j.db = dw != nil, db != nil
	if j.dw || j.db {
		j.nvec = 1
		if j.db {
			j.nvec = 2
		}
		j.partial = grow(j.partial, j.parts()*j.nvec*j.c)
	}
	parallel.Do(j.parts(), j)
	if j.parts() > 0 { // no rows: nothing to add
		if dw != nil {
			j.combine(dw, 0)
		}
		if db != nil {
			j.combine(db, 1)
		}
	}
	*j = normJob{partial: j.partial[:0]}
	normJobs.Put(j)
}

// vec returns partial-sum vector v of a part, cleared.
func (j *normJob) vec(part, v int) []float32 {
	off := (part*j.nvec + v) * j.c
	p := j.partial[off : off+j.c]
	clear(p)
	return p
}

// combine adds the parts' vector v into dst: the parts are summed in
// order into part 0's vector, which is then added to dst.
func (j *normJob) combine(dst []float32, v int) {
	c, stride := j.c, j.nvec*j.c
	acc := j.partial[v*c : v*c+c]
	for p := 1; p < j.parts(); p++ {
		pv := j.partial[p*stride+v*c : p*stride+v*c+c]
		for i, x := range pv {
			acc[i] += x
		}
	}
	dst = dst[:c]
	for i, x := range acc {
		dst[i] += x
	}
}

func (j *normJob) Run(part int) {
	lo, hi := j.bounds(part)
	var pw, pb []float32
	if j.dw {
		pw = j.vec(part, 0)
	}
	if j.db {
		pb = j.vec(part, 1)
	}
	switch j.kind {
	case layerNormFwd:
		j.layerNormForward(lo, hi)
	case layerNormBwd:
		j.layerNormBackward(lo, hi, pw, pb)
	case rmsNormFwd:
		j.rmsNormForward(lo, hi)
	case rmsNormBwd:
		j.rmsNormBackward(lo, hi, pw)
	}
}

// elemKind is the kernel an elemJob runs.
type elemKind uint8

const (
	geluTanhFwd elemKind = iota
	geluTanhBwd
	geluErfFwd
	geluErfBwd
	residualFwd
	residualBwd
)

// elemJob is one call of an element-wise kernel; a part is a range of
// elements, a whole number of chunks.
type elemJob struct {
	span
	kind elemKind
	x, y []float32 // inputs: inp and dout, or a and b
	out  []float32 // forward output
	d, e []float32 // backward outputs (accumulated); e only for the residual
	set  bool      // the GELU backward overwrites d: each part clears its range first
}

var elemJobs parallel.FreeList[elemJob]

// runElem runs an element-wise kernel over len(j.x) elements and releases
// the job.
func runElem(j *elemJob) {
	j.span = elemSpan(len(j.x))
	parallel.Do(j.parts(), j)
	*j = elemJob{}
	elemJobs.Put(j)
}

func (j *elemJob) Run(part int) {
	lo, hi := j.bounds(part)
	if j.set && j.kind == geluTanhBwd {
		vmath.GELUTanhGradTo(j.d[lo:hi], j.x[lo:hi], j.y[lo:hi]) // no clearing pass
		return
	}
	if j.set {
		clear(j.d[lo:hi])
	}
	switch j.kind {
	case residualFwd:
		out, y := j.out[lo:hi], j.y[lo:hi]
		for i, v := range j.x[lo:hi] {
			out[i] = v + y[i]
		}
	case residualBwd:
		if j.d != nil {
			vmath.Axpy(1, j.x[lo:hi], j.d[lo:hi])
		}
		if j.e != nil {
			vmath.Axpy(1, j.x[lo:hi], j.e[lo:hi])
		}
	case geluTanhFwd:
		vmath.GELUTanh(j.out[lo:hi], j.x[lo:hi])
	case geluTanhBwd:
		vmath.GELUTanhGrad(j.d[lo:hi], j.x[lo:hi], j.y[lo:hi])
	case geluErfFwd:
		vmath.GELUErf(j.out[lo:hi], j.x[lo:hi])
	case geluErfBwd:
		vmath.GELUErfGrad(j.d[lo:hi], j.x[lo:hi], j.y[lo:hi])
	}
}
