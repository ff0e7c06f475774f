package attention

import (
	"runtime"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Flash equals full attention within 1e-5 relative error (of each
// tensor's largest magnitude), forward and backward, on shapes with many
// query and key blocks.
func TestFlashEqualsFull(t *testing.T) {
	for i, c := range []attnCase{
		{2, 2, 300, 300, 64, false, false},
		{1, 3, 333, 333, 32, true, false},
		{3, 2, 200, 200, 16, true, true},
		{1, 2, 100, 390, 64, true, true},
		{1, 1, 129, 257, 8, false, true},
		{1, 2, 700, 1100, 16, true, true}, // several 512-key blocks (small d)
		{1, 1, 600, 600, 32, false, true}, // several 256-key blocks
	} {
		t.Run(c.String(), func(t *testing.T) {
			q := randT(uint64(10*i), c.b, c.h, c.tq, c.d)
			k, v := randT(uint64(10*i+1), c.b, c.h, c.tk, c.d), randT(uint64(10*i+2), c.b, c.h, c.tk, c.d)
			dout := randT(uint64(10*i+3), c.b, c.h, c.tq, c.d)
			mask := keyMaskFor(c)
			opt := Options{Causal: c.causal}
			full := &fullImpl{}
			flash := &flashImpl{}
			var res [2][]*tensor.Tensor
			for n, impl := range []attntest.Impl{full, flash} {
				out, dq, dk, dv := tensor.New(q.Shape...), tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
				if err := impl.Forward(out, q, k, v, mask, opt.Causal); err != nil {
					t.Fatal(err)
				}
				if err := impl.Backward(dq, dk, dv, dout); err != nil {
					t.Fatal(err)
				}
				res[n] = []*tensor.Tensor{out, dq, dk, dv}
			}
			for n, name := range []string{"out", "dq", "dk", "dv"} {
				attntest.CloseRel(t, name, res[1][n].Data, res[0][n].Data, 1e-5)
			}
		})
	}
}

// Flash keeps nothing of size T×T: a cold forward and backward at 1024
// tokens allocates far less than one 1024×1024 float32 matrix (4 MiB).
func TestFlashMemoryIsLinear(t *testing.T) {
	const n, d = 1024, 16
	q, k, v := randT(1, 1, 2, n, d), randT(2, 1, 1, n, d), randT(3, 1, 1, n, d)
	out, lse := tensor.New(q.Shape...), tensor.New(LSEShape(1, 2, n)...)
	dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := FlashForward(out, lse, q, k, v, nil, Options{Causal: true}); err != nil {
		t.Fatal(err)
	}
	if err := FlashBackward(dq, dk, dv, out, q, k, v, out, lse, nil, Options{Causal: true}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("a cold flash forward and backward at T=%d allocated %d bytes, want < 1 MiB (T² floats are %d)", n, got, 4*n*n)
	}
}
