package nn

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// The element-wise layers of the reference model's step (batch 8 × seq
// 256 rows of 128 or 512 channels), one thread: ns/elem shows how far each
// is from memory speed.

func randTensor(r *rng.RNG, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	r.FillNormal(t.Data, 0, 1)
	return t
}

func perElem(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
}

func BenchmarkLayerNorm(b *testing.B) {
	defer parallel.SetThreads(parallel.SetThreads(1))
	const n, c = 2048, 128
	r := rng.New(1)
	inp, dout := randTensor(r, n, c), randTensor(r, n, c)
	out, dinp := tensor.New(n, c), tensor.New(n, c)
	w, bias := randTensor(r, c), randTensor(r, c)
	dw, db := tensor.New(c), tensor.New(c)
	mean, rstd := tensor.New(n), tensor.New(n)
	b.Run("fwd", func(b *testing.B) {
		for b.Loop() {
			if err := LayerNormForward(out, mean, rstd, inp, w, bias, 1e-5); err != nil {
				b.Fatal(err)
			}
		}
		perElem(b, n*c)
	})
	b.Run("bwd", func(b *testing.B) {
		for b.Loop() {
			if err := LayerNormBackward(dinp, dw, db, dout, inp, w, mean, rstd); err != nil {
				b.Fatal(err)
			}
		}
		perElem(b, n*c)
	})
}

func BenchmarkGELU(b *testing.B) {
	defer parallel.SetThreads(parallel.SetThreads(1))
	const n, c = 2048, 512
	r := rng.New(1)
	inp, dout := randTensor(r, n, c), randTensor(r, n, c)
	out, dinp := tensor.New(n, c), tensor.New(n, c)
	for _, f := range []struct {
		name string
		form GELUApprox
	}{{"tanh", GELUTanh}, {"erf", GELUErf}} {
		b.Run(fmt.Sprintf("fwd/form=%s", f.name), func(b *testing.B) {
			for b.Loop() {
				if err := GELUForward(out, inp, f.form); err != nil {
					b.Fatal(err)
				}
			}
			perElem(b, n*c)
		})
		b.Run(fmt.Sprintf("bwd/form=%s", f.name), func(b *testing.B) {
			for b.Loop() {
				if err := GELUBackward(dinp, inp, dout, f.form); err != nil {
					b.Fatal(err)
				}
			}
			perElem(b, n*c)
		})
	}
}

// BenchmarkBiasGradient is LinearBackward's bias gradient alone (the sum
// of dout's rows) for the reference model's widest layer and for the LRA
// encoder's at 4096 tokens, one thread.
func BenchmarkBiasGradient(b *testing.B) {
	defer parallel.SetThreads(parallel.SetThreads(1))
	for _, s := range [][2]int{{2048, 512}, {16384, 256}} {
		n, c := s[0], s[1]
		b.Run(fmt.Sprintf("rows=%d/cols=%d", n, c), func(b *testing.B) {
			dout := randTensor(rng.New(1), n, c)
			db := tensor.New(c)
			for b.Loop() {
				addColumnSums(db.Data, dout.Data, n, c)
			}
			perElem(b, n*c)
		})
	}
}
