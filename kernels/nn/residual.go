package nn

import "github.com/attnlab/attnlab/kernels/tensor"

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
	j := elemJobs.Get()
	*j = elemJob{kind: residualFwd, x: a.Data, y: b.Data[:len(a.Data)], out: out.Data[:len(a.Data)]}
	runElem(j)
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
	if da == nil && db == nil {
		return nil
	}
	j := elemJobs.Get()
	*j = elemJob{kind: residualBwd, x: dout.Data}
	if da != nil {
		j.d = da.Data[:len(dout.Data)]
	}
	if db != nil {
		j.e = db.Data[:len(dout.Data)]
	}
	runElem(j)
	return nil
}
