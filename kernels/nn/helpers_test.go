package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Tolerances, stated once and named by what they bound.
var (
	// fast float32 kernel against its float64 reference, O(1) values
	refTol = kerneltest.Tol{Abs: 1e-5, Rel: 1e-4}
	// sums of a few hundred products (Gemm against the float64 triple loop)
	sumTol = kerneltest.Tol{Abs: 1e-4, Rel: 1e-4}
	// analytic gradient against central differences of a float32 forward
	fdTol = kerneltest.Tol{Abs: 5e-3, Rel: 2e-2}
	// a second backward call doubles the gradient, up to accumulation order
	twiceTol = kerneltest.Tol{Abs: 1e-6, Rel: 1e-5}
)

// fdStep is the central-difference step for float32 forwards with O(1)
// inputs: large enough that rounding noise in the loss stays far below the
// gradient, small enough that the O(h²) truncation error does too.
const fdStep = 1e-2

// randT returns a tensor of normal values with standard deviation std.
func randT(seed uint64, std float32, shape ...int) *tensor.Tensor {
	t, err := tensor.From(kerneltest.Rand(seed, tensor.Numel(shape), std), shape...)
	if err != nil {
		panic(err)
	}
	return t
}

// filled returns a tensor of the given shape with every element v.
func filled(v float32, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

// must fails the test on an unexpected error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// param is one input of a kernel whose gradient a backward computes.
type param struct {
	name string
	x    *tensor.Tensor // perturbed by finite differences
	grad *tensor.Tensor // where the backward accumulates dL/dx
}

// checkBackward tests a backward pass two ways, with the loss
// L = <out, w> for a random w (so dL/dout = w):
//
//   - each param's analytic gradient against central finite differences;
//   - accumulation: a second backward call on top of the first doubles
//     every gradient.
//
// forward recomputes out (and any cache) from the current inputs;
// backward(dout) accumulates into every param's grad from the caches of
// the last forward.
func checkBackward(t *testing.T, seed uint64, out *tensor.Tensor, forward func(), backward func(dout *tensor.Tensor), params ...param) {
	t.Helper()
	forward()
	w := randT(seed, 1, out.Shape...)
	for _, p := range params {
		p.grad.Zero()
	}
	backward(w)
	loss := func() float64 {
		forward()
		return kerneltest.Dot(out.Data, w.Data)
	}
	for _, p := range params {
		kerneltest.GradCheck(t, p.name, p.x.Data, p.grad.Data, fdStep, fdTol, loss)
	}
	forward() // restore the caches to the unperturbed inputs
	once := make([][]float32, len(params))
	for i, p := range params {
		once[i] = append([]float32(nil), p.grad.Data...)
	}
	backward(w)
	for i, p := range params {
		twice := make([]float32, len(once[i]))
		for j, v := range once[i] {
			twice[j] = 2 * v
		}
		kerneltest.Close(t, p.name+" after two backward calls", p.grad.Data, twice, twiceTol)
	}
}

// shapeName renders a shape for subtest names: "2x3x7".
func shapeName(shape ...int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += "x"
		}
		s += fmt.Sprint(d)
	}
	return s
}

// rowShapes are the (N.., C) shapes the row-wise kernels are tested on:
// odd sizes, a single column, a single row, and three-dimensional inputs.
var rowShapes = [][]int{
	{1, 1}, {3, 1}, {1, 7}, {5, 7}, {4, 8}, {3, 33}, {2, 130}, {2, 3, 17}, {2, 2, 64}, {7},
}

// lead returns shape without its last dimension.
func lead(shape []int) []int { return shape[:len(shape)-1] }

// rowsCols returns N (the product of the leading dimensions) and C.
func rowsCols(shape []int) (int, int) {
	return tensor.Numel(lead(shape)), shape[len(shape)-1]
}

// containsAll reports whether s contains every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// checkUntouched fails t unless every element of x is v: the value it was
// filled with before a call that must not write it.
func checkUntouched(t testing.TB, name string, x *tensor.Tensor, v float32) {
	t.Helper()
	if x == nil {
		return
	}
	for i, got := range x.Data {
		if got != v {
			t.Errorf("%s[%d] = %v, want %v", name, i, got, v)
			return
		}
	}
}
