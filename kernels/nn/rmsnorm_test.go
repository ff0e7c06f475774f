package nn

import (
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

func TestRMSNormForwardMatchesNaive(t *testing.T) {
	for i, shape := range rowShapes {
		n, c := rowsCols(shape)
		inp := randT(uint64(i), 2, shape...)
		weight, _ := normParams(uint64(i+50), c)
		out, rstd := filled(9, shape...), filled(9, lead(shape)...)
		must(t, RMSNormForward(out, rstd, inp, weight, normEps))
		wantOut, wantRstd := make([]float32, n*c), make([]float32, n)
		rmsNormForwardNaive(wantOut, wantRstd, inp.Data, weight.Data, n, c, normEps)
		name := shapeName(shape...)
		kerneltest.Close(t, "out "+name, out.Data, wantOut, refTol)
		kerneltest.Close(t, "rstd "+name, rstd.Data, wantRstd, refTol)
	}
}

func TestRMSNormBackwardMatchesNaive(t *testing.T) {
	for i, shape := range rowShapes {
		n, c := rowsCols(shape)
		inp := randT(uint64(i), 1, shape...)
		weight, _ := normParams(uint64(i+50), c)
		out, rstd := tensor.New(shape...), tensor.New(n)
		must(t, RMSNormForward(out, rstd, inp, weight, normEps))
		dout := randT(uint64(i+100), 1, shape...)
		dinp, dweight := randT(1, 1, shape...), randT(2, 1, c)
		wantDinp, wantDweight := dinp.Clone(), dweight.Clone()
		must(t, RMSNormBackward(dinp, dweight, dout, inp, weight, rstd))
		rmsNormBackwardNaive(wantDinp.Data, wantDweight.Data, dout.Data, inp.Data, weight.Data, rstd.Data, n, c)
		name := shapeName(shape...)
		kerneltest.Close(t, "dinp "+name, dinp.Data, wantDinp.Data, refTol)
		kerneltest.Close(t, "dweight "+name, dweight.Data, wantDweight.Data, refTol)
	}
}

func TestRMSNormGradients(t *testing.T) {
	for i, shape := range [][]int{{3, 1}, {2, 7}, {3, 8}, {2, 33}, {2, 2, 5}} {
		t.Run(shapeName(shape...), func(t *testing.T) {
			_, c := rowsCols(shape)
			inp := randT(uint64(i), 1, shape...)
			weight, _ := normParams(uint64(i+50), c)
			out, rstd := tensor.New(shape...), tensor.New(lead(shape)...)
			dinp, dweight := tensor.New(shape...), tensor.New(c)
			checkBackward(t, uint64(i), out,
				func() { must(t, RMSNormForward(out, rstd, inp, weight, normEps)) },
				func(dout *tensor.Tensor) { must(t, RMSNormBackward(dinp, dweight, dout, inp, weight, rstd)) },
				param{"dinp", inp, dinp}, param{"dweight", weight, dweight})
		})
	}
}
