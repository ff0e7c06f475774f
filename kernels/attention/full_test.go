package attention

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

type attnCase struct {
	b, h, tq, tk, d int
	causal, pad     bool
}

func (c attnCase) String() string {
	return fmt.Sprintf("B=%d/H=%d/Tq=%d/Tk=%d/D=%d/causal=%v/pad=%v", c.b, c.h, c.tq, c.tk, c.d, c.causal, c.pad)
}

func randT(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	copy(t.Data, kerneltest.Rand(seed, len(t.Data), 1))
	return t
}

// keyMaskFor hides a seeded suffix of keys per batch (right padding); batch
// 0 keeps every key and, when there are several, the last batch hides all.
func keyMaskFor(c attnCase) []bool {
	if !c.pad {
		return nil
	}
	r := rng.New(5)
	m := make([]bool, c.b*c.tk)
	for b := range c.b {
		n := c.tk
		if b > 0 {
			n = r.Intn(c.tk + 1)
		}
		if b == c.b-1 && c.b > 1 {
			n = 0
		}
		for j := range n {
			m[b*c.tk+j] = true
		}
	}
	return m
}

var cases = []attnCase{
	{1, 1, 1, 1, 1, false, false},
	{2, 3, 5, 5, 4, false, false},
	{2, 3, 5, 5, 4, true, false},
	{3, 2, 7, 7, 4, false, true},
	{3, 2, 37, 37, 8, true, true},
	{1, 2, 33, 50, 12, false, false},
	{1, 2, 20, 45, 16, true, false}, // Tk > Tq: causal aligned at the end
	{2, 2, 70, 70, 64, true, false},
	{1, 3, 100, 300, 64, false, true},
	{1, 1, 65, 65, 67, true, true},
}

func TestFullAgainstNaive(t *testing.T) {
	for i, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			q := randT(uint64(10*i), c.b, c.h, c.tq, c.d)
			k := randT(uint64(10*i+1), c.b, c.h, c.tk, c.d)
			v := randT(uint64(10*i+2), c.b, c.h, c.tk, c.d)
			dout := randT(uint64(10*i+3), c.b, c.h, c.tq, c.d)
			mask := keyMaskFor(c)
			opt := Options{Causal: c.causal}
			wantOut, wantP := naiveForward(q, k, v, mask, opt)
			out := tensor.New(c.b, c.h, c.tq, c.d)
			att := tensor.New(CacheShape(c.b, c.h, c.tq, c.tk)...)
			if err := FullForward(out, att, q, k, v, mask, opt); err != nil {
				t.Fatal(err)
			}
			tol := kerneltest.Tol{Abs: 2e-6 * float64(c.d+c.tk), Rel: 1e-4}
			kerneltest.Close(t, "out", out.Data, wantOut.Data, tol)
			p := tensor.New(c.b, c.h, c.tq, c.tk)
			if err := Weights(p, att); err != nil {
				t.Fatal(err)
			}
			kerneltest.Close(t, "probabilities", p.Data, wantP.Data, kerneltest.Tol{Abs: 1e-6, Rel: 1e-4})

			wdq, wdk, wdv := naiveBackward(dout, q, k, v, wantP, opt)
			dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := FullBackward(dq, dk, dv, dout, q, k, v, att, mask, opt); err != nil {
				t.Fatal(err)
			}
			kerneltest.Close(t, "dq", dq.Data, wdq.Data, tol)
			kerneltest.Close(t, "dk", dk.Data, wdk.Data, tol)
			kerneltest.Close(t, "dv", dv.Data, wdv.Data, tol)
		})
	}
}

// The backward accumulates, and may skip gradients the caller does not want.
func TestFullBackwardAccumulatesAndSkips(t *testing.T) {
	c := attnCase{2, 2, 9, 9, 8, true, false}
	q, k, v := randT(1, 2, 2, 9, 8), randT(2, 2, 2, 9, 8), randT(3, 2, 2, 9, 8)
	dout := randT(4, 2, 2, 9, 8)
	out, att := tensor.New(q.Shape...), tensor.New(CacheShape(2, 2, 9, 9)...)
	opt := Options{Causal: c.causal}
	if err := FullForward(out, att, q, k, v, nil, opt); err != nil {
		t.Fatal(err)
	}
	dq1, dk1, dv1 := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
	if err := FullBackward(dq1, dk1, dv1, dout, q, k, v, att, nil, opt); err != nil {
		t.Fatal(err)
	}
	dq2 := dq1.Clone()
	if err := FullBackward(dq2, nil, nil, dout, q, k, v, att, nil, opt); err != nil {
		t.Fatal(err)
	}
	for i := range dq2.Data {
		dq2.Data[i] /= 2
	}
	kerneltest.Close(t, "dq accumulated twice / 2", dq2.Data, dq1.Data, kerneltest.Tol{Abs: 1e-6, Rel: 1e-6})
}

// FullBackwardTo gives the bits of FullBackward into zeroed gradients,
// whatever the gradients held (NaN included), on every case, on one and
// two threads, with any gradient left out.
func TestFullBackwardToOverwrites(t *testing.T) {
	for _, c := range cases {
		for _, th := range []int{1, 2} {
			name := fmt.Sprintf("%v/threads=%d", c, th)
			q, k, v := randT(1, c.b, c.h, c.tq, c.d), randT(2, c.b, c.h, c.tk, c.d), randT(3, c.b, c.h, c.tk, c.d)
			dout, mask := randT(4, c.b, c.h, c.tq, c.d), keyMaskFor(c)
			out, att := tensor.New(q.Shape...), tensor.New(CacheShape(c.b, c.h, c.tq, c.tk)...)
			opt := Options{Causal: c.causal}
			prev := parallel.SetThreads(th)
			if err := FullForward(out, att, q, k, v, mask, opt); err != nil {
				t.Fatal(err)
			}
			want := []*tensor.Tensor{tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)}
			if err := FullBackward(want[0], want[1], want[2], dout, q, k, v, att, mask, opt); err != nil {
				t.Fatal(err)
			}
			got := []*tensor.Tensor{tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)}
			for _, g := range got {
				for i := range g.Data {
					g.Data[i] = float32(math.NaN())
				}
			}
			if err := FullBackwardTo(got[0], got[1], got[2], dout, q, k, v, att, mask, opt); err != nil {
				t.Fatal(err)
			}
			for i, n := range []string{"dq", "dk", "dv"} {
				kerneltest.Identical(t, name+"/"+n, got[i].Data, want[i].Data)
			}
			if err := FullBackwardTo(nil, got[1], nil, dout, q, k, v, att, mask, opt); err != nil {
				t.Fatal(err)
			}
			kerneltest.Identical(t, name+"/dk alone", got[1].Data, want[1].Data)
			parallel.SetThreads(prev)
		}
	}
}

// Finite differences through the whole forward, loss = <out, w>.
func TestFullFiniteDifferences(t *testing.T) {
	for _, c := range []attnCase{{1, 2, 6, 6, 5, false, false}, {2, 1, 7, 7, 3, true, true}, {1, 1, 4, 9, 4, true, false}} {
		t.Run(c.String(), func(t *testing.T) {
			q, k, v := randT(1, c.b, c.h, c.tq, c.d), randT(2, c.b, c.h, c.tk, c.d), randT(3, c.b, c.h, c.tk, c.d)
			w := randT(4, c.b, c.h, c.tq, c.d)
			mask := keyMaskFor(c)
			opt := Options{Causal: c.causal}
			out, att := tensor.New(q.Shape...), tensor.New(CacheShape(c.b, c.h, c.tq, c.tk)...)
			loss := func() float64 {
				if err := FullForward(out, att, q, k, v, mask, opt); err != nil {
					t.Fatal(err)
				}
				return kerneltest.Dot(out.Data, w.Data)
			}
			loss()
			dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := FullBackward(dq, dk, dv, w, q, k, v, att, mask, opt); err != nil {
				t.Fatal(err)
			}
			tol := kerneltest.Tol{Abs: 5e-3, Rel: 2e-2}
			kerneltest.GradCheck(t, "dq", q.Data, dq.Data, 1e-2, tol, loss)
			kerneltest.GradCheck(t, "dk", k.Data, dk.Data, 1e-2, tol, loss)
			kerneltest.GradCheck(t, "dv", v.Data, dv.Data, 1e-2, tol, loss)
		})
	}
}

func TestFullDeterministicAcrossThreads(t *testing.T) {
	c := attnCase{2, 3, 100, 100, 32, true, false}
	q, k, v := randT(1, 2, 3, 100, 32), randT(2, 2, 3, 100, 32), randT(3, 2, 3, 100, 32)
	dout := randT(4, 2, 3, 100, 32)
	var ref []float32
	for _, th := range []int{1, 2, 4} {
		prev := parallel.SetThreads(th)
		out, att := tensor.New(q.Shape...), tensor.New(CacheShape(2, 3, 100, 100)...)
		dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
		if th > 1 {
			// A cache left by other calls: the causal forward leaves the
			// entries past each block's last query as they are, and the
			// backward must not read them.
			for i := range att.Data {
				att.Data[i] = float32(math.NaN())
			}
		}
		opt := Options{Causal: c.causal}
		if err := FullForward(out, att, q, k, v, nil, opt); err != nil {
			t.Fatal(err)
		}
		if err := FullBackward(dq, dk, dv, dout, q, k, v, att, nil, opt); err != nil {
			t.Fatal(err)
		}
		parallel.SetThreads(prev)
		all := append(append(append(out.Data, dq.Data...), dk.Data...), dv.Data...)
		if ref == nil {
			ref = all
			continue
		}
		kerneltest.Identical(t, fmt.Sprintf("threads=%d", th), all, ref)
	}
}

func TestFullAllocatesNothing(t *testing.T) {
	q, k, v := randT(1, 1, 4, 128, 64), randT(2, 1, 4, 128, 64), randT(3, 1, 4, 128, 64)
	out, att := tensor.New(q.Shape...), tensor.New(CacheShape(1, 4, 128, 128)...)
	dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
	opt := Options{Causal: true}
	step := func() {
		if err := FullForward(out, att, q, k, v, nil, opt); err != nil {
			t.Fatal(err)
		}
		if err := FullBackward(dq, dk, dv, out, q, k, v, att, nil, opt); err != nil {
			t.Fatal(err)
		}
		if err := FullBackwardTo(dq, dk, dv, out, q, k, v, att, nil, opt); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if a := testing.AllocsPerRun(5, step); a != 0 {
		t.Errorf("forward+backward allocated %v times", a)
	}
}

func TestFullShapeErrors(t *testing.T) {
	q, k, v := tensor.New(1, 2, 4, 8), tensor.New(1, 2, 5, 8), tensor.New(1, 2, 5, 8)
	out, att := tensor.New(1, 2, 4, 8), tensor.New(CacheShape(1, 2, 4, 5)...)
	for _, tc := range []struct {
		name        string
		out, q, k   *tensor.Tensor
		mask        []bool
		wantInError string
	}{
		{"k head dim", out, q, tensor.New(1, 2, 5, 7), nil, "k (1, 2, 5, 7)"},
		{"q rank", out, tensor.New(2, 4, 8), k, nil, "q must be (B, H, Tq, D)"},
		{"out shape", tensor.New(1, 2, 4, 9), q, k, nil, "out must have shape (1, 2, 4, 8)"},
		{"mask length", out, q, k, make([]bool, 3), "key mask has 3 flags, want B*Tk = 5"},
		{"nil k", out, q, nil, nil, "k is nil"},
	} {
		err := FullForward(tc.out, att, tc.q, tc.k, v, tc.mask, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.wantInError) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.wantInError)
		}
	}
}
