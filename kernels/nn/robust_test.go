package nn

import (
	"fmt"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// anyKernel is one kernel with the operand shapes it accepts, so the test
// can start from a valid call and break it.
type anyKernel struct {
	name string
	// shapes lists each operand's valid shape for an input x (N.., C) and a
	// second size k (OC, V or maxT).
	shapes func(x []int, k int) [][]int
	// vocab returns the number of valid ids (targets) for the call, or -1
	// if the kernel takes none.
	vocab func(x []int, k int) int
	call  func(ts []*tensor.Tensor, ids []int32) error
}

func noIDs([]int, int) int { return -1 }

// Shape helpers: x with its last dimension replaced, x's leading
// dimensions, x's last dimension as a vector, and a (k, C) table.
func withLast(x []int, n int) []int   { return append(append([]int(nil), lead(x)...), n) }
func vecShape(x []int) []int          { return []int{x[len(x)-1]} }
func tableShape(x []int, k int) []int { return []int{k, x[len(x)-1]} }

var anyKernels = []anyKernel{
	{"LinearForward", func(x []int, k int) [][]int { return [][]int{withLast(x, k), x, tableShape(x, k), {k}} }, noIDs,
		func(t []*tensor.Tensor, _ []int32) error { return LinearForward(t[0], t[1], t[2], t[3]) }},
	{"LinearBackward", func(x []int, k int) [][]int {
		return [][]int{x, tableShape(x, k), {k}, withLast(x, k), x, tableShape(x, k)}
	}, noIDs,
		func(t []*tensor.Tensor, _ []int32) error { return LinearBackward(t[0], t[1], t[2], t[3], t[4], t[5]) }},
	{"EmbeddingForward", func(x []int, k int) [][]int { return [][]int{x, tableShape(x, k)} }, func(_ []int, k int) int { return k },
		func(t []*tensor.Tensor, ids []int32) error { return EmbeddingForward(t[0], ids, t[1]) }},
	{"EmbeddingBackward", func(x []int, k int) [][]int { return [][]int{tableShape(x, k), x} }, func(_ []int, k int) int { return k },
		func(t []*tensor.Tensor, ids []int32) error { return EmbeddingBackward(t[0], t[1], ids) }},
	{"PositionForward", func(x []int, k int) [][]int { return [][]int{x, x, tableShape(x, k+3)} }, noIDs,
		func(t []*tensor.Tensor, _ []int32) error { return PositionForward(t[0], t[1], t[2]) }},
	{"PositionBackward", func(x []int, k int) [][]int { return [][]int{x, tableShape(x, k+3), x} }, noIDs,
		func(t []*tensor.Tensor, _ []int32) error { return PositionBackward(t[0], t[1], t[2]) }},
	{"SinusoidalPositions", func(x []int, k int) [][]int { return [][]int{{k, 2 * k}} }, noIDs,
		func(t []*tensor.Tensor, _ []int32) error { return SinusoidalPositions(t[0]) }},
	{"LayerNormForward", func(x []int, k int) [][]int { return [][]int{x, lead(x), lead(x), x, vecShape(x), vecShape(x)} }, noIDs,
		func(t []*tensor.Tensor, _ []int32) error {
			return LayerNormForward(t[0], t[1], t[2], t[3], t[4], t[5], 1e-5)
		}},
	{"LayerNormBackward", func(x []int, k int) [][]int {
		return [][]int{x, vecShape(x), vecShape(x), x, x, vecShape(x), lead(x), lead(x)}
	}, noIDs,
		func(t []*tensor.Tensor, _ []int32) error {
			return LayerNormBackward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])
		}},
	{"RMSNormForward", func(x []int, k int) [][]int { return [][]int{x, lead(x), x, vecShape(x)} }, noIDs,
		func(t []*tensor.Tensor, _ []int32) error { return RMSNormForward(t[0], t[1], t[2], t[3], 1e-5) }},
	{"RMSNormBackward", func(x []int, k int) [][]int { return [][]int{x, vecShape(x), x, x, vecShape(x), lead(x)} }, noIDs,
		func(t []*tensor.Tensor, _ []int32) error { return RMSNormBackward(t[0], t[1], t[2], t[3], t[4], t[5]) }},
	{"GELUForward", same2, noIDs, func(t []*tensor.Tensor, _ []int32) error { return GELUForward(t[0], t[1], GELUTanh) }},
	{"GELUBackward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return GELUBackward(t[0], t[1], t[2], GELUErf) }},
	{"ReLUForward", same2, noIDs, func(t []*tensor.Tensor, _ []int32) error { return ReLUForward(t[0], t[1]) }},
	{"ReLUBackward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return ReLUBackward(t[0], t[1], t[2]) }},
	{"SiLUForward", same2, noIDs, func(t []*tensor.Tensor, _ []int32) error { return SiLUForward(t[0], t[1]) }},
	{"SiLUBackward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return SiLUBackward(t[0], t[1], t[2]) }},
	{"SoftplusForward", same2, noIDs, func(t []*tensor.Tensor, _ []int32) error { return SoftplusForward(t[0], t[1]) }},
	{"SoftplusBackward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return SoftplusBackward(t[0], t[1], t[2]) }},
	{"SoftmaxForward", same2, noIDs, func(t []*tensor.Tensor, _ []int32) error { return SoftmaxForward(t[0], t[1]) }},
	{"SoftmaxBackward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return SoftmaxBackward(t[0], t[1], t[2]) }},
	{"LogSoftmaxForward", same2, noIDs, func(t []*tensor.Tensor, _ []int32) error { return LogSoftmaxForward(t[0], t[1]) }},
	{"LogSoftmaxBackward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return LogSoftmaxBackward(t[0], t[1], t[2]) }},
	{"CrossEntropyForward", func(x []int, k int) [][]int { return [][]int{lead(x), x, x} }, func(x []int, _ int) int { return x[len(x)-1] },
		func(t []*tensor.Tensor, ids []int32) error {
			_, _, err := CrossEntropyForward(t[0], t[1], t[2], ids, 2)
			return err
		}},
	{"CrossEntropyBackward", func(x []int, k int) [][]int { return [][]int{x, x} }, func(x []int, _ int) int { return x[len(x)-1] },
		func(t []*tensor.Tensor, ids []int32) error { return CrossEntropyBackward(t[0], t[1], ids, 2, 1) }},
	{"DropoutForward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return DropoutForward(t[0], t[1], t[2], 0.5, rng.New(1)) }},
	{"DropoutBackward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return DropoutBackward(t[0], t[1], t[2]) }},
	{"ResidualForward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return ResidualForward(t[0], t[1], t[2]) }},
	{"ResidualBackward", same3, noIDs, func(t []*tensor.Tensor, _ []int32) error { return ResidualBackward(t[0], t[1], t[2]) }},
}

func same2(x []int, _ int) [][]int { return [][]int{x, x} }
func same3(x []int, _ int) [][]int { return [][]int{x, x, x} }

// randomOperand returns nil, a tensor whose Data does not match its shape,
// or a tensor of rank 0 to 3 with dimensions 0 to 3.
func randomOperand(r *rng.RNG) *tensor.Tensor {
	switch r.Intn(6) {
	case 0:
		return nil
	case 1:
		return &tensor.Tensor{Shape: []int{2, 2}, Data: make([]float32, 3)}
	}
	shape := make([]int, r.Intn(4))
	for i := range shape {
		shape[i] = r.Intn(4)
	}
	return tensor.New(shape...)
}

// No operands make a kernel panic: bad ones are errors, and a call that
// returns an error has written nothing. Each trial starts
// from a valid call on random small sizes (zeros included) and replaces
// some operands with random ones (nil, malformed, any rank), and some ids
// with out-of-range values, so every validation path is reached.
func TestNoPanicOnArbitraryOperands(t *testing.T) {
	r := rng.New(1)
	for _, k := range anyKernels {
		accepted, rejected := 0, 0
		for range 2000 {
			x := make([]int, 1+r.Intn(3)) // (N.., C)
			for i := range x {
				x[i] = r.Intn(4)
			}
			size := r.Intn(4)
			valid := k.shapes(x, size)
			ts := make([]*tensor.Tensor, len(valid))
			for i, shape := range valid {
				ts[i] = tensor.New(shape...)
				r.FillNormal(ts[i].Data, 0, 1)
				if r.Intn(len(valid)+1) == 0 {
					ts[i] = randomOperand(r)
				}
			}
			var ids []int32
			if v := k.vocab(x, size); v >= 0 {
				ids = make([]int32, tensor.Numel(lead(x)))
				if r.Intn(8) == 0 {
					ids = ids[:r.Intn(len(ids)+1)]
				}
				for i := range ids {
					ids[i] = int32(r.Intn(v + 1)) // v itself is out of range
					if r.Intn(8) == 0 {
						ids[i] = -1
					}
				}
			}
			before := make([][]float32, len(ts))
			for i, op := range ts {
				if op != nil {
					before[i] = append([]float32(nil), op.Data...)
				}
			}
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("panic: %v", p)
						t.Errorf("%s(%v, ids %v) panicked: %v", k.name, shapes(ts), ids, p)
					}
				}()
				return k.call(ts, ids)
			}()
			if err == nil {
				accepted++
				continue
			}
			rejected++
			for i, op := range ts {
				if op != nil && !slices.Equal(op.Data, before[i]) {
					t.Errorf("%s(%v, ids %v) wrote operand %d and returned %v", k.name, shapes(ts), ids, i, err)
				}
			}
		}
		if accepted == 0 || rejected == 0 {
			t.Errorf("%s: %d calls accepted and %d rejected; the test must reach both the kernel and its checks", k.name, accepted, rejected)
		}
	}
}

func shapes(ts []*tensor.Tensor) []string {
	s := make([]string, len(ts))
	for i, t := range ts {
		if t == nil {
			s[i] = "nil"
		} else {
			s[i] = tensor.FormatShape(t.Shape)
		}
	}
	return s
}
