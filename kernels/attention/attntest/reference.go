package attntest

import "math"

// Pattern is implemented by sparse variants that compute exact softmax
// attention restricted to a fixed set of (query, key) pairs, such as a
// sliding window or a block-sparse layout. Sees is the set before the key
// mask; it replaces the causal rule, so a causal pattern must fold the
// rule in. The suite compares such variants with Reference under Sees.
type Pattern interface {
	Sees(head, i, j, tq, tk int, causal bool) bool
}

// CausalSees is the causal rule of full attention: query i sees key j iff
// j <= i + (Tk - Tq), the lower triangle aligned at the end.
func CausalSees(i, j, tq, tk int) bool { return j <= i+tk-tq }

// Problem is one attention call: q (B, H, Tq, D), k and v (B, KVH, Tk, D)
// flattened row-major, an optional key mask (B*Tk flags, true = visible)
// and the causal flag. Scale 0 means 1/sqrt(D).
type Problem struct {
	B, H, KVH, Tq, Tk, D int
	Q, K, V              []float32
	KeyMask              []bool
	Causal               bool
	Scale                float64
	Pattern              Pattern // nil: full attention
}

func (p *Problem) scale() float64 {
	if p.Scale != 0 {
		return p.Scale
	}
	return 1 / math.Sqrt(float64(p.D))
}

func (p *Problem) sees(b, h, i, j int) bool {
	if p.KeyMask != nil && !p.KeyMask[b*p.Tk+j] {
		return false
	}
	if p.Pattern != nil {
		return p.Pattern.Sees(h, i, j, p.Tq, p.Tk, p.Causal)
	}
	return !p.Causal || CausalSees(i, j, p.Tq, p.Tk)
}

// Reference computes out = softmax(scale·q·kᵀ + mask)·v in float64 and,
// when dout is not nil, the gradients dq, dk and dv of <out, dout>. Query
// head h reads key/value head h / (H/KVH). A query that sees no key gets
// a zero output and zero gradients.
func Reference(p *Problem, dout []float32) (out, dq, dk, dv []float32) {
	g := p.H / p.KVH
	sc := p.scale()
	out = make([]float32, p.B*p.H*p.Tq*p.D)
	if dout != nil {
		dq = make([]float32, len(p.Q))
		dk = make([]float32, len(p.K))
		dv = make([]float32, len(p.V))
	}
	dq64 := make([]float64, len(p.Q))
	dk64 := make([]float64, len(p.K))
	dv64 := make([]float64, len(p.V))
	pr := make([]float64, p.Tk) // (Tk): one query's probabilities
	dp := make([]float64, p.Tk) // (Tk)
	for b := range p.B {
		for h := range p.H {
			qo := (b*p.H + h) * p.Tq * p.D
			ko := (b*p.KVH + h/g) * p.Tk * p.D
			for i := range p.Tq {
				qi := p.Q[qo+i*p.D : qo+(i+1)*p.D]
				m := math.Inf(-1)
				for j := range p.Tk {
					pr[j] = math.Inf(-1)
					if !p.sees(b, h, i, j) {
						continue
					}
					var s float64
					for x := range p.D {
						s += float64(qi[x]) * float64(p.K[ko+j*p.D+x])
					}
					pr[j] = sc * s
					m = math.Max(m, pr[j])
				}
				if math.IsInf(m, -1) {
					continue // sees nothing: zero output, zero gradients
				}
				var sum float64
				for j := range p.Tk {
					pr[j] = math.Exp(pr[j] - m)
					sum += pr[j]
				}
				for j := range p.Tk {
					pr[j] /= sum
				}
				for x := range p.D {
					var s float64
					for j := range p.Tk {
						s += pr[j] * float64(p.V[ko+j*p.D+x])
					}
					out[qo+i*p.D+x] = float32(s)
				}
				if dout == nil {
					continue
				}
				do := dout[qo+i*p.D : qo+(i+1)*p.D]
				var dot float64
				for j := range p.Tk {
					var s float64
					for x := range p.D {
						s += float64(do[x]) * float64(p.V[ko+j*p.D+x])
						dv64[ko+j*p.D+x] += pr[j] * float64(do[x])
					}
					dp[j] = s
					dot += pr[j] * s
				}
				for j := range p.Tk {
					ds := sc * pr[j] * (dp[j] - dot)
					if ds == 0 {
						continue
					}
					for x := range p.D {
						dq64[qo+i*p.D+x] += ds * float64(p.K[ko+j*p.D+x])
						dk64[ko+j*p.D+x] += ds * float64(qi[x])
					}
				}
			}
		}
	}
	if dout != nil {
		for i := range dq64 {
			dq[i] = float32(dq64[i])
		}
		for i := range dk64 {
			dk[i], dv[i] = float32(dk64[i]), float32(dv64[i])
		}
	}
	return out, dq, dk, dv
}
