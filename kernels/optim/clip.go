package optim

import "math"

// GradNorm returns the global L2 norm of all gradients, √(Σ g²) over every
// element of every parameter, accumulated in float64 in parameter order (so
// the result does not depend on threads). NaN or Inf gradients give a NaN
// or Inf norm.
func GradNorm(params []Param) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.Grad.Data {
			s += float64(g) * float64(g)
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm rescales the gradients so that their global L2 norm is at
// most maxNorm, like torch.nn.utils.clip_grad_norm_ (PyTorch 1.13, norm
// type 2), and returns the norm before clipping. With n = GradNorm(params):
//
//	c = maxNorm / (n + 1e-6)
//	g = g·c   for every gradient element, if c < 1
//
// PyTorch multiplies by min(c, 1) unconditionally; skipping the product
// when c >= 1 gives the same values. Like PyTorch, clipping starts a hair
// below maxNorm (for n in (maxNorm-1e-6, maxNorm] c is just under 1).
//
// A NaN or Inf norm is returned as is and the gradients are left untouched:
// the caller decides whether to skip the step or fail the trial (PyTorch
// would instead multiply every gradient by NaN or 0). A negative or NaN
// maxNorm also leaves the gradients untouched.
func ClipGradNorm(params []Param, maxNorm float32) (norm float32) {
	n := GradNorm(params)
	if math.IsNaN(n) || math.IsInf(n, 0) || !(maxNorm >= 0) {
		return float32(n)
	}
	c := float64(maxNorm) / (n + 1e-6)
	if c < 1 {
		scale := float32(c)
		for _, p := range params {
			g := p.Grad.Data
			for j := range g {
				g[j] *= scale
			}
		}
	}
	return float32(n)
}
