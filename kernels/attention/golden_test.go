package attention

import (
	"slices"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/golden"
	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Reference values from PyTorch 1.13, kernels/testdata/gen_golden.py
// (attention_*.json): q, k, v of shape (2, 3, 5, 4), the probabilities,
// the output and every input gradient for an upstream gradient dout.
func TestFullMatchesPyTorch(t *testing.T) {
	for _, name := range []string{"attention_nomask", "attention_causal", "attention_padding"} {
		t.Run(name, func(t *testing.T) {
			g := golden.Load(t, name)
			q, k, v, dout := g.T("q"), g.T("k"), g.T("v"), g.T("dout")
			var mask []bool
			if slices.Contains(g.IntNames(), "mask") {
				for _, m := range g.Ints("mask") {
					mask = append(mask, m != 0)
				}
			}
			opt := Options{Causal: g.Attr("causal") != 0, Scale: float32(g.Attr("scale"))}
			b, h, tq, tk := q.Shape[0], q.Shape[1], q.Shape[2], k.Shape[2]
			out, att := tensor.New(q.Shape...), tensor.New(CacheShape(b, h, tq, tk)...)
			if err := FullForward(out, att, q, k, v, mask, opt); err != nil {
				t.Fatal(err)
			}
			tol := kerneltest.Tol{Abs: 1e-6, Rel: 1e-5}
			kerneltest.Close(t, "out", out.Data, g.T("out").Data, tol)
			p := tensor.New(b, h, tq, tk)
			if err := Weights(p, att); err != nil {
				t.Fatal(err)
			}
			kerneltest.Close(t, "att", p.Data, g.T("att").Data, tol)
			dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := FullBackward(dq, dk, dv, dout, q, k, v, att, mask, opt); err != nil {
				t.Fatal(err)
			}
			kerneltest.Close(t, "dq", dq.Data, g.T("dq").Data, tol)
			kerneltest.Close(t, "dk", dk.Data, g.T("dk").Data, tol)
			kerneltest.Close(t, "dv", dv.Data, g.T("dv").Data, tol)
		})
	}
}
