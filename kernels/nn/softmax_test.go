package nn

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// softmaxKernel is Softmax (log = false) or LogSoftmax (log = true).
type softmaxKernel struct {
	name     string
	log      bool
	forward  func(out, inp *tensor.Tensor) error
	backward func(dinp, out, dout *tensor.Tensor) error
}

var softmaxKernels = []softmaxKernel{
	{"Softmax", false, SoftmaxForward, SoftmaxBackward},
	{"LogSoftmax", true, LogSoftmaxForward, LogSoftmaxBackward},
}

// softmaxShapes adds rows longer than the stack chunk to rowShapes.
var softmaxShapes = append(append([][]int(nil), rowShapes...), []int{2, 257}, []int{1, 1000})

func TestSoftmaxForwardMatchesNaive(t *testing.T) {
	for _, k := range softmaxKernels {
		for i, shape := range softmaxShapes {
			n, c := rowsCols(shape)
			inp := randT(uint64(i), 3, shape...)
			inp.Data[0] += 500 // large logits must not overflow
			out := filled(9, shape...)
			must(t, k.forward(out, inp))
			want := make([]float32, n*c)
			softmaxForwardNaive(want, inp.Data, n, c, k.log)
			kerneltest.Close(t, k.name+" out "+shapeName(shape...), out.Data, want, refTol)

			// In place: out may alias inp.
			must(t, k.forward(inp, inp))
			kerneltest.Close(t, k.name+" in place "+shapeName(shape...), inp.Data, want, refTol)
		}
	}
}

func TestSoftmaxBackwardMatchesNaive(t *testing.T) {
	for _, k := range softmaxKernels {
		for i, shape := range softmaxShapes {
			n, c := rowsCols(shape)
			inp := randT(uint64(i), 2, shape...)
			out := tensor.New(shape...)
			must(t, k.forward(out, inp))
			dout := randT(uint64(i+100), 1, shape...)
			dinp := randT(uint64(i+200), 1, shape...) // the backward must add to it
			want := dinp.Clone()
			must(t, k.backward(dinp, out, dout))
			softmaxBackwardNaive(want.Data, out.Data, dout.Data, n, c, k.log)
			kerneltest.Close(t, k.name+" dinp "+shapeName(shape...), dinp.Data, want.Data, refTol)
			must(t, k.backward(nil, out, dout)) // nil dinp: nothing to do, no error
		}
	}
}

func TestSoftmaxGradients(t *testing.T) {
	for _, k := range softmaxKernels {
		for i, shape := range [][]int{{3, 1}, {2, 7}, {2, 33}, {2, 2, 5}} {
			t.Run(k.name+"/"+shapeName(shape...), func(t *testing.T) {
				inp := randT(uint64(i), 1, shape...)
				out, dinp := tensor.New(shape...), tensor.New(shape...)
				checkBackward(t, uint64(i), out,
					func() { must(t, k.forward(out, inp)) },
					func(dout *tensor.Tensor) { must(t, k.backward(dinp, out, dout)) },
					param{"dinp", inp, dinp})
			})
		}
	}
}

// Masked logits (-Inf, as attention uses them) get probability exactly 0
// and log-probability -Inf, and do not disturb the other entries.
func TestSoftmaxMaskedEntries(t *testing.T) {
	inf := float32(math.Inf(-1))
	inp := &tensor.Tensor{Shape: []int{1, 4}, Data: []float32{1, inf, 2, inf}}
	out := tensor.New(1, 4)
	must(t, SoftmaxForward(out, inp))
	e := math.Exp(-1)
	want := []float32{float32(e / (1 + e)), 0, float32(1 / (1 + e)), 0}
	kerneltest.Close(t, "softmax with masked entries", out.Data, want, refTol)
	must(t, LogSoftmaxForward(out, inp))
	want = []float32{float32(-math.Log1p(1 / e)), inf, float32(-math.Log1p(e)), inf}
	kerneltest.Close(t, "log-softmax with masked entries", out.Data, want, refTol)
}
