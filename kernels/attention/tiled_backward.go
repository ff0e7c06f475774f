package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// The tiled engine's backward in FlashAttention-2's order (Dao 2023,
// Algorithm 2): key blocks K_j, V_j outside, the query blocks that see
// them inside. For each pair it recomputes P = exp(S − L) from the
// forward's log-sum-exp L (line 11) and
//
//	dV_j += Pᵀ·dO_i                  (line 12)
//	dP    = dO_i·V_jᵀ                (line 13)
//	dS    = scale · P ∘ (dP − D_i)   (line 14)
//	dQ_i += dS·K_j                   (line 15)
//	dK_j += dSᵀ·Q_i                  (line 16)
//
// with D_i = rowsum(dO_i ∘ O_i) (line 4). dK_j and dV_j accumulate in a
// keyBlock(D) × D buffer that stays in cache and is added to dk and dv once
// per key block, instead of once per query block as in the queries-outer
// order; dQ_i accumulates transposed, as dQ_iᵀ = Σ_j K_jᵀ·dS_ijᵀ, in a
// (D, nr) block per query block (dSᵀ is then already the packed operand
// and each product is nr wide, not D), added to dq at the end. The
// query-side operands (scale·log2(e)·Q_iᵀ and dO_iᵀ packed (D, nr), Q_i
// and dO_i packed (nr, D), D_i and L_i) are packed once per head, so the
// inner loop only multiplies.
//
// Key blocks lie on a fixed grid of keyBlock(D) keys. The pattern's spans,
// which may start anywhere (sliding windows), are cut at multiples of
// keyBlock(D) and grouped by grid block with a stable counting sort, so a
// block's pieces all fall into its buffer, dQ_i sums key blocks in
// increasing order and dK_j, dV_j sum query blocks in increasing order,
// for any thread count.
//
// Workspace per worker, for nq = ceil(Tq/nr) query blocks: the four
// packed operands, 2·nq·nr·D floats for the transposed forms and
// 2·nq·nr·ceil(D/nr)·nr for the row forms; D_i and L_i, 2·nq·nr floats;
// Pᵀ and dSᵀ blocks (keyBlock(D), nr), dK and dV blocks (keyBlock(D), D);
// dQ_iᵀ of every query block, nq·D·nr floats; and the pieces, 16 bytes
// each and held twice (in query order, then sorted), one per (query block,
// key block) product. At Tq = Tk = 4096, D = 64, nr = 32 that is 4 MiB of
// operands, 1 MiB of dQᵀ, 32 KiB of D_i and L_i, 128 KiB of blocks and
// 128 KiB of pieces: linear in T
// but for the pieces, which grow with the products computed (Tq·Tk/4096
// when dense), a 512th of the score block bytes they stand for.
//
// On one core this order measured no faster than queries outside (the
// matmuls run at the micro-kernel's speed in both, and fwd+bwd does 7
// of them to full attention's 6), but it moves less memory per product
// at D = 64: a query block's operands (32 KiB) and dQ (8 KiB) instead of
// a key block's K and V (64 KiB) and dK and dV read and rewritten
// (64 KiB).

// tiledPiece is one product of the backward: query block qb against keys
// [lo, hi), which lie in one grid block of keyBlock(D).
type tiledPiece struct {
	qb, lo, hi int32
	dense      bool // see span
}

// tiledBackWS is one (batch, head)'s backward scratch, reused across calls.
type tiledBackWS struct {
	qT, doT       []float32 // (nq, PackedBLen(D, nr)): scale·log2(e)·Q_iᵀ, dO_iᵀ packed (D, nr)
	qRows, doRows []float32 // (nq, PackedBLen(nr, D)): Q_i, dO_i packed (nr, D)
	dsum, lse     []float32 // (nq·nr): D_i; L_i, +Inf where a query saw nothing and past Tq
	p, ds         []float32 // (keyBlock(D), nr): Pᵀ; dPᵀ, then dSᵀ
	dk, dv        []float32 // (keyBlock(D), D): dK_j, dV_j of the key block
	dqT           []float32 // (nq, D, nr): dQ_iᵀ of every query block
	junk          []float32 // (nr) discarded sums
	spans         []span
	pieces        []tiledPiece // in query-block order
	sorted        []tiledPiece // grouped by key block, query-block order within
	first         []int32      // (nkb+1): key block kb's pieces are sorted[first[kb]:first[kb+1]]
}

var tiledBackWSs parallel.FreeList[tiledBackWS]

func growTo[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func getTiledBackWS(tq, d, nr int) *tiledBackWS {
	w := tiledBackWSs.Get()
	nq := (tq + nr - 1) / nr
	w.qT, w.doT = grow(w.qT, nq*blas.PackedBLen(d, nr)), grow(w.doT, nq*blas.PackedBLen(d, nr))
	w.qRows, w.doRows = grow(w.qRows, nq*blas.PackedBLen(nr, d)), grow(w.doRows, nq*blas.PackedBLen(nr, d))
	w.dsum, w.lse = grow(w.dsum, nq*nr), grow(w.lse, nq*nr)
	kblk := keyBlock(d)
	w.p, w.ds = grow(w.p, kblk*nr), grow(w.ds, kblk*nr)
	w.dk, w.dv = grow(w.dk, kblk*d), grow(w.dv, kblk*d)
	w.dqT = grow(w.dqT, nq*d*nr)
	w.junk = grow(w.junk, nr)
	return w
}

// packQueries fills the query-side operands of every query block of one
// head from q, dout, out (Tq, D) and lse (Tq).
func (ws *tiledBackWS) packQueries(q, dout, out, lse []float32, tq, d, nr int, scale float32) {
	nt, nrow := blas.PackedBLen(d, nr), blas.PackedBLen(nr, d)
	inf := float32(math.Inf(1))
	for i0, qb := 0, 0; i0 < tq; i0, qb = i0+nr, qb+1 {
		w := min(nr, tq-i0)
		// D_i = rowsum(dO_i ∘ O_i); a query that saw nothing (L = -Inf)
		// and the padding columns get L = +Inf, so their recomputed
		// probabilities are exp(s - Inf) = 0.
		for c := range nr {
			ws.dsum[i0+c], ws.lse[i0+c] = 0, inf
			if c < w && !math.IsInf(float64(lse[i0+c]), -1) {
				ws.dsum[i0+c] = vmath.Dot(dout[(i0+c)*d:(i0+c+1)*d], out[(i0+c)*d:(i0+c+1)*d])
				ws.lse[i0+c] = float32(float64(lse[i0+c]) * log2e) // base 2, as the scores
			}
		}
		blas.PackB(ws.qT[qb*nt:], true, d, w, scale*log2e, q[i0*d:], d)
		blas.PackB(ws.doT[qb*nt:], true, d, w, 1, dout[i0*d:], d)
		blas.PackB(ws.qRows[qb*nrow:], false, w, d, 1, q[i0*d:], d)
		blas.PackB(ws.doRows[qb*nrow:], false, w, d, 1, dout[i0*d:], d)
	}
}

// groupPieces cuts the spans of every query block of head h at multiples
// of kblk and sorts the pieces by key block, stably.
func (ws *tiledBackWS) groupPieces(pat pattern, h, tq, tk, nr, kblk int) {
	nkb := (tk + kblk - 1) / kblk
	ws.first = growTo(ws.first, nkb+1)
	clear(ws.first)
	ws.pieces = ws.pieces[:0]
	for i0, qb := 0, 0; i0 < tq; i0, qb = i0+nr, qb+1 {
		ws.spans = pat.spans(ws.spans[:0], h, i0, min(nr, tq-i0))
		for _, sp := range ws.spans {
			for lo := sp.lo; lo < sp.hi; {
				kb := lo / kblk
				hi := min(sp.hi, (kb+1)*kblk)
				ws.pieces = append(ws.pieces, tiledPiece{int32(qb), int32(lo), int32(hi), sp.dense})
				ws.first[kb+1]++
				lo = hi
			}
		}
	}
	for kb := range nkb {
		ws.first[kb+1] += ws.first[kb]
	}
	// Scatter with first[kb] as kb's cursor, which leaves it at kb's end,
	// that is kb+1's start; shift back.
	ws.sorted = growTo(ws.sorted, len(ws.pieces))
	for _, pc := range ws.pieces {
		kb := int(pc.lo) / kblk
		ws.sorted[ws.first[kb]] = pc
		ws.first[kb]++
	}
	copy(ws.first[1:], ws.first[:nkb])
	ws.first[0] = 0
}

func (j *tiledJob) backwardHead(part int) {
	b, h := part/j.h, part%j.h
	_, nr, _ := blas.Panel()
	tq, tk, d := j.tq, j.tk, j.d
	kv := j.kvPart(part)
	q := j.q[part*tq*d : (part+1)*tq*d]                            // (Tq, D)
	k := j.k[kv*tk*d : (kv+1)*tk*d]                                // (Tk, D)
	v := j.v[kv*tk*d : (kv+1)*tk*d]                                // (Tk, D)
	out := j.out[part*tq*d : (part+1)*tq*d]                        // (Tq, D)
	dout := j.dout[part*tq*d : (part+1)*tq*d]                      // (Tq, D)
	lse := j.lse[part*tq : (part+1)*tq]                            // (Tq)
	dq := j.dq[part*tq*d : (part+1)*tq*d]                          // (Tq, D)
	dk, dv := j.dk[kv*tk*d:(kv+1)*tk*d], j.dv[kv*tk*d:(kv+1)*tk*d] // (Tk, D)
	if j.group() > 1 {
		dk, dv = j.dkh[part*tk*d:(part+1)*tk*d], j.dvh[part*tk*d:(part+1)*tk*d]
		clear(dk)
		clear(dv)
	}
	ws := getTiledBackWS(tq, d, nr)
	defer tiledBackWSs.Put(ws)
	ws.packQueries(q, dout, out, lse, tq, d, nr, j.scale)
	ws.groupPieces(j.pat, h, tq, tk, nr, keyBlock(d))
	clear(ws.dqT)
	nt, nrow := blas.PackedBLen(d, nr), blas.PackedBLen(nr, d)
	for kb := range len(ws.first) - 1 {
		pieces := ws.sorted[ws.first[kb]:ws.first[kb+1]]
		if len(pieces) == 0 {
			continue
		}
		// The keys [lo, hi) of this block that some piece visits.
		lo, hi := int(pieces[0].lo), int(pieces[0].hi)
		for _, pc := range pieces[1:] {
			lo, hi = min(lo, int(pc.lo)), max(hi, int(pc.hi))
		}
		dkb, dvb := ws.dk[:(hi-lo)*d], ws.dv[:(hi-lo)*d] // (hi-lo, D): rows lo.. of dK_j, dV_j
		clear(dkb)
		clear(dvb)
		for _, pc := range pieces {
			qb := int(pc.qb)
			i0, w := qb*nr, min(nr, tq-qb*nr)
			j0, n := int(pc.lo), int(pc.hi-pc.lo)
			qT, doT := ws.qT[qb*nt:(qb+1)*nt], ws.doT[qb*nt:(qb+1)*nt]
			qRows, doRows := ws.qRows[qb*nrow:(qb+1)*nrow], ws.doRows[qb*nrow:(qb+1)*nrow]
			p, ds := ws.p[:n*nr], ws.ds[:n*nr] // (n, nr): Pᵀ; dPᵀ then dSᵀ
			j.scores(qT, p, k, pc.dense, b, h, i0, w, j0, n, nr)
			vmath.Exp2SubCols(p, p, ws.lse[i0:i0+nr], ws.junk) // P = 2^(S·log2 e - L·log2 e)
			// dV_j (n, D) += Pᵀ (n, w) · dO_i (w, D)
			blas.MulPacked(n, d, w, p, nr, 1, doRows, true, dvb[(j0-lo)*d:], d)
			// dPᵀ (n, nr) = V_j (n, D) · dO_iᵀ (D, nr)
			blas.MulPacked(n, nr, d, v[j0*d:], d, 1, doT, false, ds, nr)
			// dSᵀ = scale · P ∘ (dP − D)
			vmath.SoftmaxGradCols(ds, p, ws.dsum[i0:i0+nr], j.scale)
			// dQ_iᵀ (D, nr) += K_jᵀ (D, n) · dSᵀ (n, nr): dSᵀ with nr
			// columns is already B packed, and every product is nr wide
			// (dQ_i (w, D) += dS·K_j is only D wide: half the
			// micro-kernel's panel at D = 16).
			blas.MulPacked(d, nr, n, k[j0*d:], 1, d, ds, true, ws.dqT[qb*d*nr:(qb+1)*d*nr], nr)
			// dK_j (n, D) += dSᵀ (n, w) · Q_i (w, D)
			blas.MulPacked(n, d, w, ds, nr, 1, qRows, true, dkb[(j0-lo)*d:], d)
		}
		vmath.Axpy(1, dkb, dk[lo*d:hi*d])
		vmath.Axpy(1, dvb, dv[lo*d:hi*d])
	}
	// dq (Tq, D) += the dQ_iᵀ blocks, transposed.
	for i0, qb := 0, 0; i0 < tq; i0, qb = i0+nr, qb+1 {
		addRowsT(dq[i0*d:], ws.dqT[qb*d*nr:(qb+1)*d*nr], min(nr, tq-i0), d, nr)
	}
}

// addRowsT adds to the w rows of dst (w, d) the first w columns of xT
// (d, nr), transposed: the products that run nr queries wide leave their
// per-query results as columns.
func addRowsT(dst, xT []float32, w, d, nr int) {
	for c := range w {
		row := dst[c*d : (c+1)*d]
		for i := range row {
			row[i] += xT[i*nr+c]
		}
	}
}
