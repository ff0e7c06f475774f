package transformer

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// randomTensor returns a tensor of the shape with normal(0, 1) values.
func randomTensor(r *rng.RNG, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	r.FillNormal(x.Data, 0, 1)
	return x
}

// With as many key/value heads as query heads, splitQKV and its backward
// are attention.SplitHeads and SplitHeadsBackward, bit for bit.
func TestSplitQKVEqualHeadsIsSplitHeads(t *testing.T) {
	const b, h, tt, d = 2, 3, 5, 4
	r := rng.New(1)
	qkv := randomTensor(r, b, tt, 3*h*d)
	q, k, v := tensor.New(b, h, tt, d), tensor.New(b, h, tt, d), tensor.New(b, h, tt, d)
	wq, wk, wv := tensor.New(b, h, tt, d), tensor.New(b, h, tt, d), tensor.New(b, h, tt, d)
	if err := splitQKV(q, k, v, qkv); err != nil {
		t.Fatal(err)
	}
	if err := attention.SplitHeads(wq, wk, wv, qkv); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "q", q.Data, wq.Data)
	sameBits(t, "k", k.Data, wk.Data)
	sameBits(t, "v", v.Data, wv.Data)
	dq, dk, dv := randomTensor(r, b, h, tt, d), randomTensor(r, b, h, tt, d), randomTensor(r, b, h, tt, d)
	start := randomTensor(r, b, tt, 3*h*d)
	got, want := start.Clone(), start.Clone()
	if err := splitQKVBackward(got, dq, dk, dv); err != nil {
		t.Fatal(err)
	}
	if err := attention.SplitHeadsBackward(want, dq, dk, dv); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "dqkv", got.Data, want.Data)
}

// splitQKVBackward is the gradient of splitQKV: for the loss
// L = Σ wq·q + Σ wk·k + Σ wv·v it accumulates ∂L/∂qkv, which central
// differences confirm element by element (the split is linear, so they
// are exact up to rounding).
func TestSplitQKVGradientsMatchFiniteDifferences(t *testing.T) {
	const b, h, tt, d = 2, 4, 3, 2
	for _, kvh := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("kv_heads=%d", kvh), func(t *testing.T) {
			r := rng.New(uint64(10 + kvh))
			w := (h + 2*kvh) * d
			qkv := randomTensor(r, b, tt, w)
			q, k, v := tensor.New(b, h, tt, d), tensor.New(b, kvh, tt, d), tensor.New(b, kvh, tt, d)
			wq, wk, wv := randomTensor(r, b, h, tt, d), randomTensor(r, b, kvh, tt, d), randomTensor(r, b, kvh, tt, d)
			loss := func() float64 {
				if err := splitQKV(q, k, v, qkv); err != nil {
					t.Fatal(err)
				}
				var s float64
				for _, p := range [][2]*tensor.Tensor{{q, wq}, {k, wk}, {v, wv}} {
					for i, x := range p[0].Data {
						s += float64(x) * float64(p[1].Data[i])
					}
				}
				return s
			}
			grad := tensor.New(b, tt, w)
			if err := splitQKVBackward(grad, wq, wk, wv); err != nil {
				t.Fatal(err)
			}
			const step = 0.25 // exact in float32 for these magnitudes
			for i := range qkv.Data {
				x := qkv.Data[i]
				qkv.Data[i] = x + step
				fp := loss()
				qkv.Data[i] = x - step
				fm := loss()
				qkv.Data[i] = x
				num := (fp - fm) / (2 * step)
				if math.Abs(num-float64(grad.Data[i])) > 1e-5*max(1, math.Abs(num)) {
					t.Fatalf("dqkv[%d]: backward %v, finite differences %v", i, grad.Data[i], num)
				}
			}
			// Every element reaches exactly one head: the backward of
			// ones is ones.
			ones := func(x *tensor.Tensor) *tensor.Tensor {
				y := x.Clone()
				for i := range y.Data {
					y.Data[i] = 1
				}
				return y
			}
			all := tensor.New(b, tt, w)
			if err := splitQKVBackward(all, ones(q), ones(k), ones(v)); err != nil {
				t.Fatal(err)
			}
			for i, g := range all.Data {
				if g != 1 {
					t.Fatalf("element %d of qkv reaches %v heads, want 1", i, g)
				}
			}
		})
	}
}

func TestSplitQKVShapeErrors(t *testing.T) {
	const b, h, tt, d = 1, 4, 2, 2
	q := tensor.New(b, h, tt, d)
	for _, c := range []struct {
		name    string
		k, qkv  *tensor.Tensor
		wantErr string
	}{
		{"kv heads", tensor.New(b, 3, tt, d), tensor.New(b, tt, (h+6)*d), "3 key/value heads do not divide 4 query heads"},
		{"qkv width", tensor.New(b, 2, tt, d), tensor.New(b, tt, 3*h*d), "qkv (1, 2, 24), want (1, 2, 16)"},
		{"k length", tensor.New(b, 2, tt+1, d), tensor.New(b, tt, (h+4)*d), "want (1, KVH, 2, 2) each"},
	} {
		err := splitQKV(q, c.k, c.k.Clone(), c.qkv)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.wantErr)
		}
	}
}
