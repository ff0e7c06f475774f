package nn

import (
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

func TestResidualForward(t *testing.T) {
	a, b := randT(1, 1, 2, 3, 7), randT(2, 1, 2, 3, 7)
	want := make([]float32, a.Len())
	for i := range want {
		want[i] = a.Data[i] + b.Data[i]
	}
	out := filled(9, 2, 3, 7)
	must(t, ResidualForward(out, a, b))
	kerneltest.Identical(t, "out", out.Data, want)
	must(t, ResidualForward(a, a, b)) // out may alias a
	kerneltest.Identical(t, "out in place", a.Data, want)
}

func TestResidualGradients(t *testing.T) {
	a, b := randT(1, 1, 3, 5), randT(2, 1, 3, 5)
	out, da, db := tensor.New(3, 5), tensor.New(3, 5), tensor.New(3, 5)
	checkBackward(t, 3, out,
		func() { must(t, ResidualForward(out, a, b)) },
		func(dout *tensor.Tensor) { must(t, ResidualBackward(da, db, dout)) },
		param{"da", a, da}, param{"db", b, db})
	dout := randT(4, 1, 3, 5)
	da.Zero()
	must(t, ResidualBackward(da, nil, dout))
	kerneltest.Identical(t, "da without db", da.Data, dout.Data)
}
