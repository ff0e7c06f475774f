package nn

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

func TestDropoutSameSeedSameMask(t *testing.T) {
	inp := randT(1, 1, 4, 33)
	out1, mask1 := tensor.New(4, 33), tensor.New(4, 33)
	out2, mask2 := tensor.New(4, 33), tensor.New(4, 33)
	must(t, DropoutForward(out1, mask1, inp, 0.3, rng.New(7)))
	must(t, DropoutForward(out2, mask2, inp, 0.3, rng.New(7)))
	kerneltest.Identical(t, "mask, same seed", mask2.Data, mask1.Data)
	kerneltest.Identical(t, "out, same seed", out2.Data, out1.Data)
	must(t, DropoutForward(out2, mask2, inp, 0.3, rng.New(8)))
	if same := kerneltest.Compare(mask2.Data, mask1.Data, kerneltest.Tol{}); same.Failures == 0 {
		t.Error("seeds 7 and 8 gave the same mask")
	}
}

func TestDropoutMaskAndScale(t *testing.T) {
	const n, p = 200_000, 0.25
	inp := randT(1, 1, n)
	out, mask := tensor.New(n), tensor.New(n)
	must(t, DropoutForward(out, mask, inp, p, rng.New(3)))
	keep := float32(1 / (1 - p))
	var zeros int
	var sum float64
	for i, m := range mask.Data {
		if m != 0 && m != keep {
			t.Fatalf("mask[%d] = %v, want 0 or %v", i, m, keep)
		}
		if m == 0 {
			zeros++
		}
		if out.Data[i] != inp.Data[i]*m {
			t.Fatalf("out[%d] = %v, want inp·mask = %v", i, out.Data[i], inp.Data[i]*m)
		}
		sum += float64(m)
	}
	// Binomial: the dropped fraction has standard deviation
	// sqrt(p(1-p)/n) ≈ 0.001; allow five of them.
	if frac := float64(zeros) / n; math.Abs(frac-p) > 0.005 {
		t.Errorf("dropped fraction %.4f, want %.2f", frac, p)
	}
	if mean := sum / n; math.Abs(mean-1) > 0.01 {
		t.Errorf("mean scale %.4f, want 1 (expectation preserved)", mean)
	}
}

func TestDropoutZeroIsIdentity(t *testing.T) {
	inp := randT(1, 1, 3, 7)
	out, mask := filled(9, 3, 7), filled(9, 3, 7)
	must(t, DropoutForward(out, mask, inp, 0, nil)) // p = 0 needs no random stream
	kerneltest.Identical(t, "out with p = 0", out.Data, inp.Data)
	checkUntouched(t, "mask with p = 0", mask, 1)
}

func TestDropoutBackwardUsesMask(t *testing.T) {
	inp := randT(1, 1, 5, 9)
	out, mask, dinp := tensor.New(5, 9), tensor.New(5, 9), tensor.New(5, 9)
	checkBackward(t, 2, out,
		func() { must(t, DropoutForward(out, mask, inp, 0.5, rng.New(11))) },
		func(dout *tensor.Tensor) { must(t, DropoutBackward(dinp, mask, dout)) },
		param{"dinp", inp, dinp})
	// Directly: dinp = dout·mask, zero exactly where the mask dropped.
	dout := randT(3, 1, 5, 9)
	dinp.Zero()
	must(t, DropoutBackward(dinp, mask, dout))
	for i, m := range mask.Data {
		if dinp.Data[i] != dout.Data[i]*m {
			t.Fatalf("dinp[%d] = %v, want dout·mask = %v", i, dinp.Data[i], dout.Data[i]*m)
		}
	}
	must(t, DropoutBackward(nil, mask, dout))
}

func TestDropoutBadArguments(t *testing.T) {
	for _, c := range []struct {
		p    float32
		r    *rng.RNG
		want string
	}{
		{1, rng.New(1), "p = 1 must be in [0, 1)"},
		{-0.1, rng.New(1), "p = -0.1 must be in [0, 1)"},
		{float32(math.NaN()), rng.New(1), "p = NaN"},
		{0.5, nil, "nil *rng.RNG"},
	} {
		inp := randT(1, 1, 2, 3)
		out, mask := filled(9, 2, 3), filled(9, 2, 3)
		err := DropoutForward(out, mask, inp, c.p, c.r)
		if err == nil || !containsAll(err.Error(), "nn.DropoutForward", c.want) {
			t.Errorf("p = %v: got %v, want an error containing %q", c.p, err, c.want)
		}
		checkUntouched(t, "out", out, 9)
		checkUntouched(t, "mask", mask, 9)
	}
}
