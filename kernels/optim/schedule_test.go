package optim

import (
	"math"
	"strings"
	"testing"
)

func TestSchedules(t *testing.T) {
	cos := WarmupCosine{Base: 1, Min: 0.1, Warmup: 10, Total: 110}
	lin := WarmupLinear{Base: 1, Min: 0.1, Warmup: 10, Total: 110}
	cases := []struct {
		name  string
		s     Schedule
		steps []int
		want  []float64
	}{
		{"constant", Constant{Base: 3e-4}, []int{-1, 0, 1, 1 << 40}, []float64{3e-4, 3e-4, 3e-4, 3e-4}},
		// Warmup (s+1)/W, peak at W-1 and W, midpoint of the decay
		// (Base+Min)/2 at s = 60, Min from Total on.
		{"cosine", cos, []int{-3, 0, 4, 9, 10, 60, 110, 111, 1000}, []float64{0.1, 0.1, 0.5, 1, 1, 0.55, 0.1, 0.1, 0.1}},
		// A quarter of the way: Min + (Base-Min)·½·(1+cos(π/4)).
		{"cosine quarter", cos, []int{35}, []float64{0.1 + 0.9*0.5*(1+math.Sqrt2/2)}},
		{"linear", lin, []int{0, 4, 9, 10, 35, 60, 110, 500}, []float64{0.1, 0.5, 1, 1, 0.775, 0.55, 0.1, 0.1}},
		{"cosine no warmup", WarmupCosine{Base: 2, Min: 0, Warmup: 0, Total: 4}, []int{0, 2, 4}, []float64{2, 1, 0}},
		{"linear no warmup", WarmupLinear{Base: 2, Min: 0, Warmup: 0, Total: 4}, []int{0, 1, 4}, []float64{2, 1.5, 0}},
		{"warmup only", WarmupCosine{Base: 1, Min: 0.5, Warmup: 4, Total: 4}, []int{0, 3, 4, 5}, []float64{0.25, 1, 0.5, 0.5}},
	}
	for _, c := range cases {
		for i, s := range c.steps {
			got := c.s.LR(s)
			if math.Abs(float64(got)-c.want[i]) > 1e-6*c.want[i]+1e-12 {
				t.Errorf("%s: LR(%d) = %v, want %v", c.name, s, got, c.want[i])
			}
		}
	}
}

func TestCosineIsMonotoneAfterWarmup(t *testing.T) {
	s := WarmupCosine{Base: 6e-4, Min: 6e-5, Warmup: 7, Total: 1000}
	prev := s.LR(s.Warmup)
	for step := s.Warmup + 1; step <= s.Total+5; step++ {
		lr := s.LR(step)
		if lr > prev {
			t.Fatalf("LR(%d) = %v > LR(%d) = %v", step, lr, step-1, prev)
		}
		prev = lr
	}
}

func TestScheduleValidate(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string // substring; "" means valid
	}{
		{"ok cosine", WarmupCosine{Base: 1, Min: 0, Warmup: 0, Total: 0}.Validate(), ""},
		{"ok linear", WarmupLinear{Base: 1, Min: 1, Warmup: 3, Total: 10}.Validate(), ""},
		{"ok constant", Constant{Base: 0}.Validate(), ""},
		{"negative base", Constant{Base: -1}.Validate(), "Base = -1"},
		{"NaN base", WarmupCosine{Base: float32(math.NaN()), Total: 1}.Validate(), "Base = NaN"},
		{"min above base", WarmupCosine{Base: 1, Min: 2, Total: 1}.Validate(), "Min = 2"},
		{"negative warmup", WarmupLinear{Base: 1, Warmup: -1, Total: 1}.Validate(), "Warmup = -1"},
		{"total before warmup", WarmupLinear{Base: 1, Warmup: 5, Total: 4}.Validate(), "Total = 4 is invalid: must be >= Warmup=5"},
	}
	for _, c := range cases {
		switch {
		case c.want == "" && c.err != nil:
			t.Errorf("%s: unexpected error %v", c.name, c.err)
		case c.want != "" && (c.err == nil || !strings.Contains(c.err.Error(), c.want)):
			t.Errorf("%s: error %v, want one mentioning %q", c.name, c.err, c.want)
		}
	}
}
