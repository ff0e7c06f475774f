package attention

import (
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

func TestRotary(t *testing.T) {
	const T, D = 7, 6
	cos, sin := tensor.New(9, D/2), tensor.New(9, D/2)
	if err := RotaryTables(cos, sin, 10000); err != nil {
		t.Fatal(err)
	}
	x := randT(1, 2, 3, T, D)
	orig := x.Clone()
	if err := RotaryForward(x, cos, sin); err != nil {
		t.Fatal(err)
	}
	// Against the definition.
	for r := range 2 * 3 * T {
		pos := r % T
		for i := range D / 2 {
			th := float64(pos) * math.Pow(10000, -float64(2*i)/D)
			a, b := float64(orig.Data[r*D+2*i]), float64(orig.Data[r*D+2*i+1])
			want0 := a*math.Cos(th) - b*math.Sin(th)
			want1 := a*math.Sin(th) + b*math.Cos(th)
			kerneltest.Close(t, "rotated pair", []float32{x.Data[r*D+2*i], x.Data[r*D+2*i+1]}, []float32{float32(want0), float32(want1)}, kerneltest.Tol{Abs: 1e-5, Rel: 1e-5})
		}
	}
	// q_t·k_s depends only on t−s: shift both by one position.
	q, k := randT(2, 1, 1, 1, D), randT(3, 1, 1, 1, D)
	dot := func(tq, tk int) float64 {
		qq, kk := tensor.New(1, 1, 9, D), tensor.New(1, 1, 9, D)
		copy(qq.Data[tq*D:], q.Data)
		copy(kk.Data[tk*D:], k.Data)
		RotaryForward(qq, cos, sin)
		RotaryForward(kk, cos, sin)
		return kerneltest.Dot(qq.Data[tq*D:tq*D+D], kk.Data[tk*D:tk*D+D])
	}
	kerneltest.Close(t, "relative", []float32{float32(dot(5, 2))}, []float32{float32(dot(6, 3))}, kerneltest.Tol{Abs: 1e-5, Rel: 1e-5})
	// Backward is the adjoint: <R x, g> = <x, Rᵀ g>.
	g := randT(4, 2, 3, T, D)
	rg := g.Clone()
	if err := RotaryBackward(rg, cos, sin); err != nil {
		t.Fatal(err)
	}
	kerneltest.Close(t, "adjoint", []float32{float32(kerneltest.Dot(x.Data, g.Data))}, []float32{float32(kerneltest.Dot(orig.Data, rg.Data))}, kerneltest.Tol{Abs: 1e-4, Rel: 1e-5})
	if err := RotaryForward(randT(5, 1, 1, 10, D), cos, sin); err == nil || !strings.Contains(err.Error(), "at least T = 10 rows") {
		t.Fatalf("short table: %v", err)
	}
}
