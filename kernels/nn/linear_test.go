package nn

import (
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

type linearCase struct {
	lead    []int // leading dimensions of inp and out
	c, oc   int
	hasBias bool
}

var linearCases = []linearCase{
	{[]int{1}, 1, 1, true},
	{[]int{7}, 33, 130, true},
	{[]int{13}, 130, 33, false},
	{[]int{2, 3}, 7, 5, true},
	{[]int{2, 5}, 64, 17, false},
	{[]int{1, 1, 9}, 16, 8, true},
}

// linearTensors returns random inp, weight, bias (nil without a bias) and a
// zero out for c.
func linearTensors(c linearCase, seed uint64) (out, inp, weight, bias *tensor.Tensor) {
	inp = randT(seed, 1, append(append([]int(nil), c.lead...), c.c)...)
	weight = randT(seed+1, 0.5, c.oc, c.c)
	if c.hasBias {
		bias = randT(seed+2, 1, c.oc)
	}
	out = tensor.New(append(append([]int(nil), c.lead...), c.oc)...)
	return out, inp, weight, bias
}

func TestLinearForwardMatchesNaive(t *testing.T) {
	for i, c := range linearCases {
		out, inp, weight, bias := linearTensors(c, uint64(10*i))
		copy(out.Data, kerneltest.Rand(99, out.Len(), 1)) // must be overwritten
		must(t, LinearForward(out, inp, weight, bias))
		want := make([]float32, out.Len())
		var b []float32
		if bias != nil {
			b = bias.Data
		}
		linearForwardNaive(want, inp.Data, weight.Data, b, inp.Rows(), c.c, c.oc)
		kerneltest.Close(t, "out "+shapeName(inp.Shape...)+"->"+shapeName(c.oc), out.Data, want, sumTol)
	}
}

func TestLinearBackwardMatchesNaive(t *testing.T) {
	for i, c := range linearCases {
		_, inp, weight, _ := linearTensors(c, uint64(10*i))
		n := inp.Rows()
		dout := randT(uint64(10*i+5), 1, append(append([]int(nil), c.lead...), c.oc)...)
		// Start from non-zero gradients: the backward must add to them.
		dinp, dweight, dbias := randT(1, 1, inp.Shape...), randT(2, 1, c.oc, c.c), randT(3, 1, c.oc)
		wantDinp, wantDweight, wantDbias := dinp.Clone(), dweight.Clone(), dbias.Clone()
		must(t, LinearBackward(dinp, dweight, dbias, dout, inp, weight))
		linearBackwardNaive(wantDinp.Data, wantDweight.Data, wantDbias.Data, dout.Data, inp.Data, weight.Data, n, c.c, c.oc)
		name := shapeName(inp.Shape...) + "->" + shapeName(c.oc)
		kerneltest.Close(t, "dinp "+name, dinp.Data, wantDinp.Data, sumTol)
		kerneltest.Close(t, "dweight "+name, dweight.Data, wantDweight.Data, sumTol)
		kerneltest.Close(t, "dbias "+name, dbias.Data, wantDbias.Data, sumTol)
	}
}

// LinearBackwardTo overwrites dinp with what LinearBackward adds to a
// zeroed dinp, bit for bit, and accumulates dweight and dbias as it does.
func TestLinearBackwardToOverwrites(t *testing.T) {
	for i, c := range linearCases {
		_, inp, weight, _ := linearTensors(c, uint64(10*i))
		dout := randT(uint64(10*i+5), 1, append(append([]int(nil), c.lead...), c.oc)...)
		dinp, dweight, dbias := randT(1, 1, inp.Shape...), randT(2, 1, c.oc, c.c), randT(3, 1, c.oc)
		wantDinp, wantDweight, wantDbias := tensor.New(inp.Shape...), dweight.Clone(), dbias.Clone()
		must(t, LinearBackward(wantDinp, wantDweight, wantDbias, dout, inp, weight))
		must(t, LinearBackwardTo(dinp, dweight, dbias, dout, inp, weight))
		name := shapeName(inp.Shape...) + "->" + shapeName(c.oc)
		kerneltest.Identical(t, "dinp "+name, dinp.Data, wantDinp.Data)
		kerneltest.Identical(t, "dweight "+name, dweight.Data, wantDweight.Data)
		kerneltest.Identical(t, "dbias "+name, dbias.Data, wantDbias.Data)
	}
}

func TestLinearBackwardNilGradients(t *testing.T) {
	c := linearCases[3]
	_, inp, weight, _ := linearTensors(c, 1)
	dout := randT(2, 1, append(append([]int(nil), c.lead...), c.oc)...)
	dweight := tensor.New(c.oc, c.c)
	must(t, LinearBackward(nil, dweight, nil, dout, inp, weight))
	want := tensor.New(c.oc, c.c)
	linearBackwardNaive(nil, want.Data, nil, dout.Data, inp.Data, weight.Data, inp.Rows(), c.c, c.oc)
	kerneltest.Close(t, "dweight alone", dweight.Data, want.Data, sumTol)
}

func TestLinearGradients(t *testing.T) {
	for i, c := range []linearCase{{[]int{3}, 7, 5, true}, {[]int{2, 2}, 1, 3, true}, {[]int{2}, 9, 1, false}} {
		t.Run(shapeName(append(c.lead, c.c, c.oc)...), func(t *testing.T) {
			out, inp, weight, bias := linearTensors(c, uint64(i))
			dinp, dweight := tensor.New(inp.Shape...), tensor.New(weight.Shape...)
			params := []param{{"dinp", inp, dinp}, {"dweight", weight, dweight}}
			var dbias *tensor.Tensor
			if bias != nil {
				dbias = tensor.New(bias.Shape...)
				params = append(params, param{"dbias", bias, dbias})
			}
			checkBackward(t, uint64(i), out,
				func() { must(t, LinearForward(out, inp, weight, bias)) },
				func(dout *tensor.Tensor) { must(t, LinearBackward(dinp, dweight, dbias, dout, inp, weight)) },
				params...)
		})
	}
}

// Gemm splits large products across threads; the split must not change
// a single bit.
func TestLinearSameBitsForAnyThreadCount(t *testing.T) {
	c := linearCase{[]int{64}, 128, 80, true}
	out, inp, weight, bias := linearTensors(c, 7)
	prev := parallel.SetThreads(1)
	defer parallel.SetThreads(prev)
	must(t, LinearForward(out, inp, weight, bias))
	one := out.Clone()
	parallel.SetThreads(2)
	must(t, LinearForward(out, inp, weight, bias))
	kerneltest.Identical(t, "out with 1 and 2 threads", out.Data, one.Data)
}

// GELUBackwardTo overwrites dinp with what GELUBackward adds to zeros, bit
// for bit, in both forms, over a tensor cut into several parts.
func TestGELUBackwardToOverwrites(t *testing.T) {
	for _, approx := range []GELUApprox{GELUTanh, GELUErf} {
		inp, dout := randT(1, 3, 3, 40000), randT(2, 1, 3, 40000)
		want := tensor.New(inp.Shape...)
		must(t, GELUBackward(want, inp, dout, approx))
		got := randT(3, 1, inp.Shape...) // garbage, to be overwritten
		must(t, GELUBackwardTo(got, inp, dout, approx))
		kerneltest.Identical(t, "dinp", got.Data, want.Data)
	}
}
