package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate for a step. Steps count from 0: LR(0) is
// the rate of the first update (the argument of the first Step call), so a
// training loop calls opt.Step(sched.LR(step)) for step = 0, 1, 2, ....
// Negative steps are treated as 0. Schedules are pure functions of the
// step: resuming a run at step k needs no schedule state.
type Schedule interface {
	LR(step int) float32
}

// Constant is a fixed learning rate: LR(step) = Base for every step.
type Constant struct {
	Base float32 // the learning rate, >= 0
}

// LR returns Base.
func (c Constant) LR(step int) float32 { return c.Base }

// Validate reports whether Base is a usable learning rate.
func (c Constant) Validate() error {
	return checkSchedule("optim.Constant", c.Base, c.Base, 0, 1)
}

// WarmupCosine is linear warmup followed by cosine decay, as in llm.c's
// train_gpt2 and nanoGPT's get_lr (Loshchilov and Hutter, "SGDR", 2017,
// without restarts). With W = Warmup and N = Total:
//
//	LR(s) = Base·(s+1)/W                                  for 0 <= s < W
//	LR(s) = Min + (Base-Min)·½·(1 + cos(π·(s-W)/(N-W)))  for W <= s < N
//	LR(s) = Min                                           for s >= N
//
// So LR(0) = Base/W (the ramp starts from 0 at the virtual step -1, as in
// llm.c, so that the first update is not wasted), LR(W-1) = LR(W) = Base,
// and the rate reaches Min at step N and stays there. With W = 0 there is
// no warmup and LR(0) = Base. The formula is evaluated in float64.
type WarmupCosine struct {
	Base   float32 // peak learning rate, reached at the end of warmup
	Min    float32 // final learning rate, 0 <= Min <= Base
	Warmup int     // warmup steps W >= 0
	Total  int     // step N >= W at which the rate reaches Min
}

// LR returns the learning rate for step (counting from 0).
func (s WarmupCosine) LR(step int) float32 {
	if lr, ok := warmup(s.Base, s.Min, s.Warmup, s.Total, step); ok {
		return lr
	}
	p := float64(step-s.Warmup) / float64(s.Total-s.Warmup)
	base, lo := float64(s.Base), float64(s.Min)
	return float32(lo + (base-lo)*0.5*(1+math.Cos(math.Pi*p)))
}

// Validate reports whether the fields describe a usable schedule.
func (s WarmupCosine) Validate() error {
	return checkSchedule("optim.WarmupCosine", s.Base, s.Min, s.Warmup, s.Total)
}

// WarmupLinear is linear warmup followed by linear decay (as in BERT's
// original optimiser, with a floor). With W = Warmup and N = Total:
//
//	LR(s) = Base·(s+1)/W                       for 0 <= s < W
//	LR(s) = Base + (Min-Base)·(s-W)/(N-W)     for W <= s < N
//	LR(s) = Min                                for s >= N
//
// So LR(0) = Base/W, LR(W) = Base, and LR(N) = Min. With W = 0 there is no
// warmup and LR(0) = Base. The formula is evaluated in float64.
type WarmupLinear struct {
	Base   float32 // peak learning rate, reached at the end of warmup
	Min    float32 // final learning rate, 0 <= Min <= Base
	Warmup int     // warmup steps W >= 0
	Total  int     // step N >= W at which the rate reaches Min
}

// LR returns the learning rate for step (counting from 0).
func (s WarmupLinear) LR(step int) float32 {
	if lr, ok := warmup(s.Base, s.Min, s.Warmup, s.Total, step); ok {
		return lr
	}
	p := float64(step-s.Warmup) / float64(s.Total-s.Warmup)
	base, lo := float64(s.Base), float64(s.Min)
	return float32(base + (lo-base)*p)
}

// Validate reports whether the fields describe a usable schedule.
func (s WarmupLinear) Validate() error {
	return checkSchedule("optim.WarmupLinear", s.Base, s.Min, s.Warmup, s.Total)
}

// warmup handles the parts shared by the warmup schedules: the ramp and the
// floor after Total. ok is false in the decay phase W <= step < N.
func warmup(base, lo float32, w, n, step int) (lr float32, ok bool) {
	step = max(step, 0)
	switch {
	case step < w:
		return float32(float64(base) * float64(step+1) / float64(w)), true
	case step >= n:
		return lo, true
	}
	return 0, false
}

func checkSchedule(op string, base, lo float32, w, n int) error {
	if !(base >= 0) || math.IsInf(float64(base), 0) {
		return &ConfigError{Op: op, Field: "Base", Value: base, Want: "must be finite and >= 0"}
	}
	if !(lo >= 0 && lo <= base) {
		return &ConfigError{Op: op, Field: "Min", Value: lo, Want: fmt.Sprintf("must be in [0, Base=%v]", base)}
	}
	if w < 0 {
		return &ConfigError{Op: op, Field: "Warmup", Value: w, Want: "must be >= 0"}
	}
	if n < w {
		return &ConfigError{Op: op, Field: "Total", Value: n, Want: fmt.Sprintf("must be >= Warmup=%d", w)}
	}
	return nil
}
