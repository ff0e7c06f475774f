package attntest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// call runs f, turning a panic into an error that names it.
func call(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// checkErrors feeds impl malformed and unsupported inputs: each must be an
// error, never a panic, and well-formed input must still work afterwards.
func checkErrors(t *testing.T, impl Impl) {
	caps := impl.Caps()
	const b, h, tt, d = 2, 2, 6, 4
	q, k, v := randTensor(1, b, h, tt, d), randTensor(2, b, h, tt, d), randTensor(3, b, h, tt, d)
	out := tensor.New(b, h, tt, d)
	n := func(shape ...int) *tensor.Tensor { return tensor.New(shape...) }
	type fwd struct {
		name       string
		out, q, k  *tensor.Tensor
		v          *tensor.Tensor
		mask       []bool
		causal     bool
		wantReject bool
	}
	cases := []fwd{
		{"nil out", nil, q, k, v, nil, false, true},
		{"nil q", out, nil, k, v, nil, false, true},
		{"nil k", out, q, nil, v, nil, false, true},
		{"nil v", out, q, k, nil, nil, false, true},
		{"q rank 3", out, n(b, tt, d), k, v, nil, false, true},
		{"k rank 5", out, q, n(1, b, h, tt, d), v, nil, false, true},
		{"k head dim", out, q, n(b, h, tt, d+1), v, nil, false, true},
		{"k batch", out, q, n(b+1, h, tt, d), v, nil, false, true},
		{"v unlike k", out, q, k, n(b, h, tt+1, d), nil, false, true},
		{"out shape", n(b, h, tt, d+1), q, k, v, nil, false, true},
		{"data shorter than shape", out, &tensor.Tensor{Shape: []int{b, h, tt, d}, Data: make([]float32, 3)}, k, v, nil, false, true},
		{"mask length", out, q, k, v, make([]bool, b*tt-1), false, true},
		{"heads not divisible by kv heads", n(b, 3, tt, d), n(b, 3, tt, d), k, v, nil, false, true},
		{"more kv heads than heads", n(b, 1, tt, d), n(b, 1, tt, d), k, v, nil, false, true},
		{"zero kv heads", out, q, n(b, 0, tt, d), n(b, 0, tt, d), nil, false, true},
		{"kv heads", out, q, n(b, 1, tt, d), n(b, 1, tt, d), nil, false, !caps.KVHeads},
		{"causal", out, q, k, v, nil, true, !caps.Causal},
		{"key mask", out, q, k, v, PaddingMask(1, b, tt), false, !caps.KeyMask},
		{"Tq != Tk", n(b, h, tt-1, d), n(b, h, tt-1, d), k, v, nil, false, !caps.Cross},
	}
	for _, c := range cases {
		err := call(func() error { return impl.Forward(c.out, c.q, c.k, c.v, c.mask, c.causal) })
		switch {
		case err != nil && !c.wantReject:
			t.Errorf("Forward with %s: unexpected error %v", c.name, err)
		case err == nil && c.wantReject:
			t.Errorf("Forward with %s: no error", c.name)
		case err != nil && strings.HasPrefix(err.Error(), "panic:"):
			t.Errorf("Forward with %s: %v", c.name, err)
		}
	}
	// The backward of a well-formed forward, given bad gradient tensors.
	if err := impl.Forward(out, q, k, v, nil, false); err != nil {
		t.Fatalf("Forward on well-formed input: %v", err)
	}
	dq, dk, dv, dout := n(b, h, tt, d), n(b, h, tt, d), n(b, h, tt, d), randTensor(4, b, h, tt, d)
	for _, c := range []struct {
		name             string
		dq, dk, dv, dout *tensor.Tensor
	}{
		{"nil dout", dq, dk, dv, nil},
		{"dout shape", dq, dk, dv, n(b, h, tt+1, d)},
		{"dq shape", n(b, h, tt, d+1), dk, dv, dout},
		{"dk shape", dq, n(b, h+1, tt, d), dv, dout},
		{"dv shape", dq, dk, n(b, h, tt, 1), dout},
	} {
		err := call(func() error { return impl.Backward(c.dq, c.dk, c.dv, c.dout) })
		if err == nil {
			t.Errorf("Backward with %s: no error", c.name)
		} else if strings.HasPrefix(err.Error(), "panic:") {
			t.Errorf("Backward with %s: %v", c.name, err)
		}
	}
	if err := call(func() error { return impl.Backward(dq, dk, dv, dout) }); err != nil {
		t.Errorf("Backward on well-formed input after rejected calls: %v", err)
	}
}
