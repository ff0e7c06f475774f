package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/vmath"
)

// Causal FAVOR+ (Choromanski et al. 2021, §2.6): the prefix sums
// S_i = Σ_{j<=i} φ(k_j)·v_jᵀ (m, D) and z_i = Σ_{j<=i} φ(k_j) (m) are built
// key by key, and out_i = φ(q_i)ᵀS_i / φ(q_i)ᵀz_i. The key stabiliser M is
// the running maximum of the key exponents: when a key raises it, S and z
// are rescaled by exp(M_old − M_new), so everything stays in (0, 1] and no
// output depends on a later key. The backward re-runs the scan for the
// queries' gradients, then runs it in reverse, accumulating
// G = Σ_{i>=j} exp(M_j − M_i)·φ(q_i)·dnum_iᵀ for the keys' gradients; the
// factors exp(M_j − M_i) are at most 1 because M never decreases.

// causalLimit is the number of keys query i sees: j <= i + Tk − Tq.
func (j *performerJob) causalLimit(i int) int { return min(j.tk, max(0, i+j.tk-j.tq+1)) }

// scan runs the prefix sums forward. Without backward it writes the
// outputs; with it, the denominators, dnum, dden and dφ(q).
func (j *performerJob) scan(part int, ws *performerWS) {
	tq, tk, d, m := j.tq, j.tk, j.d, j.m
	kv := j.kvPart(part)
	v := j.v[kv*tk*d : (kv+1)*tk*d]         // (Tk, D)
	out := j.out[part*tq*d : (part+1)*tq*d] // (Tq, D)
	var dout []float32
	if j.backward {
		dout = j.dout[part*tq*d : (part+1)*tq*d] // (Tq, D)
	}
	s, z := ws.kv, ws.z // (m, D), (m)
	clear(s)
	clear(z)
	negInf := float32(math.Inf(-1))
	mx, nk := negInf, 0
	for i := range tq {
		for lim := j.causalLimit(i); nk < lim; nk++ {
			ws.mk[nk] = mx
			if !ws.visible[nk] {
				continue
			}
			row := ws.fk[nk*m : (nk+1)*m]
			if a := vmath.Max(row); a > mx {
				if mx != negInf {
					f := float32(math.Exp(float64(mx - a)))
					vmath.Scale(s, f)
					vmath.Scale(z, f)
				}
				mx = a
			}
			vmath.ExpSubSum(row, row, mx) // φ(k_j) = exp(t_j − M_j)
			ws.mk[nk] = mx
			vr := v[nk*d : (nk+1)*d]
			for r, f := range row {
				vmath.Axpy(f, vr, s[r*d:(r+1)*d])
			}
			vmath.Axpy(1, row, z)
		}
		ws.mq[i] = mx
		fq := ws.fq[i*m : (i+1)*m]
		den := vmath.Dot(fq, z)
		if !j.backward {
			o := out[i*d : (i+1)*d]
			clear(o)
			if den == 0 {
				continue
			}
			for r, f := range fq {
				vmath.Axpy(f, s[r*d:(r+1)*d], o)
			}
			vmath.Scale(o, 1/den)
			continue
		}
		ws.den[i], ws.dden[i] = den, 0
		dnum, dfq := ws.dnum[i*d:(i+1)*d], ws.dfq[i*m:(i+1)*m]
		clear(dnum)
		clear(dfq)
		if den == 0 {
			continue
		}
		do := dout[i*d : (i+1)*d]
		vmath.Axpy(1/den, do, dnum)
		ws.dden[i] = -vmath.Dot(do, out[i*d:(i+1)*d]) / den
		// dφ(q_i)_r = S_r·dnum_i + z_r·dden_i
		for r := range dfq {
			dfq[r] = vmath.Dot(s[r*d:(r+1)*d], dnum) + z[r]*ws.dden[i]
		}
	}
}

func (j *performerJob) causalForward(part int, ws *performerWS) { j.scan(part, ws) }

func (j *performerJob) causalBackward(part int, ws *performerWS) {
	tq, tk, d, m := j.tq, j.tk, j.d, j.m
	kv := j.kvPart(part)
	q := j.q[part*tq*d : (part+1)*tq*d]
	k := j.k[kv*tk*d : (kv+1)*tk*d]
	v := j.v[kv*tk*d : (kv+1)*tk*d]
	dq, dk, dv := j.grads(part)
	j.scan(part, ws)
	seen := 0 // keys some query sees
	if tq > 0 {
		seen = j.causalLimit(tq - 1)
	}
	for r := range tk {
		if !ws.visible[r] || r >= seen {
			clear(ws.fk[r*m : (r+1)*m]) // not in any sum: zero features and gradients
			clear(ws.dfk[r*m : (r+1)*m])
		}
	}
	g, gz := ws.dkv, ws.dz // (m, D), (m): G and its z part, at scale exp(-cur)
	clear(g)
	clear(gz)
	var cur float32
	started := false
	rescale := func(to float32) {
		if f := float32(math.Exp(float64(to - cur))); f != 1 {
			vmath.Scale(g, f)
			vmath.Scale(gz, f)
		}
		cur = to
	}
	key := func(r int) {
		if !ws.visible[r] {
			return
		}
		dfk := ws.dfk[r*m : (r+1)*m]
		clear(dfk)
		if !started {
			return
		}
		rescale(ws.mk[r])
		fk, vr, dvr := ws.fk[r*m:(r+1)*m], v[r*d:(r+1)*d], dv[r*d:(r+1)*d]
		for x, f := range fk {
			gx := g[x*d : (x+1)*d]
			vmath.Axpy(f, gx, dvr)             // dv_j += Σ_r φ(k_j)_r·G_r
			dfk[x] = vmath.Dot(gx, vr) + gz[x] // dφ(k_j)_r = G_r·v_j + gz_r
		}
	}
	nk := seen
	for i := tq - 1; i >= 0; i-- {
		for lim := j.causalLimit(i); nk > lim; {
			nk--
			key(nk)
		}
		if ws.den[i] == 0 {
			continue
		}
		if started {
			rescale(ws.mq[i])
		} else {
			started, cur = true, ws.mq[i]
		}
		fq, dnum := ws.fq[i*m:(i+1)*m], ws.dnum[i*d:(i+1)*d]
		for x, f := range fq {
			vmath.Axpy(f, dnum, g[x*d:(x+1)*d])
		}
		vmath.Axpy(ws.dden[i], fq, gz)
	}
	for nk > 0 {
		nk--
		key(nk)
	}
	j.inputGrads(ws, q, k, dq, dk)
}
