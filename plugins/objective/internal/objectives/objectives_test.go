package objectives

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/plugins/sdk"
)

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		x    []float32
		want int
	}{
		{[]float32{0}, 0},
		{[]float32{1, 3, 2}, 1},
		{[]float32{2, 5, 5}, 1}, // the first on ties
		{[]float32{nan, 1, 0}, 1},
		{[]float32{1, nan, 2}, 2},
		{[]float32{nan, nan}, 0},
	}
	for _, c := range cases {
		if got := Argmax(c.x); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.x, got, c.want)
		}
	}
	// Against the scalar pass on rows long enough for the vector loop,
	// with ties, signed zeros, infinities and NaNs in every position.
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 3, 3, float32(math.Inf(1)), float32(math.Inf(-1)), nan, 2.5}
	for n := 1; n <= 70; n++ {
		for seed := range 20 {
			x := make([]float32, n)
			for i := range x {
				x[i] = vals[(i*7+seed*13+i*i*seed)%len(vals)]
			}
			if got, want := Argmax(x), argmaxScalar(x); got != want {
				t.Fatalf("Argmax(%v) = %d, the scalar pass %d", x, got, want)
			}
		}
	}
}

func TestCheckBatch(t *testing.T) {
	cases := []struct {
		ready       bool
		split       sdk.Split
		index       int
		s, i        int
		errContains string
	}{
		{true, sdk.Train, 9, 0, 9, ""},
		{true, sdk.Eval, 9, 1, 1, ""}, // eval_batches 4: batch 9 is batch 1
		{false, sdk.Train, 0, 0, 0, `objective "x": Batch called before a successful Init`},
		{true, "test", 0, 0, 0, `objective "x": unknown split "test" (want "train" or "eval")`},
		{true, sdk.Eval, -1, 0, 0, `objective "x": batch index -1 must not be negative`},
	}
	for _, c := range cases {
		s, i, err := CheckBatch("x", c.ready, c.split, c.index, 4)
		switch {
		case c.errContains != "" && (err == nil || err.Error() != c.errContains):
			t.Errorf("CheckBatch(%v, %s, %d) = %v, want %q", c.ready, c.split, c.index, err, c.errContains)
		case c.errContains == "" && (err != nil || s != c.s || i != c.i):
			t.Errorf("CheckBatch(%v, %s, %d) = %d, %d, %v, want %d, %d", c.ready, c.split, c.index, s, i, err, c.s, c.i)
		}
	}
}

// The held-out share of many sequences is the fraction asked, and the
// fractions 0 and 1 hold out nothing and everything.
func TestHeldOut(t *testing.T) {
	held := 0
	const n, fraction = 20000, 0.1
	for i := range n {
		if HeldOut([]int32{int32(i % 256), int32(i / 256), 7}, fraction) {
			held++
		}
	}
	if got := float64(held) / n; math.Abs(got-fraction) > 4.5*math.Sqrt(fraction*(1-fraction)/n) {
		t.Errorf("%d of %d sequences held out at fraction %v", held, n, fraction)
	}
	if HeldOut(nil, 0) || !HeldOut(nil, 1) {
		t.Errorf("fraction 0 must hold out nothing and fraction 1 everything")
	}
}

func TestLines(t *testing.T) {
	var got []string
	err := Lines("f.txt", []byte("a\r\n\nb c\n\r\nd"), func(n int, line []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", n, line))
		return nil
	})
	if want := "1:a 3:b c 5:d"; err != nil || strings.Join(got, " ") != want {
		t.Errorf("Lines = %q, %v, want %q", got, err, want)
	}
	err = Lines("f.txt", []byte("ok\n\nna\xefve\n"), func(int, []byte) error { return nil })
	if want := "f.txt:3:3: not UTF-8 (byte 0xef): want UTF-8 text"; err == nil || err.Error() != want {
		t.Errorf("invalid UTF-8: %v, want %q", err, want)
	}
	stop := errors.New("stop")
	calls := 0
	if err := Lines("f.txt", []byte("a\nb\n"), func(int, []byte) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("fn's error: Lines = %v after %d calls, want stop after 1", err, calls)
	}
}
