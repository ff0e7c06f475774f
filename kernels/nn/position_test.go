package nn

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

func TestPositionForward(t *testing.T) {
	const b, tt, c, maxT = 2, 3, 5, 4
	inp, wpe := randT(1, 1, b, tt, c), randT(2, 1, maxT, c)
	want := make([]float32, b*tt*c)
	for bi := range b {
		for ti := range tt {
			for i := range c {
				o := (bi*tt+ti)*c + i
				want[o] = inp.Data[o] + wpe.Data[ti*c+i]
			}
		}
	}
	out := filled(9, b, tt, c)
	must(t, PositionForward(out, inp, wpe))
	kerneltest.Identical(t, "out", out.Data, want)
	must(t, PositionForward(inp, inp, wpe)) // out may alias inp
	kerneltest.Identical(t, "out in place", inp.Data, want)
}

func TestPositionGradients(t *testing.T) {
	const b, tt, c, maxT = 2, 3, 5, 6
	inp, wpe := randT(1, 1, b, tt, c), randT(2, 1, maxT, c)
	out, dinp, dwpe := tensor.New(b, tt, c), tensor.New(b, tt, c), tensor.New(maxT, c)
	checkBackward(t, 3, out,
		func() { must(t, PositionForward(out, inp, wpe)) },
		func(dout *tensor.Tensor) { must(t, PositionBackward(dinp, dwpe, dout)) },
		param{"dinp", inp, dinp}, param{"dwpe", wpe, dwpe})
	// Rows from T on are never used, so they get no gradient.
	checkUntouched(t, "dwpe rows >= T", &tensor.Tensor{Data: dwpe.Data[tt*c:]}, 0)

	// A fixed table: dwpe nil.
	dinp.Zero()
	dout := randT(4, 1, b, tt, c)
	must(t, PositionBackward(dinp, nil, dout))
	kerneltest.Identical(t, "dinp without dwpe", dinp.Data, dout.Data)
}

func TestSinusoidalPositions(t *testing.T) {
	const tt, c = 50, 16
	pe := filled(9, tt, c)
	must(t, SinusoidalPositions(pe))
	want := make([]float32, tt*c)
	for pos := range tt {
		for i := 0; i < c/2; i++ {
			angle := float64(pos) / math.Pow(10000, float64(2*i)/c)
			want[pos*c+2*i] = float32(math.Sin(angle))
			want[pos*c+2*i+1] = float32(math.Cos(angle))
		}
	}
	kerneltest.Close(t, "PE", pe.Data, want, kerneltest.Tol{Abs: 1e-7})
	// Spot values: position 0 is (0, 1, 0, 1, ...); dimension pair 0 is
	// (sin pos, cos pos).
	kerneltest.Close(t, "PE(0, :4)", pe.Data[:4], []float32{0, 1, 0, 1}, kerneltest.Tol{})
	kerneltest.Close(t, "PE(7, :2)", pe.Data[7*c:7*c+2], []float32{float32(math.Sin(7)), float32(math.Cos(7))}, kerneltest.Tol{})

	odd := filled(9, 4, 5)
	err := SinusoidalPositions(odd)
	if err == nil || !containsAll(err.Error(), "(4, 5)", "even") {
		t.Errorf("odd C: got %v, want an error naming the shape and asking for an even C", err)
	}
	checkUntouched(t, "dst", odd, 9)
}
