package attention

import (
	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Linformer attention (Wang et al. 2020, "Linformer", §4, eq. 7):
//
//	head = softmax(scale · Q·(E·K)ᵀ) · (F·V)
//
// where E and F (k × n) project the n keys and values along the sequence
// to k rows, so attention costs O(n·k) instead of O(n²). The projections
// are parameters owned by the caller; their gradients are returned. E and
// F have shape (P, k, n) with P = 1 (one projection shared by every head,
// the paper's headwise and layerwise sharing) or P = KVH (one per key/value
// head); key-value sharing (E = F) is the caller passing the same tensor
// twice and adding the two gradients.
//
// A key mask zeroes the hidden keys and values before the projection, so
// they influence nothing and get zero gradients. Every projected row mixes
// all positions, so Linformer cannot be causal (§4); Causal is an error.
//
// The projected keys and values (B, KVH, k, D) are cached for the
// backward, with full attention's probability cache CacheShape(B, H, Tq,
// k): memory O(n·k).

func checkLinformer(c *tensor.Checker, g gdims, e, f, kp, vp *tensor.Tensor, opt Options) (kproj int) {
	if !c.Ok() {
		return 0
	}
	if opt.Causal {
		c.Failf("Linformer cannot be causal: each projected key mixes every position (Wang et al. 2020, §4)")
		return 0
	}
	c.Require(e.Rank() == 3, "e must be (P, k, n) with P = 1 or KVH")
	if !c.Ok() {
		return 0
	}
	kproj = e.Shape[1]
	if p := e.Shape[0]; p != 1 && p != g.kvh {
		c.Failf("e has %d projections, want 1 (shared) or KVH = %d (per head)", p, g.kvh)
	}
	if c.Ok() && e.Shape[2] != g.tk {
		c.Failf("e projects %d positions but k and v have Tk = %d", e.Shape[2], g.tk)
	}
	if c.Ok() && (kproj < 1 || kproj > g.tk) {
		c.Failf("the projected length k = %d must be in [1, n = %d]", kproj, g.tk)
	}
	c.Shape("f", f, e.Shape...)
	c.Shape("kp", kp, g.b, g.kvh, kproj, g.d)
	c.Shape("vp", vp, g.b, g.kvh, kproj, g.d)
	return kproj
}

// LinformerForward computes out (B, H, Tq, D) from q (B, H, Tq, D), k and
// v (B, KVH, n, D) and the projections e and f (P, k, n); it fills kp and
// vp (B, KVH, k, D) with E·K and F·V and att, CacheShape(B, H, Tq, k),
// with the probabilities.
func LinformerForward(out, kp, vp, att, q, k, v, e, f *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.LinformerForward").Add("out", out).Add("kp", kp).Add("vp", vp).Add("att", att).
		Add("q", q).Add("k", k).Add("v", v).Add("e", e).Add("f", f)
	g := checkGrouped(c, q, k, v, keyMask)
	kproj := checkLinformer(c, g, e, f, kp, vp, opt)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
		c.Shape("att", att, CacheShape(g.b, g.h, g.tq, kproj)...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	s := linformerScratches.Get()
	defer linformerScratches.Put(s)
	km, vm := s.masked(g, k, v, keyMask)
	// K̄ (k, D) = E (k, n) · K (n, D) and V̄ = F · V, as K̄ᵀ = Kᵀ·Eᵀ with
	// Eᵀ packed once for every (batch, kv head) rather than once per
	// product; each element is the same sum, in the same order.
	s.packProjections(e, f, kproj, g.tk, true)
	j := linJobs.Get()
	*j = linJob{g: g, s: s, kproj: kproj, km: km, vm: vm, kp: kp.Data, vp: vp.Data, e: e, proj: true}
	parallel.Do(g.b*g.kvh, j)
	*j = linJob{}
	linJobs.Put(j)
	return FullGroupedForward(out, att, q, kp, vp, nil, Options{Scale: opt.Scale})
}

// LinformerBackward accumulates into dq, dk, dv (like q, k, v) and de, df
// (like e, f) the gradients given dout; the other arguments are the
// forward's and its results.
func LinformerBackward(dq, dk, dv, de, df, dout, q, k, v, e, f, kp, vp, att *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.LinformerBackward").Add("q", q).Add("k", k).Add("v", v).Add("e", e).Add("f", f).
		Add("kp", kp).Add("vp", vp).Add("att", att)
	g := checkGrouped(c, q, k, v, keyMask)
	kproj := checkLinformer(c, g, e, f, kp, vp, opt)
	if c.Ok() {
		checkGrads(c, g, dq, dk, dv, dout)
		c.Add("de", de).Add("df", df)
		c.Shape("de", de, e.Shape...)
		c.Shape("df", df, e.Shape...)
		c.Shape("att", att, CacheShape(g.b, g.h, g.tq, kproj)...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	s := linformerScratches.Get()
	defer linformerScratches.Put(s)
	dkp, dvp := s.projGrads(g, kproj)
	if err := FullGroupedBackward(dq, dkp, dvp, dout, q, kp, vp, att, nil, Options{Scale: opt.Scale}); err != nil {
		return err
	}
	km, vm := s.masked(g, k, v, keyMask)
	// dE (k, n) += Σ dK̄ (k, D) · Kᵀ (D, n) over the (batch, kv head)
	// blocks that share the projection, as one product over the blocks
	// side by side: dE is read and written once, not once per block. dF
	// likewise with V.
	s.addProjectionGrads(g, kproj, de, dkp.Data, km)
	s.addProjectionGrads(g, kproj, df, dvp.Data, vm)
	// dK (n, D) += Eᵀ (n, k) · dK̄ (k, D), as dKᵀ = dK̄ᵀ·E with E packed
	// once, then the hidden keys' rows dropped; dV likewise.
	s.packProjections(e, f, kproj, g.tk, false)
	j := linJobs.Get()
	*j = linJob{g: g, s: s, kproj: kproj, e: e, dkp: dkp.Data, dvp: dvp.Data, dk: dk.Data, dv: dv.Data, keyMask: keyMask}
	parallel.Do(g.b*g.kvh, j)
	*j = linJob{}
	linJobs.Put(j)
	return nil
}

// addProjectionGrads adds to de (P, k, n) each projection's gradient
// Σ dK̄_bk · K_bkᵀ over the blocks bk = (batch, kv head) that use it, as
// one Gemm per projection with the blocks laid side by side: dK̄ (k, D)
// blocks as columns of a (k, m·D) matrix, K (n, D) blocks as columns of
// an (n, m·D) one read transposed.
func (s *linformerScratch) addProjectionGrads(g gdims, kproj int, de *tensor.Tensor, dkp, km []float32) {
	np, blocks := de.Shape[0], g.b*g.kvh
	n, pd, d := g.tk*g.d, kproj*g.d, g.d
	w := blocks / np * d
	s.catA, s.catB = grow(s.catA, kproj*w), grow(s.catB, g.tk*w)
	for p := range np {
		col := 0
		for bk := range blocks {
			if projection(de, g, bk) != p {
				continue
			}
			for i := range kproj {
				copy(s.catA[i*w+col:i*w+col+d], dkp[bk*pd+i*d:bk*pd+i*d+d])
			}
			for t := range g.tk {
				copy(s.catB[t*w+col:t*w+col+d], km[bk*n+t*d:bk*n+t*d+d])
			}
			col += d
		}
		blas.Gemm(false, true, kproj, g.tk, w, 1, s.catA, w, s.catB, w, 1, de.Data[p*kproj*g.tk:], g.tk)
	}
}

// packProjections packs each projection of e and f for MulPacked: as
// Eᵀ (n, k) for the forward (transposed), as E (k, n) for the backward.
func (s *linformerScratch) packProjections(e, f *tensor.Tensor, kproj, n int, transposed bool) {
	np := e.Shape[0]
	size := blas.PackedBLen(n, kproj)
	if !transposed {
		size = blas.PackedBLen(kproj, n)
	}
	s.pe, s.pf = grow(s.pe, np*size), grow(s.pf, np*size)
	s.packSize = size
	for p := range np {
		off := p * kproj * n
		if transposed {
			blas.PackB(s.pe[p*size:], true, n, kproj, 1, e.Data[off:], n)
			blas.PackB(s.pf[p*size:], true, n, kproj, 1, f.Data[off:], n)
		} else {
			blas.PackB(s.pe[p*size:], false, kproj, n, 1, e.Data[off:], n)
			blas.PackB(s.pf[p*size:], false, kproj, n, 1, f.Data[off:], n)
		}
	}
}

// linJob runs the projections (proj) or the key and value gradients of
// one (batch, kv head) per part.
type linJob struct {
	g                gdims
	s                *linformerScratch
	kproj            int
	e                *tensor.Tensor
	proj             bool
	km, vm, kp, vp   []float32
	dkp, dvp, dk, dv []float32
	keyMask          []bool
}

var linJobs parallel.FreeList[linJob]

// linWS is one part's transposed result, (D, k) or (D, n) twice.
type linWS struct{ kt, vt []float32 }

var linWSs parallel.FreeList[linWS]

func (j *linJob) Run(bk int) {
	g, s, kproj := j.g, j.s, j.kproj
	n, pd := g.tk*g.d, kproj*g.d
	p := projection(j.e, g, bk)
	pe, pf := s.pe[p*s.packSize:(p+1)*s.packSize], s.pf[p*s.packSize:(p+1)*s.packSize]
	ws := linWSs.Get()
	defer linWSs.Put(ws)
	if j.proj {
		// K̄ᵀ (D, k) = Kᵀ (D, n) · Eᵀ (n, k), K read transposed in place.
		ws.kt, ws.vt = grow(ws.kt, pd), grow(ws.vt, pd)
		blas.MulPacked(g.d, kproj, g.tk, j.km[bk*n:], 1, g.d, pe, false, ws.kt, kproj)
		blas.MulPacked(g.d, kproj, g.tk, j.vm[bk*n:], 1, g.d, pf, false, ws.vt, kproj)
		kp, vp := j.kp[bk*pd:(bk+1)*pd], j.vp[bk*pd:(bk+1)*pd]
		for i := range kproj {
			for x := range g.d {
				kp[i*g.d+x] = ws.kt[x*kproj+i]
				vp[i*g.d+x] = ws.vt[x*kproj+i]
			}
		}
		return
	}
	// dKᵀ (D, n) = dK̄ᵀ (D, k) · E (k, n), dK̄ read transposed in place.
	ws.kt, ws.vt = grow(ws.kt, n), grow(ws.vt, n)
	blas.MulPacked(g.d, g.tk, kproj, j.dkp[bk*pd:], 1, g.d, pe, false, ws.kt, g.tk)
	blas.MulPacked(g.d, g.tk, kproj, j.dvp[bk*pd:], 1, g.d, pf, false, ws.vt, g.tk)
	b := bk / g.kvh
	for t := range g.tk {
		if j.keyMask != nil && !j.keyMask[b*g.tk+t] {
			continue
		}
		row := bk*n + t*g.d
		for x := range g.d {
			j.dk[row+x] += ws.kt[x*g.tk+t]
			j.dv[row+x] += ws.vt[x*g.tk+t]
		}
	}
}

// projection is which of e's projections (P, k, n) block bk = (batch, kv
// head) uses: its kv head's, or the one shared by all (P = 1).
func projection(e *tensor.Tensor, g gdims, bk int) int {
	if e.Shape[0] == 1 {
		return 0
	}
	return bk % g.kvh
}

// linformerScratch holds the masked keys and values and the gradients of
// the projected ones, reused across calls.
type linformerScratch struct {
	km, vm   []float32 // (B, KVH, n, D)
	dkp, dvp tensor.Tensor
	shape    [4]int
	// pe, pf are the projections packed for MulPacked, packSize floats
	// each: transposed in the forward, as stored in the backward.
	pe, pf   []float32
	packSize int
	// catA, catB are the blocks side by side for addProjectionGrads.
	catA, catB []float32
}

var linformerScratches parallel.FreeList[linformerScratch]

// masked returns k and v with the keys hidden by keyMask zeroed (k and v
// themselves without a mask).
func (s *linformerScratch) masked(g gdims, k, v *tensor.Tensor, keyMask []bool) (km, vm []float32) {
	if keyMask == nil {
		return k.Data, v.Data
	}
	s.km, s.vm = grow(s.km, len(k.Data)), grow(s.vm, len(v.Data))
	copy(s.km, k.Data)
	copy(s.vm, v.Data)
	for row := range g.b * g.kvh * g.tk {
		if b, j := row/(g.kvh*g.tk), row%g.tk; !keyMask[b*g.tk+j] {
			clear(s.km[row*g.d : (row+1)*g.d])
			clear(s.vm[row*g.d : (row+1)*g.d])
		}
	}
	return s.km, s.vm
}

// projGrads returns zeroed gradients of the projected keys and values,
// (B, KVH, k, D) each.
func (s *linformerScratch) projGrads(g gdims, kproj int) (dkp, dvp *tensor.Tensor) {
	s.shape = [4]int{g.b, g.kvh, kproj, g.d}
	n := g.b * g.kvh * kproj * g.d
	s.dkp.Shape, s.dvp.Shape = s.shape[:], s.shape[:]
	s.dkp.Data, s.dvp.Data = grow(s.dkp.Data, n), grow(s.dvp.Data, n)
	clear(s.dkp.Data)
	clear(s.dvp.Data)
	return &s.dkp, &s.dvp
}
