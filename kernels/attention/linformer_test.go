package attention

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// linformerImpl is LinformerForward/Backward with seeded projections of
// min(n, kproj) rows, shared by every head or one per key/value head,
// made on first use for each n.
type linformerImpl struct {
	call
	kproj    int
	perHead  bool
	identity bool // identity projections (kproj is then n)
	e, f     *tensor.Tensor
	de, df   *tensor.Tensor
	kp, vp   *tensor.Tensor // (B, KVH, k, D)
	att      *tensor.Tensor // CacheShape(B, H, Tq, k)
}

func (l *linformerImpl) Caps() attntest.Caps {
	return attntest.Caps{KeyMask: true, KVHeads: true, Cross: true}
}

func (l *linformerImpl) projections(kvh, n int) {
	p, kp := 1, min(n, l.kproj)
	if l.perHead {
		p = kvh
	}
	if l.identity {
		kp = n
	}
	if l.e != nil && tensor.SameShape(l.e.Shape, []int{p, kp, n}) {
		return
	}
	l.e, l.f = randT(uint64(n), p, kp, n), randT(uint64(n+1), p, kp, n)
	for _, x := range [][]float32{l.e.Data, l.f.Data} {
		for i := range x {
			x[i] /= float32(math.Sqrt(float64(n)))
			if l.identity {
				x[i] = 0
				if r, c := (i/n)%kp, i%n; r == c {
					x[i] = 1
				}
			}
		}
	}
	l.de, l.df = tensor.New(l.e.Shape...), tensor.New(l.e.Shape...)
}

func (l *linformerImpl) Forward(out, q, k, v *tensor.Tensor, mask []bool, causal bool) error {
	kp, vp, att, e, f := l.kp, l.vp, l.att, l.e, l.f
	if b, h, tq, _, ok := dims4(q); ok {
		if _, kvh, tk, d, ok := dims4(k); ok && kvh > 0 && tk > 0 {
			l.projections(kvh, tk)
			kp = resize(kp, b, kvh, l.e.Shape[1], d)
			vp = resize(vp, b, kvh, l.e.Shape[1], d)
			att = resize(att, CacheShape(b, h, tq, l.e.Shape[1])...)
			l.kp, l.vp, l.att, e, f = kp, vp, att, l.e, l.f
		}
	}
	l.call = call{q, k, v, mask, Options{Causal: causal}}
	if e == nil {
		e, f = tensor.New(1, 1, 1), tensor.New(1, 1, 1)
	}
	return LinformerForward(out, kp, vp, att, q, k, v, e, f, mask, l.opt)
}

func (l *linformerImpl) Backward(dq, dk, dv, dout *tensor.Tensor) error {
	return LinformerBackward(dq, dk, dv, l.de, l.df, dout, l.q, l.k, l.v, l.e, l.f, l.kp, l.vp, l.att, l.mask, l.opt)
}

func (l *linformerImpl) Bytes() int { return 4 * (len(l.kp.Data) + len(l.vp.Data) + len(l.att.Data)) }

func TestConformanceLinformer(t *testing.T) {
	for _, impl := range []*linformerImpl{{kproj: 4}, {kproj: 16, perHead: true}} {
		t.Run(fmt.Sprintf("k=%d/per_head=%v", impl.kproj, impl.perHead), func(t *testing.T) { attntest.Run(t, impl) })
	}
}

// With k = n and identity projections Linformer is full attention.
func TestLinformerIdentityEqualsFull(t *testing.T) {
	const b, h, kvh, tt, d = 2, 4, 2, 70, 16
	q, k, v, dout := randT(1, b, h, tt, d), randT(2, b, kvh, tt, d), randT(3, b, kvh, tt, d), randT(4, b, h, tt, d)
	var res [2][]*tensor.Tensor
	for n, impl := range []attntest.Impl{&fullImpl{grouped: true}, &linformerImpl{identity: true, perHead: true}} {
		out, dq, dk, dv := tensor.New(q.Shape...), tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
		if err := impl.Forward(out, q, k, v, nil, false); err != nil {
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
}

// The projections' gradients against finite differences.
func TestLinformerProjectionGradients(t *testing.T) {
	for _, perHead := range []bool{false, true} {
		t.Run(fmt.Sprintf("per_head=%v", perHead), func(t *testing.T) {
			const b, h, kvh, tt, d = 2, 2, 2, 9, 4
			l := &linformerImpl{kproj: 3, perHead: perHead}
			q, k, v, dout := randT(1, b, h, tt, d), randT(2, b, kvh, tt, d), randT(3, b, kvh, tt, d), randT(4, b, h, tt, d)
			mask := keyMaskFor(attnCase{b: b, tk: tt, pad: true})
			out, dq, dk, dv := tensor.New(q.Shape...), tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := l.Forward(out, q, k, v, mask, false); err != nil {
				t.Fatal(err)
			}
			if err := l.Backward(dq, dk, dv, dout); err != nil {
				t.Fatal(err)
			}
			loss := func() float64 {
				if err := LinformerForward(out, l.kp, l.vp, l.att, q, k, v, l.e, l.f, mask, Options{}); err != nil {
					t.Fatal(err)
				}
				return kerneltest.Dot(out.Data, dout.Data)
			}
			tol := kerneltest.Tol{Abs: 5e-3, Rel: 2e-2}
			kerneltest.GradCheck(t, "de", l.e.Data, l.de.Data, 1e-2, tol, loss)
			kerneltest.GradCheck(t, "df", l.f.Data, l.df.Data, 1e-2, tol, loss)
		})
	}
}

func TestLinformerRejectsCausalAndBadProjections(t *testing.T) {
	q, k, v := randT(1, 1, 2, 8, 4), randT(2, 1, 2, 8, 4), randT(3, 1, 2, 8, 4)
	out, kp, vp, att := tensor.New(1, 2, 8, 4), tensor.New(1, 2, 3, 4), tensor.New(1, 2, 3, 4), tensor.New(CacheShape(1, 2, 8, 3)...)
	e := tensor.New(1, 3, 8)
	for _, c := range []struct {
		name string
		e    *tensor.Tensor
		opt  Options
		want string
	}{
		{"causal", e, Options{Causal: true}, "cannot be causal"},
		{"e length", tensor.New(1, 3, 9), Options{}, "e projects 9 positions but k and v have Tk = 8"},
		{"e heads", tensor.New(3, 3, 8), Options{}, "want 1 (shared) or KVH = 2"},
		{"k > n", tensor.New(1, 9, 8), Options{}, "k = 9 must be in [1, n = 8]"},
	} {
		err := LinformerForward(out, kp, vp, att, q, k, v, c.e, c.e, nil, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}
