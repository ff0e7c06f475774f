package attention

import (
	"math"
	"sync"

	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// Options configures scaled-dot-product attention.
type Options struct {
	Causal bool    // query i attends to keys j <= i + (Tk - Tq)
	Scale  float32 // multiplies Q·Kᵀ; 0 means 1/sqrt(D)
}

func (o Options) scale(d int) float32 {
	if o.Scale != 0 {
		return o.Scale
	}
	return float32(1 / math.Sqrt(float64(d)))
}

// CacheShape is the shape of the probability cache that FullForward fills
// and FullBackward reads: (B, H, ceil(Tq/nr), Tk, nr). Under the causal
// mask, a query block's rows for the keys past its last query are zero
// probabilities that FullForward does not write and FullBackward does not
// read (they are about half the cache).
func CacheShape(b, h, tq, tk int) []int {
	_, nr, _ := blas.Panel()
	return []int{b, h, (tq + nr - 1) / nr, tk, nr}
}

type dims struct {
	b, h, tq, tk, d int
}

func checkQKV(op string, c *tensor.Checker, q, k, v *tensor.Tensor, keyMask []bool) dims {
	var d dims
	if !c.Ok() {
		return d
	}
	c.Require(q.Rank() == 4, "q must be (B, H, Tq, D)")
	c.Require(k.Rank() == 4 && v.Rank() == 4, "k and v must be (B, H, Tk, D)")
	if !c.Ok() {
		return d
	}
	d = dims{q.Shape[0], q.Shape[1], q.Shape[2], k.Shape[2], q.Shape[3]}
	c.Shape("k", k, d.b, d.h, d.tk, d.d)
	c.Shape("v", v, d.b, d.h, d.tk, d.d)
	if keyMask != nil && len(keyMask) != d.b*d.tk {
		c.Failf("the key mask has %d flags, want B*Tk = %d", len(keyMask), d.b*d.tk)
	}
	return d
}

// FullForward computes out = softmax(scale·q·kᵀ + mask)·v and fills att,
// shaped CacheShape(B, H, Tq, Tk), with the probabilities the backward
// needs. q is (B, H, Tq, D); k and v are (B, H, Tk, D); out is like q;
// keyMask is nil or has B*Tk flags (true: the key may be attended to).
func FullForward(out, att, q, k, v *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.FullForward").Add("out", out).Add("att", att).Add("q", q).Add("k", k).Add("v", v)
	d := checkQKV("FullForward", c, q, k, v, keyMask)
	if c.Ok() {
		c.Shape("out", out, d.b, d.h, d.tq, d.d)
		c.Shape("att", att, CacheShape(d.b, d.h, d.tq, d.tk)...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	j := fullJobs.Get()
	*j = fullJob{dims: d, out: out.Data, att: att.Data, q: q.Data, k: k.Data, v: v.Data, keyMask: keyMask, causal: opt.Causal, scale: opt.scale(d.d)}
	j.hidden = getKeyRuns(keyMask, d.b, d.tk)
	parallel.Do(d.b*d.h, j)
	putKeyRuns(j.hidden)
	*j = fullJob{}
	fullJobs.Put(j)
	return nil
}

// FullBackward accumulates into dq, dk and dv (any may be nil) the
// gradients of the loss given dout, the gradient of FullForward's output.
// q, k, v, keyMask and opt must be those of the forward, and att its cache.
func FullBackward(dq, dk, dv, dout, q, k, v, att *tensor.Tensor, keyMask []bool, opt Options) error {
	return fullBackward("attention.FullBackward", "FullBackward", false, dq, dk, dv, dout, q, k, v, att, keyMask, opt)
}

// FullBackwardTo is FullBackward with dq, dk and dv overwritten instead
// of accumulated into, for a caller that is their first writer: each
// head's gradients are cleared as its work starts, while they are about
// to be in cache, instead of the caller zeroing all of them beforehand.
// The same bits as zeroing and calling FullBackward.
func FullBackwardTo(dq, dk, dv, dout, q, k, v, att *tensor.Tensor, keyMask []bool, opt Options) error {
	return fullBackward("attention.FullBackwardTo", "FullBackwardTo", true, dq, dk, dv, dout, q, k, v, att, keyMask, opt)
}

// fullBackward is FullBackward (set false) and FullBackwardTo; qual is
// op qualified by the package, for errors (a constant: building it here
// would allocate on every call).
func fullBackward(qual, op string, set bool, dq, dk, dv, dout, q, k, v, att *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check(qual).Add("dout", dout).Add("q", q).Add("k", k).Add("v", v).Add("att", att)
	d := checkQKV(op, c, q, k, v, keyMask)
	if c.Ok() {
		c.Shape("dout", dout, d.b, d.h, d.tq, d.d)
		c.Shape("att", att, CacheShape(d.b, d.h, d.tq, d.tk)...)
		for _, g := range []struct {
			name string
			t    *tensor.Tensor
			like *tensor.Tensor
		}{{"dq", dq, q}, {"dk", dk, k}, {"dv", dv, v}} {
			if g.t != nil {
				c.Add(g.name, g.t)
				c.Shape(g.name, g.t, g.like.Shape...)
			}
		}
	}
	if err := c.Err(); err != nil {
		return err
	}
	j := fullJobs.Get()
	*j = fullJob{dims: d, backward: true, set: set, dout: dout.Data, att: att.Data, q: q.Data, k: k.Data, v: v.Data,
		keyMask: keyMask, causal: opt.Causal, scale: opt.scale(d.d)}
	if dq != nil {
		j.dq = dq.Data
	}
	if dk != nil {
		j.dk = dk.Data
	}
	if dv != nil {
		j.dv = dv.Data
	}
	parallel.Do(d.b*d.h, j)
	*j = fullJob{}
	fullJobs.Put(j)
	return nil
}

// fullJob is one call's state; part = one (batch, head).
type fullJob struct {
	dims
	backward          bool
	set               bool // FullBackwardTo: each head clears its gradients first
	out, att, q, k, v []float32
	dout, dq, dk, dv  []float32
	keyMask           []bool
	hidden            *keyRuns // keyMask's runs, in the forward
	causal            bool
	scale             float32
}

func (j *fullJob) Run(part int) {
	if j.backward {
		j.backwardHead(part)
	} else {
		j.forwardHead(part)
	}
}

// keys returns how many leading keys the query block starting at i0 (w
// queries) can see: all of them, or under the causal mask those up to the
// block's last query.
func (j *fullJob) keys(i0, w int) int {
	if !j.causal {
		return j.tk
	}
	return max(0, min(j.tk, i0+w+j.tk-j.tq))
}

// mask sets the scores of hidden (key, query) pairs of a block to -Inf.
func (j *fullJob) mask(s []float32, b, i0, kmax, nr int) {
	if j.hidden != nil {
		j.hidden.hide(s, b, 0, kmax, nr)
	}
	if !j.causal {
		return
	}
	negInf := float32(math.Inf(-1))
	off := j.tk - j.tq
	// query i0+c sees key iff key <= i0+c+off, i.e. c >= key-off-i0:
	// only keys past i0+off have hidden queries in the block.
	for key := max(0, i0+off+1); key < kmax; key++ {
		row := s[key*nr : key*nr+nr]
		for c := range min(nr, key-off-i0) {
			row[c] = negInf
		}
	}
}

func (j *fullJob) forwardHead(part int) {
	b := part / j.h
	_, nr, _ := blas.Panel()
	tq, tk, d := j.tq, j.tk, j.d
	q := j.q[part*tq*d : (part+1)*tq*d]     // (Tq, D)
	k := j.k[part*tk*d : (part+1)*tk*d]     // (Tk, D)
	v := j.v[part*tk*d : (part+1)*tk*d]     // (Tk, D)
	out := j.out[part*tq*d : (part+1)*tq*d] // (Tq, D)
	blocks := (tq + nr - 1) / nr
	att := j.att[part*blocks*tk*nr : (part+1)*blocks*tk*nr] // (blocks, Tk, nr)

	ws := getWorkspace(d, nr)
	defer putWorkspace(ws)
	for blk := range blocks {
		i0 := blk * nr
		w := min(nr, tq-i0)
		kmax := j.keys(i0, w)
		p := att[blk*tk*nr : blk*tk*nr+tk*nr] // (Tk, nr): Pᵀ of this block
		if kmax == 0 {
			clearRows(out[i0*d : (i0+w)*d])
			continue
		}
		// Sᵀ·log2(e) (kmax, nr) = K (kmax, D) · (scale·log2(e)·Q_blk)ᵀ (D, nr)
		// In base 2 (see tiled.go): log2(e) folded into the query scale.
		blas.PackB(ws.qT, true, d, w, j.scale*log2e, q[i0*d:], d)
		blas.MulPacked(kmax, nr, d, k, d, 1, ws.qT, false, p, nr)
		if j.causal || j.keyMask != nil {
			j.mask(p, b, i0, kmax, nr)
		}
		softmaxCols(p[:kmax*nr], ws.m, ws.sum)
		if d != nr {
			// Oᵀ (D, nr) = Vᵀ (D, kmax) · Pᵀ (kmax, nr), then transposed:
			// O_blk = P_blk·V would run on the half-width kernel below
			// D = nr, and above it would need V copied into nr-wide
			// column panels; both were slower than the transposition
			// (AttentionLRA at D = 16, Attention at 4096 tokens, D = 64).
			blas.MulPacked(d, nr, kmax, v, 1, d, p, false, ws.oT, nr)
			for ii := range w {
				row := out[(i0+ii)*d : (i0+ii+1)*d]
				for x := range row {
					row[x] = ws.oT[x*nr+ii]
				}
			}
			continue
		}
		// O_blk (w, D) = P_blk (w, kmax) · V (kmax, D), Pᵀ read in place
		// and written straight into the output's rows; at D = nr, V is
		// its own packed B (blas.Panel).
		blas.MulPacked(w, d, kmax, p, 1, nr, v, false, out[i0*d:], d)
	}
}

// softmaxCols normalises each column of p (rows × len(m)), scores in base
// 2 (S·log2 e), into probabilities. A column with no visible key (all
// -Inf) becomes zeros.
func softmaxCols(p, m, sum []float32) {
	negInf := float32(math.Inf(-1))
	for c := range m {
		m[c] = negInf
	}
	vmath.MaxCols(m, p)
	for c := range m {
		if m[c] == negInf {
			m[c] = 0 // 2^(-Inf - 0) = 0 for the whole column
		}
		sum[c] = 0
	}
	vmath.Exp2SubCols(p, p, m, sum)
	for c := range sum {
		if sum[c] > 0 {
			sum[c] = 1 / sum[c]
		}
	}
	vmath.ScaleCols(p, sum)
}

func (j *fullJob) backwardHead(part int) {
	_, nr, _ := blas.Panel()
	tq, tk, d := j.tq, j.tk, j.d
	q := j.q[part*tq*d : (part+1)*tq*d]
	k := j.k[part*tk*d : (part+1)*tk*d]
	v := j.v[part*tk*d : (part+1)*tk*d]
	dout := j.dout[part*tq*d : (part+1)*tq*d]
	blocks := (tq + nr - 1) / nr
	att := j.att[part*blocks*tk*nr : (part+1)*blocks*tk*nr]
	var dq, dk, dv []float32
	if j.dq != nil {
		dq = j.dq[part*tq*d : (part+1)*tq*d]
	}
	if j.dk != nil {
		dk = j.dk[part*tk*d : (part+1)*tk*d]
	}
	if j.dv != nil {
		dv = j.dv[part*tk*d : (part+1)*tk*d]
	}
	if j.set {
		clear(dq)
		clear(dk)
		clear(dv)
	}

	ws := getWorkspace(d, nr)
	defer putWorkspace(ws)
	ds := ws.dS(tk * nr)
	for blk := range blocks {
		i0 := blk * nr
		w := min(nr, tq-i0)
		kmax := j.keys(i0, w)
		if kmax == 0 {
			continue
		}
		p := att[blk*tk*nr : blk*tk*nr+kmax*nr] // (kmax, nr)
		if dv != nil {
			// dV (kmax, D) += Pᵀ (kmax, w) · dO_blk (w, D)
			blas.MulPacked(kmax, d, w, p, nr, 1, ws.rows(dout[i0*d:], w, d, nr), true, dv, d)
		}
		if dq == nil && dk == nil {
			continue
		}
		// dPᵀ (kmax, nr) = V (kmax, D) · dO_blkᵀ (D, nr)
		dsb := ds[:kmax*nr]
		blas.PackB(ws.qT, true, d, w, 1, dout[i0*d:], d)
		blas.MulPacked(kmax, nr, d, v, d, 1, ws.qT, false, dsb, nr)
		// dSᵀ = scale · P ⊙ (dP − colsum(P ⊙ dP))
		clear(ws.sum)
		vmath.DotCols(ws.sum, p, dsb)
		vmath.SoftmaxGradCols(dsb, p, ws.sum, j.scale)
		if dq != nil {
			if d != nr {
				// dQ_blkᵀ (D, nr) = Kᵀ (D, kmax) · dSᵀ (kmax, nr), as Oᵀ
				blas.MulPacked(d, nr, kmax, k, 1, d, dsb, false, ws.oT, nr)
				addRowsT(dq[i0*d:], ws.oT, w, d, nr)
			} else {
				// dQ_blk (w, D) += dS (w, kmax) · K (kmax, D), dSᵀ read in place
				blas.MulPacked(w, d, kmax, dsb, 1, nr, k, true, dq[i0*d:], d)
			}
		}
		if dk != nil {
			// dK (kmax, D) += dSᵀ (kmax, w) · Q_blk (w, D)
			blas.MulPacked(kmax, d, w, dsb, nr, 1, ws.rows(q[i0*d:], w, d, nr), true, dk, d)
		}
	}
}

func clearRows(x []float32) { clear(x) }

// workspace is one head's scratch, reused across calls.
type workspace struct {
	qT, oT []float32 // (D, nr) packed, (D, nr)
	m, sum []float32 // (nr)
	ds     []float32 // (Tk, nr)
	rowsB  []float32 // packed (nr, D)
}

// rows returns the w rows of x (w, D) as a packed B for MulPacked: x
// itself at D = nr (a row-major matrix nr wide is a packed B, see
// blas.Panel), else packed into the workspace.
func (ws *workspace) rows(x []float32, w, d, nr int) []float32 {
	if d == nr {
		return x[:w*d]
	}
	blas.PackB(ws.rowsB, false, w, d, 1, x, d)
	return ws.rowsB
}

func (w *workspace) dS(n int) []float32 {
	if cap(w.ds) < n {
		w.ds = make([]float32, n)
	}
	return w.ds[:n]
}

var (
	wsMu   sync.Mutex
	wsFree []*workspace
)

func getWorkspace(d, nr int) *workspace {
	wsMu.Lock()
	var w *workspace
	if n := len(wsFree); n > 0 {
		w, wsFree = wsFree[n-1], wsFree[:n-1]
	}
	wsMu.Unlock()
	if w == nil {
		w = &workspace{}
	}
	grow := func(s []float32, n int) []float32 {
		if cap(s) < n {
			return make([]float32, n)
		}
		return s[:n]
	}
	w.qT = grow(w.qT, blas.PackedBLen(d, nr))
	w.oT = grow(w.oT, d*nr)
	w.rowsB = grow(w.rowsB, blas.PackedBLen(nr, d))
	w.m = grow(w.m, nr)
	w.sum = grow(w.sum, nr)
	return w
}

func putWorkspace(w *workspace) {
	wsMu.Lock()
	wsFree = append(wsFree, w)
	wsMu.Unlock()
}

var fullJobs parallel.FreeList[fullJob]
