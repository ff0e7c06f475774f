package nn

import (
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

const normEps = 1e-5

// normParams returns a weight near 1 and a bias near 0, of length c.
func normParams(seed uint64, c int) (weight, bias *tensor.Tensor) {
	weight, bias = randT(seed, 0.3, c), randT(seed+1, 0.5, c)
	for i := range weight.Data {
		weight.Data[i] += 1
	}
	return weight, bias
}

func TestLayerNormForwardMatchesNaive(t *testing.T) {
	for i, shape := range rowShapes {
		for _, offset := range []float32{0, 100} {
			n, c := rowsCols(shape)
			inp := randT(uint64(i), 2, shape...)
			for j := range inp.Data {
				inp.Data[j] += offset
			}
			weight, bias := normParams(uint64(i+50), c)
			// The float32 inputs carry offset·2⁻²⁴ of rounding that the
			// normalisation magnifies by 1/std.
			tol := kerneltest.Tol{Abs: refTol.Abs + float64(offset)*1e-6, Rel: refTol.Rel}
			for _, b := range []*tensor.Tensor{bias, nil} {
				out, mean, rstd := filled(9, shape...), filled(9, lead(shape)...), filled(9, lead(shape)...)
				must(t, LayerNormForward(out, mean, rstd, inp, weight, b, normEps))
				wantOut, wantMean, wantRstd := make([]float32, n*c), make([]float32, n), make([]float32, n)
				var bd []float32
				if b != nil {
					bd = b.Data
				}
				layerNormForwardNaive(wantOut, wantMean, wantRstd, inp.Data, weight.Data, bd, n, c, normEps)
				name := shapeName(shape...)
				kerneltest.Close(t, "out "+name, out.Data, wantOut, tol)
				kerneltest.Close(t, "mean "+name, mean.Data, wantMean, refTol)
				kerneltest.Close(t, "rstd "+name, rstd.Data, wantRstd, refTol)
			}
		}
	}
}

func TestLayerNormBackwardMatchesNaive(t *testing.T) {
	for i, shape := range rowShapes {
		n, c := rowsCols(shape)
		inp := randT(uint64(i), 1, shape...)
		weight, bias := normParams(uint64(i+50), c)
		out, mean, rstd := tensor.New(shape...), tensor.New(n), tensor.New(n) // flattened caches
		must(t, LayerNormForward(out, mean, rstd, inp, weight, bias, normEps))
		dout := randT(uint64(i+100), 1, shape...)
		dinp, dweight, dbias := randT(1, 1, shape...), randT(2, 1, c), randT(3, 1, c)
		wantDinp, wantDweight, wantDbias := dinp.Clone(), dweight.Clone(), dbias.Clone()
		must(t, LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd))
		layerNormBackwardNaive(wantDinp.Data, wantDweight.Data, wantDbias.Data, dout.Data, inp.Data, weight.Data, mean.Data, rstd.Data, n, c)
		name := shapeName(shape...)
		kerneltest.Close(t, "dinp "+name, dinp.Data, wantDinp.Data, refTol)
		kerneltest.Close(t, "dweight "+name, dweight.Data, wantDweight.Data, refTol)
		kerneltest.Close(t, "dbias "+name, dbias.Data, wantDbias.Data, refTol)
	}
}

func TestLayerNormGradients(t *testing.T) {
	for i, shape := range [][]int{{3, 1}, {2, 7}, {3, 8}, {2, 33}, {2, 2, 5}} {
		t.Run(shapeName(shape...), func(t *testing.T) {
			_, c := rowsCols(shape)
			inp := randT(uint64(i), 1, shape...)
			weight, bias := normParams(uint64(i+50), c)
			out, mean, rstd := tensor.New(shape...), tensor.New(lead(shape)...), tensor.New(lead(shape)...)
			dinp, dweight, dbias := tensor.New(shape...), tensor.New(c), tensor.New(c)
			checkBackward(t, uint64(i), out,
				func() { must(t, LayerNormForward(out, mean, rstd, inp, weight, bias, normEps)) },
				func(dout *tensor.Tensor) {
					must(t, LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd))
				},
				param{"dinp", inp, dinp}, param{"dweight", weight, dweight}, param{"dbias", bias, dbias})
		})
	}
}

func TestLayerNormWithoutBiasAndNilGradients(t *testing.T) {
	shape := []int{4, 9}
	inp := randT(1, 1, shape...)
	weight, _ := normParams(2, 9)
	out, mean, rstd := tensor.New(shape...), tensor.New(4), tensor.New(4)
	dinp := tensor.New(shape...)
	checkBackward(t, 3, out,
		func() { must(t, LayerNormForward(out, mean, rstd, inp, weight, nil, normEps)) },
		func(dout *tensor.Tensor) { must(t, LayerNormBackward(dinp, nil, nil, dout, inp, weight, mean, rstd)) },
		param{"dinp", inp, dinp})
}
