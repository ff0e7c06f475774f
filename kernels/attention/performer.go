package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// Performer attention, FAVOR+ (Choromanski et al. 2021, "Rethinking
// Attention with Performers", §2.2-2.4 and Lemma 1): the softmax kernel
// exp(q'·k') with q' = c·q, k' = c·k and c = D^(-1/4) (so q'·k' = q·k/√D;
// c = √Scale with Options.Scale) is estimated with positive random features
//
//	φ(x)_r = exp(w_r·x − |x|²/2) / √m,  r = 1..m,
//
// rows w_r from PerformerFeatures, and attention becomes
//
//	out_i = φ(q_i)ᵀ·(Σ_j φ(k_j)·v_jᵀ) / φ(q_i)ᵀ·(Σ_j φ(k_j))
//
// in O(T·m·D): non-causally through the (m, D) matrix φ(K)ᵀV, causally
// through its prefix sums (§2.6 of the paper, "unidirectional").
//
// Stabilised exponents: a query's features are all scaled by one
// positive number and the keys' by another, which cancel between the
// numerator and the denominator. Each query uses exp(w_r·q' − max_r w_r·q')
// (its |q'|²/2 and 1/√m cancel too); the keys use exp(w_r·k' − |k'|²/2 − M)
// with M the largest exponent over the visible keys, or, causally, the
// largest over the keys seen so far: the prefix sums are rescaled
// whenever M grows, so an output never depends on later keys, even through
// rounding. The backward treats the stabilisers as the constants they are
// to the output.
//
// A key mask removes hidden keys from the sums; a query that sees no key
// gets a zero output. Nothing is cached: the backward recomputes the
// features from q, k and w, and needs the forward's output.

func checkPerformer(c *tensor.Checker, g gdims, w *tensor.Tensor) {
	c.Add("w", w)
	if !c.Ok() {
		return
	}
	c.Require(w.Rank() == 2 && w.Shape[0] >= 1, "w must be (m, D) with m >= 1 features")
	if c.Ok() && w.Shape[1] != g.d {
		c.Failf("w has features of dimension %d, want the head dimension %d", w.Shape[1], g.d)
	}
}

// PerformerForward computes FAVOR+ attention into out (B, H, Tq, D) from
// q (B, H, Tq, D), k and v (B, KVH, Tk, D) and the features w (m, D).
// Causal follows FullForward's rule: query i sees keys j <= i + Tk − Tq.
func PerformerForward(out, q, k, v, w *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.PerformerForward").Add("out", out).Add("q", q).Add("k", k).Add("v", v)
	g := checkGrouped(c, q, k, v, keyMask)
	checkPerformer(c, g, w)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
	}
	if err := c.Err(); err != nil {
		return err
	}
	j := performerJobs.Get()
	*j = performerJob{gdims: g, m: w.Shape[0], c: float32(math.Sqrt(float64(opt.scale(g.d)))), causal: opt.Causal,
		keyMask: keyMask, q: q.Data, k: k.Data, v: v.Data, w: w.Data, out: out.Data}
	j.packW()
	parallel.Do(g.b*g.h, j)
	j.unpackW()
	*j = performerJob{}
	performerJobs.Put(j)
	return nil
}

// PerformerBackward accumulates into dq, dk and dv the gradients given
// dout; q, k, v, w, keyMask and opt are the forward's and out its output.
func PerformerBackward(dq, dk, dv, dout, q, k, v, w, out *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.PerformerBackward").Add("q", q).Add("k", k).Add("v", v).Add("out", out)
	g := checkGrouped(c, q, k, v, keyMask)
	checkPerformer(c, g, w)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
		checkGrads(c, g, dq, dk, dv, dout)
	}
	if err := c.Err(); err != nil {
		return err
	}
	j := performerJobs.Get()
	*j = performerJob{gdims: g, m: w.Shape[0], c: float32(math.Sqrt(float64(opt.scale(g.d)))), causal: opt.Causal,
		keyMask: keyMask, q: q.Data, k: k.Data, v: v.Data, w: w.Data, out: out.Data,
		backward: true, dout: dout.Data, dq: dq.Data, dk: dk.Data, dv: dv.Data}
	j.packW()
	var s *headScratch
	if g.group() > 1 {
		s = headScratches.Get()
		n := g.b * g.h * g.tk * g.d
		s.dk, s.dv = grow(s.dk, n), grow(s.dv, n)
		j.dkh, j.dvh = s.dk, s.dv
	}
	parallel.Do(g.b*g.h, j)
	if s != nil {
		r := tiledJobs.Get()
		*r = tiledJob{gdims: g, reduce: true, dk: dk.Data, dv: dv.Data, dkh: s.dk, dvh: s.dv}
		parallel.Do(g.b*g.kvh, r)
		*r = tiledJob{}
		tiledJobs.Put(r)
		headScratches.Put(s)
	}
	j.unpackW()
	*j = performerJob{}
	performerJobs.Put(j)
	return nil
}

// packW packs the projection for the blocked path, which is the only one
// that reads it packed; unpackW returns it.
func (j *performerJob) packW() {
	if j.causal || !performerBlocked {
		return
	}
	j.pack = performerPacks.Get()
	j.pack.pack(j.w, j.m, j.d, j.c)
}

func (j *performerJob) unpackW() {
	if j.pack != nil {
		performerPacks.Put(j.pack)
		j.pack = nil
	}
}

// performerBlocked selects the blocked non-causal path
// (performer_blocked.go). The whole-matrix path below (forwardHead,
// backwardHead) is its oracle: TestPerformerBlockedMatchesWhole turns
// this off to compare the two.
var performerBlocked = true

// performerJob is one call's state; part = (batch, query head).
type performerJob struct {
	gdims
	m        int     // features
	c        float32 // input scale, D^(-1/4) by default
	causal   bool
	backward bool
	keyMask  []bool
	q, k, v  []float32 // (B, H, Tq, D), (B, KVH, Tk, D), (B, KVH, Tk, D)
	w        []float32 // (m, D)
	out      []float32 // (B, H, Tq, D)
	dout, dq []float32 // (B, H, Tq, D)
	dk, dv   []float32 // (B, KVH, Tk, D)
	dkh, dvh []float32 // (B, H, Tk, D) per-head scratch when KVH < H
	pack     *performerPack
}

var performerJobs parallel.FreeList[performerJob]

// performerWS is one (batch, head)'s scratch.
type performerWS struct {
	fq, fk    []float32 // (Tq, m) φ(q), (Tk, m) φ(k)
	dfq, dfk  []float32 // (Tq, m), (Tk, m) their gradients, then the exponents'
	kv, dkv   []float32 // (m, D) φ(K)ᵀV or its prefix S, and the gradient G
	z, dz     []float32 // (m) φ(K)ᵀ1 or its prefix, and the gradient
	dnum      []float32 // (Tq, D) dO / den
	den, dden []float32 // (Tq) denominators, their gradients
	mq, mk    []float32 // (Tq), (Tk) causal stabiliser at each query and key
	visible   []bool    // (Tk) key not hidden by the mask
	rowSum    []float32 // (Tk)
	ones      []float32 // (m) all 1
	tmax      float32   // the largest key exponent, -Inf if no key is visible
}

var performerWSs parallel.FreeList[performerWS]

func (j *performerJob) workspace() *performerWS {
	ws := performerWSs.Get()
	tq, tk, m, d := j.tq, j.tk, j.m, j.d
	ws.fq, ws.fk = grow(ws.fq, tq*m), grow(ws.fk, tk*m)
	ws.dfq, ws.dfk = grow(ws.dfq, tq*m), grow(ws.dfk, tk*m)
	ws.kv, ws.dkv = grow(ws.kv, m*d), grow(ws.dkv, m*d)
	ws.z, ws.dz = grow(ws.z, m), grow(ws.dz, m)
	ws.ones = ones(ws.ones, m)
	ws.dnum = grow(ws.dnum, tq*d)
	ws.den, ws.dden, ws.mq = grow(ws.den, tq), grow(ws.dden, tq), grow(ws.mq, tq)
	ws.mk, ws.rowSum = grow(ws.mk, tk), grow(ws.rowSum, tk)
	if cap(ws.visible) < tk {
		ws.visible = make([]bool, tk)
	}
	ws.visible = ws.visible[:tk]
	return ws
}

func (j *performerJob) Run(part int) {
	if !j.causal && performerBlocked {
		j.blockedHead(part)
		return
	}
	b := part / j.h
	tq, tk, d, m := j.tq, j.tk, j.d, j.m
	kv := j.kvPart(part)
	q := j.q[part*tq*d : (part+1)*tq*d] // (Tq, D)
	k := j.k[kv*tk*d : (kv+1)*tk*d]     // (Tk, D)
	ws := j.workspace()
	defer performerWSs.Put(ws)
	for i := range tk {
		ws.visible[i] = j.keyMask == nil || j.keyMask[b*tk+i]
	}
	// Query features: φ(q_i) = exp(u_i − max u_i), u = c·Q·Wᵀ (Tq, m).
	blas.Gemm(false, true, tq, m, d, j.c, q, d, j.w, d, 0, ws.fq, m)
	for i := range tq {
		row := ws.fq[i*m : (i+1)*m]
		vmath.ExpSubSum(row, row, vmath.Max(row))
	}
	// Key exponents: t_j = c·k_j·Wᵀ − c²|k_j|²/2 (Tk, m), -Inf if hidden.
	blas.Gemm(false, true, tk, m, d, j.c, k, d, j.w, d, 0, ws.fk, m)
	ws.tmax = j.keyExponentRows(ws.fk, k, ws.ones, b, 0, tk)
	switch {
	case j.causal && j.backward:
		j.causalBackward(part, ws)
	case j.causal:
		j.causalForward(part, ws)
	case j.backward:
		j.backwardHead(part, ws)
	default:
		j.forwardHead(part, ws)
	}
}

// keyExponentRows turns the rows of f, c·k_j·Wᵀ for keys j = r0 ..
// r0+rows-1 of k, into the exponents t_j = c·k_j·Wᵀ − c²|k_j|²/2 (-Inf
// for hidden keys) and returns their largest value.
func (j *performerJob) keyExponentRows(f, k, ones []float32, b, r0, rows int) float32 {
	m, d := j.m, j.d
	mx := float32(math.Inf(-1))
	for i := range rows {
		row := f[i*m : (i+1)*m]
		if j.keyMask != nil && !j.keyMask[b*j.tk+r0+i] {
			for r := range row {
				row[r] = float32(math.Inf(-1))
			}
			continue
		}
		kk := k[(r0+i)*d : (r0+i+1)*d]
		half := j.c * j.c * vmath.Dot(kk, kk) / 2
		vmath.Axpy(-half, ones, row) // row[r] - half: (-half)·1 is exact
		mx = max(mx, vmath.Max(row))
	}
	return mx
}

// keyFeatures turns the key exponents into φ(k) = exp(t − M), M the
// largest visible exponent (no visible key: all zero).
func (j *performerJob) keyFeatures(ws *performerWS) {
	mx := ws.tmax
	if math.IsInf(float64(mx), -1) {
		clear(ws.fk)
		return
	}
	vmath.ExpSubSum(ws.fk, ws.fk, mx)
}

// keySums sets z = φ(K)ᵀ·1, the key features' column sums.
func (j *performerJob) keySums(ws *performerWS) {
	clear(ws.z)
	vmath.AddRows(ws.z, ws.fk[:j.tk*j.m])
}

// outputs sets out_i = num_i / den_i, or zero where den_i is 0.
func outputs(out, num, den []float32, d int) {
	for i, dn := range den {
		row := out[i*d : (i+1)*d]
		if dn == 0 {
			clear(row)
			continue
		}
		inv := 1 / dn
		for x := range row {
			row[x] = num[i*d+x] * inv
		}
	}
}

func (j *performerJob) forwardHead(part int, ws *performerWS) {
	tq, tk, d, m := j.tq, j.tk, j.d, j.m
	kv := j.kvPart(part)
	v := j.v[kv*tk*d : (kv+1)*tk*d]         // (Tk, D)
	out := j.out[part*tq*d : (part+1)*tq*d] // (Tq, D)
	j.keyFeatures(ws)
	// KV (m, D) = φ(K)ᵀ·V; z (m) = φ(K)ᵀ·1.
	blas.Gemm(true, false, m, d, tk, 1, ws.fk, m, v, d, 0, ws.kv, d)
	j.keySums(ws)
	// num (Tq, D) = φ(Q)·KV, written into out; den = φ(Q)·z.
	blas.Gemm(false, false, tq, d, m, 1, ws.fq, m, ws.kv, d, 0, out, d)
	for i := range tq {
		ws.den[i] = vmath.Dot(ws.fq[i*m:(i+1)*m], ws.z)
	}
	outputs(out, out, ws.den[:tq], d)
}

func (j *performerJob) backwardHead(part int, ws *performerWS) {
	tq, tk, d, m := j.tq, j.tk, j.d, j.m
	kv := j.kvPart(part)
	q := j.q[part*tq*d : (part+1)*tq*d]
	k := j.k[kv*tk*d : (kv+1)*tk*d]
	v := j.v[kv*tk*d : (kv+1)*tk*d]
	out := j.out[part*tq*d : (part+1)*tq*d]
	dout := j.dout[part*tq*d : (part+1)*tq*d]
	dq, dk, dv := j.grads(part)
	j.keyFeatures(ws)
	blas.Gemm(true, false, m, d, tk, 1, ws.fk, m, v, d, 0, ws.kv, d)
	j.keySums(ws)
	// dnum_i = dO_i / den_i and dden_i = −dO_i·out_i / den_i.
	for i := range tq {
		den := vmath.Dot(ws.fq[i*m:(i+1)*m], ws.z)
		dnum := ws.dnum[i*d : (i+1)*d]
		ws.dden[i] = 0
		clear(dnum)
		if den == 0 {
			continue
		}
		inv := 1 / den
		do := dout[i*d : (i+1)*d]
		vmath.Axpy(inv, do, dnum)
		ws.dden[i] = -vmath.Dot(do, out[i*d:(i+1)*d]) * inv
	}
	// dφ(Q) (Tq, m) = dnum·KVᵀ + dden ⊗ z; dKV (m, D) = φ(Q)ᵀ·dnum;
	// dz = φ(Q)ᵀ·dden.
	blas.Gemm(false, true, tq, m, d, 1, ws.dnum, d, ws.kv, d, 0, ws.dfq, m)
	blas.Gemm(true, false, m, d, tq, 1, ws.fq, m, ws.dnum, d, 0, ws.dkv, d)
	clear(ws.dz)
	for i := range tq {
		vmath.Axpy(ws.dden[i], ws.z, ws.dfq[i*m:(i+1)*m])
		vmath.Axpy(ws.dden[i], ws.fq[i*m:(i+1)*m], ws.dz)
	}
	// dV (Tk, D) += φ(K)·dKV; dφ(K) (Tk, m) = V·dKVᵀ + 1 ⊗ dz.
	blas.Gemm(false, false, tk, d, m, 1, ws.fk, m, ws.dkv, d, 1, dv, d)
	blas.Gemm(false, true, tk, m, d, 1, v, d, ws.dkv, d, 0, ws.dfk, m)
	for i := range tk {
		vmath.Axpy(1, ws.dz, ws.dfk[i*m:(i+1)*m])
	}
	j.inputGrads(ws, q, k, dq, dk)
}

// ones returns buf as m ones, refilled only when its length changes.
func ones(buf []float32, m int) []float32 {
	if len(buf) != m || m > 0 && buf[0] != 1 {
		buf = grow(buf, m)
		for i := range buf {
			buf[i] = 1
		}
	}
	return buf
}

// grads returns part's slices of dq and of dk and dv (the head's own
// zeroed scratch when key/value heads are shared, summed afterwards).
func (j *performerJob) grads(part int) (dq, dk, dv []float32) {
	tq, tk, d := j.tq, j.tk, j.d
	kv := j.kvPart(part)
	dq = j.dq[part*tq*d : (part+1)*tq*d]
	dk, dv = j.dk[kv*tk*d:(kv+1)*tk*d], j.dv[kv*tk*d:(kv+1)*tk*d]
	if j.group() > 1 {
		dk, dv = j.dkh[part*tk*d:(part+1)*tk*d], j.dvh[part*tk*d:(part+1)*tk*d]
		clear(dk)
		clear(dv)
	}
	return dq, dk, dv
}

// inputGrads turns the features' gradients dfq, dfk into dq and dk
// through the exponentials: du = dφ(q) ∘ φ(q), dq += c·du·W; dt =
// dφ(k) ∘ φ(k), dk_j += c·dt_j·W − c²·(Σ_r dt_jr)·k_j.
func (j *performerJob) inputGrads(ws *performerWS, q, k, dq, dk []float32) {
	tq, tk, d, m := j.tq, j.tk, j.d, j.m
	vmath.Mul(ws.dfq[:tq*m], ws.fq)
	vmath.Mul(ws.dfk[:tk*m], ws.fk)
	blas.Gemm(false, false, tq, d, m, j.c, ws.dfq, m, j.w, d, 1, dq, d)
	blas.Gemm(false, false, tk, d, m, j.c, ws.dfk, m, j.w, d, 1, dk, d)
	for i := range tk {
		if s := vmath.Sum(ws.dfk[i*m : (i+1)*m]); s != 0 {
			vmath.Axpy(-j.c*j.c*s, k[i*d:(i+1)*d], dk[i*d:(i+1)*d])
		}
	}
}
