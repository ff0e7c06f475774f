package attention

import (
	"fmt"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

func TestSplitAndMergeHeads(t *testing.T) {
	// A small shape (run serially) and one cut into parts of 64 positions
	// on two threads, with a short last part.
	for _, s := range [][4]int{{2, 3, 5, 4}, {2, 4, 9, 16}, {3, 4, 130, 32}} {
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			defer parallel.SetThreads(parallel.SetThreads(2))
			testSplitAndMergeHeads(t, s[0], s[1], s[2], s[3])
		})
	}
}

func testSplitAndMergeHeads(t *testing.T, b, h, tt, d int) {
	c := h * d
	qkv := randT(1, b, tt, 3*c)
	q, k, v := tensor.New(b, h, tt, d), tensor.New(b, h, tt, d), tensor.New(b, h, tt, d)
	if err := SplitHeads(q, k, v, qkv); err != nil {
		t.Fatal(err)
	}
	// Element by element against the definition.
	for bi := range b {
		for ti := range tt {
			for hi := range h {
				for x := range d {
					o := ((bi*h+hi)*tt+ti)*d + x
					base := (bi*tt+ti)*3*c + hi*d + x
					if q.Data[o] != qkv.Data[base] || k.Data[o] != qkv.Data[base+c] || v.Data[o] != qkv.Data[base+2*c] {
						t.Fatalf("SplitHeads wrong at b=%d t=%d h=%d x=%d", bi, ti, hi, x)
					}
				}
			}
		}
	}
	// Backward is the adjoint: <split(x), g> = <x, splitᵀ(g)>.
	gq, gk, gv := randT(2, b, h, tt, d), randT(3, b, h, tt, d), randT(4, b, h, tt, d)
	dqkv := tensor.New(qkv.Shape...)
	if err := SplitHeadsBackward(dqkv, gq, gk, gv); err != nil {
		t.Fatal(err)
	}
	lhs := kerneltest.Dot(q.Data, gq.Data) + kerneltest.Dot(k.Data, gk.Data) + kerneltest.Dot(v.Data, gv.Data)
	rhs := kerneltest.Dot(qkv.Data, dqkv.Data)
	kerneltest.Close(t, "split adjoint", []float32{float32(lhs)}, []float32{float32(rhs)}, kerneltest.Tol{Rel: 1e-5})

	out := tensor.New(b, tt, c)
	if err := MergeHeads(out, q); err != nil {
		t.Fatal(err)
	}
	kerneltest.Identical(t, "merge(split(q)) is the q third of qkv", out.Data, extractThird(qkv.Data, b*tt, c, 0))
	g := randT(5, b, tt, c)
	dy := tensor.New(q.Shape...)
	if err := MergeHeadsBackward(dy, g); err != nil {
		t.Fatal(err)
	}
	kerneltest.Close(t, "merge adjoint", []float32{float32(kerneltest.Dot(out.Data, g.Data))}, []float32{float32(kerneltest.Dot(q.Data, dy.Data))}, kerneltest.Tol{Rel: 1e-5})

	// The To forms overwrite what the accumulating forms add to zeros.
	dqkvTo := randT(6, qkv.Shape...)
	if err := SplitHeadsBackwardTo(dqkvTo, gq, gk, gv); err != nil {
		t.Fatal(err)
	}
	kerneltest.Identical(t, "SplitHeadsBackwardTo", dqkvTo.Data, dqkv.Data)
	dyTo := randT(7, q.Shape...)
	if err := MergeHeadsBackwardTo(dyTo, g); err != nil {
		t.Fatal(err)
	}
	kerneltest.Identical(t, "MergeHeadsBackwardTo", dyTo.Data, dy.Data)

	wantQKV, wantOut := fmt.Sprintf("qkv must have shape (%d, %d, %d)", b, tt, 3*c), fmt.Sprintf("out must have shape (%d, %d, %d)", b, tt, c)
	if err := SplitHeads(q, k, v, tensor.New(b, tt, 3*c+1)); err == nil || !strings.Contains(err.Error(), wantQKV) {
		t.Fatalf("bad qkv: %v", err)
	}
	if err := MergeHeads(tensor.New(b, tt, c+1), q); err == nil || !strings.Contains(err.Error(), wantOut) {
		t.Fatalf("bad out: %v", err)
	}
}

func extractThird(qkv []float32, rows, c, part int) []float32 {
	out := make([]float32, 0, rows*c)
	for r := range rows {
		out = append(out, qkv[r*3*c+part*c:r*3*c+part*c+c]...)
	}
	return out
}

// BenchmarkSplitHeads splits a fused projection into heads at the
// reference model's shape and the LRA encoder's at 4096 tokens, one
// thread.
func BenchmarkSplitHeads(b *testing.B) {
	defer parallel.SetThreads(parallel.SetThreads(1))
	for _, s := range [][4]int{{8, 4, 256, 32}, {4, 4, 4096, 16}} {
		bs, h, tt, d := s[0], s[1], s[2], s[3]
		b.Run(fmt.Sprintf("B=%d/H=%d/T=%d/D=%d", bs, h, tt, d), func(b *testing.B) {
			qkv := randT(1, bs, tt, 3*h*d)
			q, k, v := tensor.New(bs, h, tt, d), tensor.New(bs, h, tt, d), tensor.New(bs, h, tt, d)
			for b.Loop() {
				if err := SplitHeads(q, k, v, qkv); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(qkv.Data)), "ns/elem")
		})
	}
}
