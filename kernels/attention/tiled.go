package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// The tiled engine behind flash, sliding-window and block-sparse
// attention: FlashAttention-2's forward (Dao 2023, Algorithm 1) and
// backward by recomputation (Algorithm 2), over a pattern that tells each
// block of queries which keys to visit. Nothing of size Tq×Tk is ever
// stored: per (batch, head) the forward keeps only the log-sum-exp of
// each query's scores, and the backward recomputes each probability block
// from q, k and that log-sum-exp.
//
// Scores are kept in base 2, as FlashAttention-2's kernels keep them:
// the query scale is multiplied by log2(e) when Q is packed, so the block
// holds S·log2(e) and P = 2^(S·log2 e - m) comes from vmath.Exp2SubCols,
// about a quarter cheaper than exp (no ln 2 range reduction, a shorter
// polynomial) and, with two passes over every score (the forward's and
// the backward's recomputation), a tenth of flash's time at head dim 16.
// The log-sum-exps the forward returns are natural, as FullForward's
// softmax is; the conversions are in float64.
//
// Queries go in blocks of nr (the matmul micro-kernel's tile width, as in
// FullForward), keys in blocks of at most keyBlock(D). Score blocks are
// kept transposed, keys × queries, so that a block is a ready packed
// operand of blas.MulPacked and the online softmax is a set of vmath
// column operations across queries.
//
// Work is split by (batch, query head). The backward (tiled_backward.go)
// follows Algorithm 2's order, key blocks outer and query blocks inner, so
// that each key block's dK and dV stay in a small buffer and are written
// once. With grouped key/value heads it writes each query head's dK and dV
// into its own slice of a scratch buffer (B, H, Tk, D) and then sums the
// heads of each group in head order, so results are bit-identical for any
// thread count.

// keyBlock is the key block for head dimension d: 128 keys at d ≥ 64,
// where a 128×32 score block (16 KiB) and a 128×64 value block stay in the
// L1 cache, and up to 512 at smaller d (256 at 32, 512 at 16), where the
// value block is as small and every product's inner dimension is only d,
// so longer blocks amortise each product's fixed cost (flash's
// forward+backward at d = 16, 4096 tokens, two threads: about 8% faster
// with 512 than with 128).
func keyBlock(d int) int {
	return min(512, max(128, 8192/max(d, 1)/64*64))
}

// span is a range of keys [lo, hi) that a query block visits. dense means
// every query of the block may see every key of the span (the key mask
// aside), so the pattern's hide is not needed there.
type span struct {
	lo, hi int
	dense  bool
}

// pattern says which keys each query sees, for one call's shapes and
// causal setting.
type pattern interface {
	// spans appends to dst the sorted, disjoint key ranges that queries
	// i0..i0+w-1 of head h may see.
	spans(dst []span, h, i0, w int) []span
	// hide sets s[r*nr+c] to -Inf where query i0+c (c < w) of head h may
	// not see key j0+r (r < kb).
	hide(s []float32, h, i0, w, j0, kb, nr int)
}

// tiledJob is one call's state. part = (batch, head) in both passes, or
// (batch, kv head) in the reduction of grouped gradients.
type tiledJob struct {
	gdims
	pat      pattern
	scale    float32
	keyMask  []bool
	hidden   *keyRuns // keyMask's runs
	backward bool
	reduce   bool
	q, k, v  []float32 // (B, H, Tq, D), (B, KVH, Tk, D), (B, KVH, Tk, D)
	out, lse []float32 // (B, H, Tq, D), (B, H, Tq)
	dout, dq []float32 // (B, H, Tq, D)
	dk, dv   []float32 // (B, KVH, Tk, D)
	dkh, dvh []float32 // (B, H, Tk, D) per-head scratch when KVH < H
}

var tiledJobs parallel.FreeList[tiledJob]

// tiledWS is the forward's scratch for one (batch, head), reused across
// calls.
type tiledWS struct {
	qT            []float32 // packed (D, nr): scale·log2(e)·Q_blkᵀ
	acc           []float32 // (D, nr): Oᵀ of the block
	s             []float32 // (keyBlock(D), nr): Sᵀ, then Pᵀ
	m, mNew, mUse []float32 // (nr) running max, new max, max used for exp
	alpha, l      []float32 // (nr) rescale factor, running sum
	spans         []span
}

var tiledWSs parallel.FreeList[tiledWS]

// log2e and ln2 convert scores between natural and base-2 units.
const (
	log2e = math.Log2E
	ln2   = math.Ln2
)

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func getTiledWS(d, nr int) *tiledWS {
	w := tiledWSs.Get()
	w.qT = grow(w.qT, blas.PackedBLen(d, nr))
	w.acc = grow(w.acc, d*nr)
	w.s = grow(w.s, keyBlock(d)*nr)
	for _, p := range []*[]float32{&w.m, &w.mNew, &w.mUse, &w.alpha, &w.l} {
		*p = grow(*p, nr)
	}
	return w
}

// run runs the job: the forward, or the backward and, with grouped heads,
// the reduction of the per-head dK and dV.
func (j *tiledJob) run() {
	j.hidden = getKeyRuns(j.keyMask, j.b, j.tk)
	parallel.Do(j.b*j.h, j)
	putKeyRuns(j.hidden)
	j.hidden = nil
	if j.backward && j.group() > 1 {
		j.reduce = true
		parallel.Do(j.b*j.kvh, j)
	}
}

func (j *tiledJob) Run(part int) {
	switch {
	case j.reduce:
		j.reduceHeads(part)
	case j.backward:
		j.backwardHead(part)
	default:
		j.forwardHead(part)
	}
}

// scores fills s (kb, nr) with the block Sᵀ·log2(e) = K_blk ·
// (scale·log2(e)·Q_blk)ᵀ, qT being scale·log2(e)·Q_blkᵀ packed (D, nr),
// and sets hidden entries to -Inf.
func (j *tiledJob) scores(qT, s, k []float32, dense bool, b, h, i0, w, j0, kb, nr int) {
	blas.MulPacked(kb, nr, j.d, k[j0*j.d:], j.d, 1, qT, false, s, nr)
	if !dense {
		j.pat.hide(s, h, i0, w, j0, kb, nr)
	}
	if j.hidden != nil {
		j.hidden.hide(s, b, j0, kb, nr)
	}
}

func (j *tiledJob) forwardHead(part int) {
	b, h := part/j.h, part%j.h
	_, nr, _ := blas.Panel()
	tq, tk, d := j.tq, j.tk, j.d
	kv := j.kvPart(part)
	q := j.q[part*tq*d : (part+1)*tq*d]     // (Tq, D)
	k := j.k[kv*tk*d : (kv+1)*tk*d]         // (Tk, D)
	v := j.v[kv*tk*d : (kv+1)*tk*d]         // (Tk, D)
	out := j.out[part*tq*d : (part+1)*tq*d] // (Tq, D)
	lse := j.lse[part*tq : (part+1)*tq]     // (Tq)
	ws := getTiledWS(d, nr)
	defer tiledWSs.Put(ws)
	kblk := keyBlock(d)
	negInf := float32(math.Inf(-1))
	for i0 := 0; i0 < tq; i0 += nr {
		w := min(nr, tq-i0)
		blas.PackB(ws.qT, true, d, w, j.scale*log2e, q[i0*d:], d)
		clear(ws.acc)
		for c := range nr {
			ws.m[c], ws.l[c] = negInf, 0
		}
		ws.spans = j.pat.spans(ws.spans[:0], h, i0, w)
		for _, sp := range ws.spans {
			for j0 := sp.lo; j0 < sp.hi; j0 += kblk {
				kb := min(kblk, sp.hi-j0)
				s := ws.s[:kb*nr] // (kb, nr): Sᵀ, then Pᵀ unnormalised
				j.scores(ws.qT, s, k, sp.dense, b, h, i0, w, j0, kb, nr)
				// Online softmax (Algorithm 1, lines 8-10): m' = max(m,
				// rowmax S), P = exp(S - m'), l = e^{m-m'}·l + rowsum P,
				// O = e^{m-m'}·O + P·V.
				// In base 2: m is the running max of S·log2(e), so the
				// rescale factor is e^{(m-m')·ln 2}.
				copy(ws.mNew, ws.m)
				vmath.MaxCols(ws.mNew, s)
				for c := range nr {
					ws.mUse[c], ws.alpha[c] = ws.mNew[c], (ws.m[c]-ws.mNew[c])*ln2
					if ws.mNew[c] == negInf {
						ws.mUse[c], ws.alpha[c] = 0, 0 // nothing seen yet: 2^(-Inf - 0) = 0
					}
				}
				vmath.Exp(ws.alpha, ws.alpha)
				for c := range nr {
					ws.l[c] *= ws.alpha[c]
				}
				vmath.ScaleCols(ws.acc, ws.alpha)
				vmath.Exp2SubCols(s, s, ws.mUse, ws.l)
				// Oᵀ (D, nr) += Vᵀ (D, kb) · Pᵀ (kb, nr)
				blas.MulPacked(d, nr, kb, v[j0*d:], 1, d, s, true, ws.acc, nr)
				copy(ws.m, ws.mNew)
			}
		}
		// O = diag(l)⁻¹·O and L = m + log l (Algorithm 1, lines 12-13),
		// with m back in natural units.
		for c := range w {
			row := out[(i0+c)*d : (i0+c+1)*d]
			if ws.l[c] == 0 {
				clear(row)
				lse[i0+c] = negInf
				continue
			}
			inv := 1 / ws.l[c]
			for x := range row {
				row[x] = ws.acc[x*nr+c] * inv
			}
			lse[i0+c] = float32(float64(ws.m[c])*math.Ln2 + math.Log(float64(ws.l[c])))
		}
	}
}

// reduceHeads adds the per-head dK and dV of one (batch, kv head)'s group
// into dk and dv, in head order.
func (j *tiledJob) reduceHeads(part int) {
	n, g := j.tk*j.d, j.group()
	b, kvh := part/j.kvh, part%j.kvh
	dk, dv := j.dk[part*n:(part+1)*n], j.dv[part*n:(part+1)*n]
	for hh := range g {
		src := (b*j.h + kvh*g + hh) * n
		vmath.Axpy(1, j.dkh[src:src+n], dk)
		vmath.Axpy(1, j.dvh[src:src+n], dv)
	}
}
