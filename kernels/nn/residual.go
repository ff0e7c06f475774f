package nn

import (
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// ResidualForward sets out = a + b, the skip connection of He et al. 2016
// around every transformer sub-layer. a, b and out have the same shape
// (any); out may alias a or b. The kernel is an addition, so it is its own
// reference.
func ResidualForward(out, a, b *tensor.Tensor) error {
	chk := tensor.Check("nn.ResidualForward").Add("out", out).Add("a", a).Add("b", b)
	same(chk, "b", b, "a", a)
	same(chk, "out", out, "a", a)
	if err := chk.Err(); err != nil {
		return err
	}
	y, x := out.Data[:len(a.Data)], b.Data[:len(a.Data)]
	for i, v := range a.Data {
		y[i] = v + x[i]
	}
	return nil
}

// ResidualBackward accumulates da += dout and db += dout. All have the same
// shape; either gradient may be nil.
func ResidualBackward(da, db, dout *tensor.Tensor) error {
	chk := tensor.Check("nn.ResidualBackward")
	opt(chk, "da", da)
	opt(chk, "db", db)
	chk.Add("dout", dout)
	same(chk, "da", da, "dout", dout)
	same(chk, "db", db, "dout", dout)
	if err := chk.Err(); err != nil {
		return err
	}
	if da != nil {
		vmath.Axpy(1, dout.Data, da.Data)
	}
	if db != nil {
		vmath.Axpy(1, dout.Data, db.Data)
	}
	return nil
}
