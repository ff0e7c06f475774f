package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// The non-causal Performer in row blocks. φ(K) and φ(Q) are Tk·m and
// Tq·m floats (4 MiB each a head at 4096 tokens and 256 features), and
// every pass over them streams from memory; here they exist only
// featureRows rows at a time, each block used for everything that needs
// it while it is in cache:
//
//  1. keys: the exponents t = c·K·Wᵀ − c²|k|²/2 of each block, for their
//     largest visible value M (the stabiliser);
//  2. keys again: φ(k) = exp(t − M) per block, KV += φ(K)ᵀ·V and z +=
//     φ(K)ᵀ·1;
//  3. queries: φ(q) per block, then the outputs (forward), or dnum,
//     dden, dφ(q), dQ and the sums dKV and dz (backward);
//  4. keys once more (backward): φ(k), dV += φ(K)·dKV, dφ(k) = V·dKVᵀ +
//     dz, and dK.
//
// The key products are computed twice or three times instead of once
// (2·Tk·m·D each, small next to the memory they save). The formulas are
// those of forwardHead and backwardHead, which the causal path keeps.

// featureRows is the row block of the blocked Performer.
const featureRows = 128

// performerPack holds one call's projections packed for MulPacked,
// shared by every part: c·Wᵀ (D, m) and c·W (m, D).
type performerPack struct{ wT, w []float32 }

var performerPacks parallel.FreeList[performerPack]

func (p *performerPack) pack(w []float32, m, d int, c float32) {
	p.wT = grow(p.wT, blas.PackedBLen(d, m))
	p.w = grow(p.w, blas.PackedBLen(m, d))
	blas.PackB(p.wT, true, d, m, c, w, d)
	blas.PackB(p.w, false, m, d, c, w, d)
}

// blockWS is one part's scratch for the blocked path.
type blockWS struct {
	f, df          []float32 // (featureRows, m): φ of a block, its gradient
	kvP, kvT       []float32 // KV packed (m, D) and as KVᵀ (D, m)
	dkvP, dkvT     []float32 // dKV likewise
	rowsP          []float32 // a block's V or dnum packed (featureRows, D)
	dnum           []float32 // (featureRows, D)
	dden           []float32 // (featureRows)
	kv, dkv, z, dz []float32 // (m, D), (m)
	ones           []float32 // (m) all 1
}

var blockWSs parallel.FreeList[blockWS]

func (j *performerJob) blockWorkspace() *blockWS {
	ws := blockWSs.Get()
	m, d := j.m, j.d
	ws.f, ws.df = grow(ws.f, featureRows*m), grow(ws.df, featureRows*m)
	ws.kvP, ws.kvT = grow(ws.kvP, blas.PackedBLen(m, d)), grow(ws.kvT, blas.PackedBLen(d, m))
	ws.dkvP, ws.dkvT = grow(ws.dkvP, blas.PackedBLen(m, d)), grow(ws.dkvT, blas.PackedBLen(d, m))
	ws.rowsP = grow(ws.rowsP, blas.PackedBLen(featureRows, d))
	ws.dnum, ws.dden = grow(ws.dnum, featureRows*d), grow(ws.dden, featureRows)
	ws.kv, ws.dkv = grow(ws.kv, m*d), grow(ws.dkv, m*d)
	ws.z, ws.dz = grow(ws.z, m), grow(ws.dz, m)
	ws.ones = ones(ws.ones, m)
	return ws
}

// keyExponents fills ws.f with the exponents of keys [r0, r0+rows) of k
// (hidden keys: -Inf) and returns their largest value.
func (j *performerJob) keyExponents(ws *blockWS, k []float32, b, r0, rows int) float32 {
	m, d := j.m, j.d
	f := ws.f[:rows*m]
	blas.MulPacked(rows, m, d, k[r0*d:], d, 1, j.pack.wT, false, f, m)
	return j.keyExponentRows(f, k, ws.ones, b, r0, rows)
}

// keyFeaturesBlock turns the exponents of keys [r0, r0+rows) into φ(k) =
// exp(t − M) (hidden keys: 0).
func (j *performerJob) keyFeaturesBlock(ws *blockWS, mx float32, b, r0, rows int) {
	m := j.m
	for i := range rows {
		row := ws.f[i*m : (i+1)*m]
		if j.keyMask != nil && !j.keyMask[b*j.tk+r0+i] {
			clear(row)
			continue
		}
		vmath.ExpSubSum(row, row, mx)
	}
}

// queryFeaturesBlock fills ws.f with φ(q) of queries [r0, r0+rows).
func (j *performerJob) queryFeaturesBlock(ws *blockWS, q []float32, r0, rows int) {
	m, d := j.m, j.d
	f := ws.f[:rows*m]
	blas.MulPacked(rows, m, d, q[r0*d:], d, 1, j.pack.wT, false, f, m)
	for i := range rows {
		row := f[i*m : (i+1)*m]
		vmath.ExpSubSum(row, row, vmath.Max(row))
	}
}

// blockedHead runs one (batch, head) of the non-causal forward or
// backward.
func (j *performerJob) blockedHead(part int) {
	b := part / j.h
	tq, tk, d, m := j.tq, j.tk, j.d, j.m
	kvh := j.kvPart(part)
	q := j.q[part*tq*d : (part+1)*tq*d]
	k := j.k[kvh*tk*d : (kvh+1)*tk*d]
	v := j.v[kvh*tk*d : (kvh+1)*tk*d]
	ws := j.blockWorkspace()
	defer blockWSs.Put(ws)

	// 1. The stabiliser: the largest visible key exponent.
	mx := float32(math.Inf(-1))
	for r0 := 0; r0 < tk; r0 += featureRows {
		mx = max(mx, j.keyExponents(ws, k, b, r0, min(featureRows, tk-r0)))
	}
	// 2. KV (m, D) = φ(K)ᵀ·V and z = φ(K)ᵀ·1; nothing if no key is
	// visible (every feature 0).
	clear(ws.kv)
	clear(ws.z)
	if !math.IsInf(float64(mx), -1) {
		for r0 := 0; r0 < tk; r0 += featureRows {
			rows := min(featureRows, tk-r0)
			j.keyExponents(ws, k, b, r0, rows)
			j.keyFeaturesBlock(ws, mx, b, r0, rows)
			blas.PackB(ws.rowsP, false, rows, d, 1, v[r0*d:], d)
			blas.MulPacked(m, d, rows, ws.f, 1, m, ws.rowsP, true, ws.kv, d)
			vmath.AddRows(ws.z, ws.f[:rows*m])
		}
	}
	blas.PackB(ws.kvP, false, m, d, 1, ws.kv, d)
	if !j.backward {
		out := j.out[part*tq*d : (part+1)*tq*d]
		for r0 := 0; r0 < tq; r0 += featureRows {
			rows := min(featureRows, tq-r0)
			j.queryFeaturesBlock(ws, q, r0, rows)
			// num (rows, D) = φ(Q)·KV, written into out; den = φ(Q)·z.
			blas.MulPacked(rows, d, m, ws.f, m, 1, ws.kvP, false, out[r0*d:], d)
			for i := range rows {
				den := vmath.Dot(ws.f[i*m:(i+1)*m], ws.z)
				row := out[(r0+i)*d : (r0+i+1)*d]
				if den == 0 {
					clear(row)
					continue
				}
				inv := 1 / den
				for x := range row {
					row[x] *= inv
				}
			}
		}
		return
	}

	out := j.out[part*tq*d : (part+1)*tq*d]
	dout := j.dout[part*tq*d : (part+1)*tq*d]
	dq, dk, dv := j.grads(part)
	// 3. Queries: dnum_i = dO_i / den_i, dden_i = −dO_i·out_i / den_i;
	// dφ(Q) = dnum·KVᵀ + dden ⊗ z; dKV += φ(Q)ᵀ·dnum; dz += φ(Q)ᵀ·dden;
	// dQ += c·(dφ(Q) ∘ φ(Q))·W.
	blas.PackB(ws.kvT, true, d, m, 1, ws.kv, d)
	clear(ws.dkv)
	clear(ws.dz)
	for r0 := 0; r0 < tq; r0 += featureRows {
		rows := min(featureRows, tq-r0)
		j.queryFeaturesBlock(ws, q, r0, rows)
		for i := range rows {
			dnum := ws.dnum[i*d : (i+1)*d]
			clear(dnum)
			ws.dden[i] = 0
			den := vmath.Dot(ws.f[i*m:(i+1)*m], ws.z)
			if den == 0 {
				continue
			}
			inv := 1 / den
			do := dout[(r0+i)*d : (r0+i+1)*d]
			vmath.Axpy(inv, do, dnum)
			ws.dden[i] = -vmath.Dot(do, out[(r0+i)*d:(r0+i+1)*d]) * inv
		}
		df := ws.df[:rows*m]
		blas.MulPacked(rows, m, d, ws.dnum, d, 1, ws.kvT, false, df, m)
		blas.PackB(ws.rowsP, false, rows, d, 1, ws.dnum, d)
		blas.MulPacked(m, d, rows, ws.f, 1, m, ws.rowsP, true, ws.dkv, d)
		for i := range rows {
			vmath.Axpy(ws.dden[i], ws.z, df[i*m:(i+1)*m])
			vmath.Axpy(ws.dden[i], ws.f[i*m:(i+1)*m], ws.dz)
		}
		vmath.Mul(df, ws.f[:rows*m])
		blas.MulPacked(rows, d, m, df, m, 1, j.pack.w, true, dq[r0*d:], d)
	}
	// 4. Keys: dV += φ(K)·dKV; dφ(K) = V·dKVᵀ + 1 ⊗ dz; dt = dφ(K) ∘
	// φ(K); dK_j += c·dt_j·W − c²·(Σ_r dt_jr)·k_j.
	if math.IsInf(float64(mx), -1) {
		return // no visible key: every φ(k) and its gradient is 0
	}
	blas.PackB(ws.dkvP, false, m, d, 1, ws.dkv, d)
	blas.PackB(ws.dkvT, true, d, m, 1, ws.dkv, d)
	for r0 := 0; r0 < tk; r0 += featureRows {
		rows := min(featureRows, tk-r0)
		j.keyExponents(ws, k, b, r0, rows)
		j.keyFeaturesBlock(ws, mx, b, r0, rows)
		blas.MulPacked(rows, d, m, ws.f, m, 1, ws.dkvP, true, dv[r0*d:], d)
		df := ws.df[:rows*m]
		blas.MulPacked(rows, m, d, v[r0*d:], d, 1, ws.dkvT, false, df, m)
		for i := range rows {
			vmath.Axpy(1, ws.dz, df[i*m:(i+1)*m])
		}
		vmath.Mul(df, ws.f[:rows*m])
		blas.MulPacked(rows, d, m, df, m, 1, j.pack.w, true, dk[r0*d:], d)
		for i := range rows {
			if s := vmath.Sum(df[i*m : (i+1)*m]); s != 0 {
				vmath.Axpy(-j.c*j.c*s, k[(r0+i)*d:(r0+i+1)*d], dk[(r0+i)*d:(r0+i+1)*d])
			}
		}
	}
}
