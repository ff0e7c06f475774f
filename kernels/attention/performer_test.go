package attention

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// performerImpl is PerformerForward/Backward with m features drawn from a
// seed, made on first use for each head dimension.
type performerImpl struct {
	flashImpl
	m    int
	seed uint64
	w    *tensor.Tensor // (m, D)
}

func (p *performerImpl) Caps() attntest.Caps {
	return attntest.Caps{Causal: true, KeyMask: true, KVHeads: true, Cross: true}
}

func (p *performerImpl) features(d int) *tensor.Tensor {
	if p.w == nil || p.w.Shape[1] != d {
		p.w = tensor.New(p.m, d)
		if err := PerformerFeatures(p.w, p.seed); err != nil {
			panic(err)
		}
	}
	return p.w
}

func (p *performerImpl) Forward(out, q, k, v *tensor.Tensor, mask []bool, causal bool) error {
	w := p.w
	if _, _, _, d, ok := dims4(q); ok {
		w = p.features(d)
	}
	p.call, p.out = call{q, k, v, mask, Options{Causal: causal}}, out
	return PerformerForward(out, q, k, v, w, mask, p.opt)
}

func (p *performerImpl) Backward(dq, dk, dv, dout *tensor.Tensor) error {
	return PerformerBackward(dq, dk, dv, dout, p.q, p.k, p.v, p.w, p.out, p.mask, p.opt)
}

func (p *performerImpl) Bytes() int { return 0 }

func TestConformancePerformer(t *testing.T) {
	for _, m := range []int{8, 40} {
		t.Run(fmt.Sprintf("m=%d", m), func(t *testing.T) { attntest.Run(t, &performerImpl{m: m, seed: 3}) })
	}
}

// meanError is the mean |out − exact| of FAVOR+ with m features, averaged
// over several feature draws.
func meanError(t *testing.T, m int, q, k, v *tensor.Tensor, causal bool, exact []float32) float64 {
	var sum float64
	const draws = 6
	for s := range draws {
		p := &performerImpl{m: m, seed: uint64(100 + s)}
		out := tensor.New(q.Shape...)
		if err := p.Forward(out, q, k, v, nil, causal); err != nil {
			t.Fatal(err)
		}
		for i, x := range out.Data {
			sum += math.Abs(float64(x - exact[i]))
		}
	}
	return sum / draws / float64(len(exact))
}

// FAVOR+'s kernel estimate is unbiased with variance falling as 1/m: the
// error against exact softmax attention falls as m grows from 16 to 64 to
// 256 (Choromanski et al. 2021, Lemma 1 and Theorem 2).
func TestPerformerErrorFallsWithFeatures(t *testing.T) {
	const b, h, tt, d = 1, 4, 64, 16
	q, k, v := randT(1, b, h, tt, d), randT(2, b, h, tt, d), randT(3, b, h, tt, d)
	// Queries and keys of norm about 2 (std 0.5): the estimator's variance
	// grows like exp(|q'+k'|²), so unit-variance inputs at D = 16 would
	// need thousands of features.
	for i := range q.Data {
		q.Data[i] *= 0.5
		k.Data[i] *= 0.5
	}
	for _, causal := range []bool{false, true} {
		exact, _, _, _ := attntest.Reference(&attntest.Problem{B: b, H: h, KVH: h, Tq: tt, Tk: tt, D: d,
			Q: q.Data, K: k.Data, V: v.Data, Causal: causal}, nil)
		var errs []float64
		for _, m := range []int{16, 64, 256} {
			errs = append(errs, meanError(t, m, q, k, v, causal, exact))
		}
		t.Logf("causal=%v: mean |error| at m = 16, 64, 256: %.4f %.4f %.4f", causal, errs[0], errs[1], errs[2])
		// Monte Carlo error ∝ 1/√m would halve it at each step.
		if !(errs[0] > 1.4*errs[1] && errs[1] > 1.4*errs[2]) {
			t.Errorf("causal=%v: the error does not fall with m (by 1.4× per 4× features): %v", causal, errs)
		}
		if errs[2] > 0.03 {
			t.Errorf("causal=%v: mean error %v at m = 256, want < 0.03", causal, errs[2])
		}
	}
}

// Positive features give attention weights that are never negative and
// sum to one, and stay accurate where softmax weights are tiny (peaked
// scores): the weights are read off as the outputs for one-hot values.
func TestPerformerWeightsArePositive(t *testing.T) {
	const tt = 32
	q, k := randT(1, 1, 1, tt, tt), randT(2, 1, 1, tt, tt)
	for i := range q.Data {
		q.Data[i] *= 1.5 // peaked scores: many softmax weights below 1e-3
		k.Data[i] *= 1.5
	}
	v := tensor.New(1, 1, tt, tt)
	for j := range tt {
		v.Data[j*tt+j] = 1 // out_i = the weights of query i
	}
	exact, _, _, _ := attntest.Reference(&attntest.Problem{B: 1, H: 1, KVH: 1, Tq: tt, Tk: tt, D: tt, Q: q.Data, K: k.Data, V: v.Data}, nil)
	p := &performerImpl{m: 256, seed: 1}
	out := tensor.New(q.Shape...)
	if err := p.Forward(out, q, k, v, nil, false); err != nil {
		t.Fatal(err)
	}
	var tiny, tinyErr float64
	for i := range tt {
		var sum float64
		for j := range tt {
			a := float64(out.Data[i*tt+j])
			if a < 0 || math.IsNaN(a) {
				t.Fatalf("weight (%d, %d) = %v", i, j, a)
			}
			sum += a
			if e := float64(exact[i*tt+j]); e < 1e-3 {
				tiny++
				tinyErr += math.Abs(a - e)
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("weights of query %d sum to %v", i, sum)
		}
	}
	t.Logf("%v weights below 1e-3, mean |error| %.2e", tiny, tinyErr/tiny)
	if tiny < tt || tinyErr/tiny > 5e-3 {
		t.Errorf("%v tiny weights with mean |error| %v, want many with error < 5e-3", tiny, tinyErr/tiny)
	}
}

// The features are orthogonal within each block of D rows and have
// chi-distributed norms (mean ≈ √D).
func TestPerformerFeaturesOrthogonal(t *testing.T) {
	const m, d = 40, 16
	w := tensor.New(m, d)
	if err := PerformerFeatures(w, 9); err != nil {
		t.Fatal(err)
	}
	var meanNorm float64
	for a := range m {
		ra := w.Data[a*d : (a+1)*d]
		var n float64
		for _, x := range ra {
			n += float64(x) * float64(x)
		}
		meanNorm += math.Sqrt(n) / m
		for b := a + 1; b < m && b/d == a/d; b++ {
			var dot float64
			for x := range d {
				dot += float64(ra[x]) * float64(w.Data[b*d+x])
			}
			if math.Abs(dot) > 1e-4*n {
				t.Errorf("rows %d and %d of one block have dot %v", a, b, dot)
			}
		}
	}
	if math.Abs(meanNorm-math.Sqrt(d)) > 0.5 {
		t.Errorf("mean row norm %v, want about √D = %v", meanNorm, math.Sqrt(d))
	}
}

// The blocked non-causal path (performer_blocked.go) agrees with the
// whole-matrix one, its oracle, forward and backward: with a key mask
// (one batch fully hidden), grouped key/value heads and tails shorter
// than a block. They differ only in the order of the sums over keys and
// queries.
func TestPerformerBlockedMatchesWhole(t *testing.T) {
	defer func() { performerBlocked = true }()
	for _, cs := range []struct {
		b, h, kvh, tq, tk, d, m int
		mask                    bool
	}{{2, 4, 4, 300, 300, 16, 64, true}, {1, 4, 2, 130, 257, 8, 32, false}, {2, 2, 1, 64, 64, 16, 256, true}} {
		q := randT(1, cs.b, cs.h, cs.tq, cs.d)
		k, v := randT(2, cs.b, cs.kvh, cs.tk, cs.d), randT(3, cs.b, cs.kvh, cs.tk, cs.d)
		w := randT(4, cs.m, cs.d)
		var mask []bool
		if cs.mask {
			mask = make([]bool, cs.b*cs.tk)
			for i := range mask {
				mask[i] = i%5 != 2 && i < cs.tk // the last batch sees no key
			}
		}
		dout := randT(5, cs.b, cs.h, cs.tq, cs.d)
		var res [2][]float32
		for mode := range 2 {
			performerBlocked = mode == 1
			out := tensor.New(q.Shape...)
			if err := PerformerForward(out, q, k, v, w, mask, Options{}); err != nil {
				t.Fatal(err)
			}
			dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := PerformerBackward(dq, dk, dv, dout, q, k, v, w, out, mask, Options{}); err != nil {
				t.Fatal(err)
			}
			res[mode] = append(append(append(append([]float32(nil), out.Data...), dq.Data...), dk.Data...), dv.Data...)
		}
		var maxd, maxv float64
		for i := range res[0] {
			if math.IsNaN(float64(res[1][i])) {
				t.Fatalf("%+v: NaN at %d", cs, i)
			}
			maxd = math.Max(maxd, math.Abs(float64(res[0][i]-res[1][i])))
			maxv = math.Max(maxv, math.Abs(float64(res[0][i])))
		}
		if maxd > 1e-5*maxv {
			t.Errorf("%+v: blocked and whole-matrix differ by %.3g (largest value %.3g)", cs, maxd, maxv)
		}
	}
}
