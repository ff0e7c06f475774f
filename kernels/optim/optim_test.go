package optim

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// exact is the tolerance for hand-computed float32 steps: a few ulp of O(1)
// values.
var exact = kerneltest.Tol{Abs: 1e-7, Rel: 1e-6}

// param builds a Param from value and gradient data.
func param(name string, value, grad []float32) Param {
	v, err := tensor.From(append([]float32(nil), value...), len(value))
	if err != nil {
		panic(err)
	}
	g, err := tensor.From(append([]float32(nil), grad...), len(grad))
	if err != nil {
		panic(err)
	}
	return Param{Name: name, Value: v, Grad: g}
}

func TestSGDHandComputed(t *testing.T) {
	cases := []struct {
		name  string
		cfg   SGDConfig
		grads [][]float32 // per step, for p = [1, 2]
		want  []float32   // p after the last step
	}{
		// p -= 0.1·g
		{"plain", SGDConfig{}, [][]float32{{0.5, -1}}, []float32{0.95, 2.1}},
		// b1 = 1, p = 1 - 0.1 = 0.9; b2 = 0.9·1 + 1 = 1.9, p = 0.9 - 0.19 = 0.71
		{"momentum", SGDConfig{Momentum: 0.9}, [][]float32{{1, 0}, {1, 0}}, []float32{0.71, 2}},
		// b1 = 1, d = 1 + 0.9·1 = 1.9, p = 0.81; b2 = 1.9, d = 1 + 0.9·1.9 = 2.71, p = 0.539
		{"nesterov", SGDConfig{Momentum: 0.9, Nesterov: true}, [][]float32{{1, 0}, {1, 0}}, []float32{0.539, 2}},
		// d = g + 0.5·p = [0.5, 1], p = [0.95, 1.9]
		{"weight decay", SGDConfig{WeightDecay: 0.5}, [][]float32{{0, 0}}, []float32{0.95, 1.9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := param("p", []float32{1, 2}, []float32{0, 0})
			opt, err := NewSGD([]Param{p}, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range c.grads {
				copy(p.Grad.Data, g)
				if err := opt.Step(0.1); err != nil {
					t.Fatal(err)
				}
			}
			kerneltest.Close(t, "p", p.Value.Data, c.want, exact)
			if opt.Steps() != len(c.grads) {
				t.Errorf("Steps() = %d, want %d", opt.Steps(), len(c.grads))
			}
		})
	}
}

func TestNoDecay(t *testing.T) {
	mk := func() []Param {
		ps := []Param{param("w", []float32{2}, []float32{0}), param("b", []float32{2}, []float32{0})}
		ps[1].NoDecay = true
		return ps
	}
	sgdParams, adamParams := mk(), mk()
	sgd, err := NewSGD(sgdParams, SGDConfig{Momentum: 0.9, WeightDecay: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	adam, err := NewAdamW(adamParams, AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if err := sgd.Step(0.5); err != nil {
		t.Fatal(err)
	}
	if err := adam.Step(0.5); err != nil {
		t.Fatal(err)
	}
	// SGD: d = 0.1·2 = 0.2, w = 2 - 0.5·0.2 = 1.9. AdamW: w = 2·(1 - 0.5·0.1) = 1.9.
	// Zero gradients leave the opted-out parameters exactly where they were.
	for _, ps := range [][]Param{sgdParams, adamParams} {
		kerneltest.Close(t, "decayed w", ps[0].Value.Data, []float32{1.9}, exact)
		kerneltest.Identical(t, "NoDecay b", ps[1].Value.Data, []float32{2})
	}
}

// adamw64 is a float64 AdamW written straight from the paper's formulas in
// PyTorch's arrangement, the oracle for TestAdamWAgainstFloat64.
func adamw64(p, g []float64, m, v []float64, t int, lr, b1, b2, eps, wd float64) {
	bc1 := 1 - math.Pow(b1, float64(t))
	bc2 := 1 - math.Pow(b2, float64(t))
	for i := range p {
		p[i] *= 1 - lr*wd
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		p[i] -= lr / bc1 * m[i] / (math.Sqrt(v[i])/math.Sqrt(bc2) + eps)
	}
}

func TestAdamWFirstStep(t *testing.T) {
	// At t = 1, m̂ = g and v̂ = g², so the update is lr·g/(|g|+ε): about
	// lr·sign(g) whatever the gradient's size; a zero gradient moves only
	// by the decay.
	p := param("p", []float32{1, 1, 1, 1}, []float32{2, -0.001, 0, 1e3})
	opt, err := NewAdamW([]Param{p}, AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(0.01); err != nil {
		t.Fatal(err)
	}
	// p·(1 - 0.01·0.1) = 0.999, then ∓ 0.01.
	kerneltest.Close(t, "p", p.Value.Data, []float32{0.989, 1.009, 0.999, 0.989}, kerneltest.Tol{Abs: 2e-7})
	m, v := opt.Moments(0)
	kerneltest.Close(t, "m", m, []float32{0.2, -0.0001, 0, 100}, exact)
	kerneltest.Close(t, "v", v, []float32{0.004, 1e-9, 0, 1000}, exact)
}

func TestAdamWAgainstFloat64(t *testing.T) {
	const n, steps = 37, 20
	const lr, b1, b2, eps, wd = 3e-3, 0.9, 0.95, 1e-8, 0.1
	val := kerneltest.Rand(1, n, 1)
	p := param("p", val, make([]float32, n))
	opt, err := NewAdamW([]Param{p}, AdamWConfig{Beta1: b1, Beta2: b2, Eps: eps, WeightDecay: wd})
	if err != nil {
		t.Fatal(err)
	}
	p64, g64, m64, v64 := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, x := range val {
		p64[i] = float64(x)
	}
	for s := 1; s <= steps; s++ {
		g := kerneltest.Rand(uint64(100+s), n, 0.1)
		copy(p.Grad.Data, g)
		for i, x := range g {
			g64[i] = float64(x)
		}
		if err := opt.Step(lr); err != nil {
			t.Fatal(err)
		}
		adamw64(p64, g64, m64, v64, s, float64(float32(lr)), b1, b2, eps, wd)
	}
	want := make([]float32, n)
	for i, x := range p64 {
		want[i] = float32(x)
	}
	kerneltest.Close(t, "p after 20 steps", p.Value.Data, want, kerneltest.Tol{Abs: 1e-6, Rel: 1e-6})
}

func TestStepRejectsBadLR(t *testing.T) {
	for _, lr := range []float32{-1e-3, float32(math.NaN()), float32(math.Inf(1))} {
		p := param("p", []float32{1}, []float32{1})
		sgd, _ := NewSGD([]Param{p}, SGDConfig{})
		adam, _ := NewAdamW([]Param{p}, DefaultAdamW())
		for _, opt := range []Optimizer{sgd, adam} {
			err := opt.Step(lr)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != "lr" {
				t.Errorf("Step(%v) = %v, want a ConfigError on lr", lr, err)
			}
			if opt.Steps() != 0 || p.Value.Data[0] != 1 {
				t.Errorf("Step(%v) changed state", lr)
			}
		}
	}
}

func TestConstructorErrors(t *testing.T) {
	good := func() []Param { return []Param{param("w", []float32{1, 2}, []float32{0, 0})} }
	mismatch := good()
	mismatch[0].Grad = tensor.New(3)
	shared := good()
	shared = append(shared, Param{Name: "alias", Value: shared[0].Value, Grad: tensor.New(2)})
	nilGrad := good()
	nilGrad[0].Grad = nil
	cases := []struct {
		name  string
		build func() error
		want  []string // substrings of the message
	}{
		{"no params", func() error { _, err := NewSGD(nil, SGDConfig{}); return err }, []string{"params", "at least one"}},
		{"nil grad", func() error { _, err := NewSGD(nilGrad, SGDConfig{}); return err }, []string{`"w"`, "Grad"}},
		{"shape mismatch", func() error { _, err := NewAdamW(mismatch, DefaultAdamW()); return err }, []string{"w.Grad (3)", "differ"}},
		{"shared storage", func() error { _, err := NewAdamW(shared, DefaultAdamW()); return err }, []string{"alias", "once"}},
		{"momentum 1", func() error { _, err := NewSGD(good(), SGDConfig{Momentum: 1}); return err }, []string{"Momentum = 1", "[0, 1)"}},
		{"negative decay", func() error { _, err := NewSGD(good(), SGDConfig{WeightDecay: -1}); return err }, []string{"WeightDecay = -1"}},
		{"nesterov without momentum", func() error { _, err := NewSGD(good(), SGDConfig{Nesterov: true}); return err }, []string{"Nesterov needs Momentum > 0"}},
		{"beta1 negative", func() error { c := DefaultAdamW(); c.Beta1 = -0.1; _, err := NewAdamW(good(), c); return err }, []string{"Beta1 = -0.1"}},
		{"beta2 one", func() error { c := DefaultAdamW(); c.Beta2 = 1; _, err := NewAdamW(good(), c); return err }, []string{"optim.NewAdamW", "Beta2 = 1", "0.999"}},
		{"beta2 NaN", func() error { c := DefaultAdamW(); c.Beta2 = math.NaN(); _, err := NewAdamW(good(), c); return err }, []string{"Beta2 = NaN"}},
		{"eps zero", func() error { _, err := NewAdamW(good(), AdamWConfig{Beta1: 0.9, Beta2: 0.999}); return err }, []string{"Eps = 0", "> 0"}},
		{"decay inf", func() error {
			c := DefaultAdamW()
			c.WeightDecay = math.Inf(1)
			_, err := NewAdamW(good(), c)
			return err
		}, []string{"WeightDecay = +Inf"}},
	}
	for _, c := range cases {
		err := c.build()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
}

func TestZeroGrad(t *testing.T) {
	ps := []Param{param("a", []float32{1, 2}, []float32{3, 4}), param("b", []float32{5}, []float32{6})}
	ZeroGrad(ps)
	kerneltest.Identical(t, "a.Grad", ps[0].Grad.Data, []float32{0, 0})
	kerneltest.Identical(t, "b.Grad", ps[1].Grad.Data, []float32{0})
	kerneltest.Identical(t, "a.Value", ps[0].Value.Data, []float32{1, 2})
}

func TestStepAllocatesNothing(t *testing.T) {
	mk := func() []Param {
		return []Param{param("w", kerneltest.Rand(1, 300, 1), kerneltest.Rand(2, 300, 1)), param("b", kerneltest.Rand(3, 7, 1), kerneltest.Rand(4, 7, 1))}
	}
	sgd, err := NewSGD(mk(), SGDConfig{Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	adam, err := NewAdamW(mk(), DefaultAdamW())
	if err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]Optimizer{"SGD": sgd, "AdamW": adam} {
		if a := testing.AllocsPerRun(50, func() { _ = opt.Step(1e-3) }); a != 0 {
			t.Errorf("%s.Step allocates %v times per call", name, a)
		}
	}
	ps := mk()
	if a := testing.AllocsPerRun(50, func() { ZeroGrad(ps); ClipGradNorm(ps, 1) }); a != 0 {
		t.Errorf("ZeroGrad+ClipGradNorm allocate %v times per call", a)
	}
}

// AdamW's update runs on the kernel pool in chunks of a parameter: the
// result is the same to the bit on one thread and on several, with a
// parameter spanning several chunks and one shorter than a chunk.
func TestAdamWSameOnAnyThreadCount(t *testing.T) {
	var ref [][]float32
	for _, th := range []int{1, 2, 3} {
		prev := parallel.SetThreads(th)
		ps := []Param{param("w", kerneltest.Rand(1, 3*adamChunk+5, 1), kerneltest.Rand(2, 3*adamChunk+5, 1)), param("b", kerneltest.Rand(3, 7, 1), kerneltest.Rand(4, 7, 1))}
		opt, err := NewAdamW(ps, DefaultAdamW())
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := opt.Step(1e-2); err != nil {
				t.Fatal(err)
			}
		}
		parallel.SetThreads(prev)
		if ref == nil {
			ref = [][]float32{ps[0].Value.Data, ps[1].Value.Data}
			continue
		}
		kerneltest.Identical(t, "w", ps[0].Value.Data, ref[0])
		kerneltest.Identical(t, "b", ps[1].Value.Data, ref[1])
	}
}

// The AVX-512 loop gives the Go loop's bits: weights and both moments,
// with and without decay, over lengths with and without a tail, after
// steps whose gradients include zeros, huge and tiny values.
func TestAdamWVectorSameBitsAsGo(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 path on this machine")
	}
	run := func(vec bool) [][]float32 {
		prev := useAVX512
		useAVX512 = vec
		defer func() { useAVX512 = prev }()
		g := kerneltest.Rand(2, 2*adamChunk+37, 1)
		g[0], g[1], g[2], g[3] = 0, 1e30, -1e-30, 1e-45
		ps := []Param{param("w", kerneltest.Rand(1, 2*adamChunk+37, 1), g), param("b", kerneltest.Rand(3, 21, 1), kerneltest.Rand(4, 21, 1))}
		ps[1].NoDecay = true
		cfg := DefaultAdamW()
		cfg.WeightDecay = 0.1
		opt, err := NewAdamW(ps, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := opt.Step(1e-2); err != nil {
				t.Fatal(err)
			}
		}
		m0, v0 := opt.Moments(0)
		m1, v1 := opt.Moments(1)
		return [][]float32{ps[0].Value.Data, ps[1].Value.Data, m0, v0, m1, v1}
	}
	goRes, vecRes := run(false), run(true)
	for i, name := range []string{"w", "b", "m of w", "v of w", "m of b", "v of b"} {
		kerneltest.Identical(t, name, vecRes[i], goRes[i])
	}
}
