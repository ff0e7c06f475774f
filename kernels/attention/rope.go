package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// Rotary position embedding (RoPE; Su et al. 2021, "RoFormer", eq. 34).
// Each head vector is split into D/2 pairs (x[2i], x[2i+1]) and the pair at
// position t is rotated by the angle t·θ_i with θ_i = base^(-2i/D), so
// that q_t·k_s depends on the positions only through t − s. The rotation
// is orthogonal: its backward is the rotation by −t·θ_i.

// RotaryTables fills cos and sin, both (T, D/2), for base (10000 in the
// paper). D must be even.
func RotaryTables(cos, sin *tensor.Tensor, base float64) error {
	c := tensor.Check("attention.RotaryTables").Add("cos", cos).Add("sin", sin)
	if c.Ok() {
		c.Require(cos.Rank() == 2, "cos must be (T, D/2)")
		c.Shape("sin", sin, cos.Shape...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	t, half := cos.Shape[0], cos.Shape[1]
	for pos := range t {
		for i := range half {
			theta := float64(pos) * math.Pow(base, -float64(2*i)/float64(2*half))
			s, co := math.Sincos(theta)
			cos.Data[pos*half+i], sin.Data[pos*half+i] = float32(co), float32(s)
		}
	}
	return nil
}

// RotaryForward rotates x (B, H, T, D) in place by the positions 0..T-1,
// using tables from RotaryTables with at least T rows.
func RotaryForward(x, cos, sin *tensor.Tensor) error {
	return rotary("attention.RotaryForward", x, cos, sin, 1)
}

// RotaryBackward turns the gradient with respect to RotaryForward's output
// into the gradient with respect to its input, in place (the inverse
// rotation).
func RotaryBackward(dx, cos, sin *tensor.Tensor) error {
	return rotary("attention.RotaryBackward", dx, cos, sin, -1)
}

func rotary(op string, x, cos, sin *tensor.Tensor, dir float32) error {
	c := tensor.Check(op).Add("x", x).Add("cos", cos).Add("sin", sin)
	if c.Ok() {
		c.Require(x.Rank() == 4, "x must be (B, H, T, D)")
		c.Require(cos.Rank() == 2, "cos must be (T, D/2)")
	}
	if c.Ok() {
		t, d := x.Shape[2], x.Shape[3]
		if d%2 != 0 || cos.Shape[1] != d/2 || cos.Shape[0] < t {
			c.Failf("the tables must have at least T = %d rows of D/2 = %d values (D even)", t, d/2)
		}
		c.Shape("sin", sin, cos.Shape...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	t, d := x.Shape[2], x.Shape[3]
	half := d / 2
	rows := x.Rows()
	for r := range rows {
		pos := r % t
		v := x.Data[r*d : r*d+d : r*d+d]
		cs := cos.Data[pos*half : pos*half+half : pos*half+half]
		sn := sin.Data[pos*half : pos*half+half : pos*half+half]
		for i := range half {
			a, b := v[2*i], v[2*i+1]
			s := dir * sn[i]
			v[2*i] = a*cs[i] - b*s
			v[2*i+1] = a*s + b*cs[i]
		}
	}
	return nil
}
