package rng

import (
	"math"
	"testing"
)

// The first values of seed 42 are pinned: a change here breaks every
// recorded experiment's reproducibility, so it must be deliberate.
func TestPinnedSequence(t *testing.T) {
	r := New(42)
	got := []uint64{r.Uint64(), r.Uint64(), r.Uint64()}
	r2 := New(42)
	for i, g := range got {
		if v := r2.Uint64(); v != g {
			t.Fatalf("value %d: %x then %x for the same seed", i, g, v)
		}
	}
	if got[0] == got[1] || got[1] == got[2] {
		t.Fatalf("degenerate sequence %x", got)
	}
	want := pinned42
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("New(42) value %d = %#x, want %#x (the generator changed)", i, got[i], want[i])
		}
	}
}

var pinned42 = []uint64{0x57e1faba65107204, 0xf4abd143feb24055, 0x7c816738c12903b2}

func TestSplitIndependentOfParentUse(t *testing.T) {
	a := New(7)
	s1 := a.Split(3).Uint64()
	for range 100 {
		a.Uint64()
	}
	if s2 := a.Split(3).Uint64(); s1 != s2 {
		t.Fatalf("Split depends on parent's position: %x vs %x", s1, s2)
	}
	if a.Split(3).Uint64() == a.Split(4).Uint64() {
		t.Fatal("different keys gave the same stream")
	}
	if a.SplitName("dropout").Uint64() == a.SplitName("init").Uint64() {
		t.Fatal("different names gave the same stream")
	}
}

func TestMoments(t *testing.T) {
	r := New(1)
	const n = 200000
	var su, sn, sn2 float64
	for range n {
		u := float64(r.Float32())
		if u < 0 || u >= 1 {
			t.Fatalf("Float32 out of [0,1): %v", u)
		}
		su += u
		x := r.Normal()
		sn += x
		sn2 += x * x
	}
	if m := su / n; math.Abs(m-0.5) > 0.005 {
		t.Errorf("uniform mean %v, want 0.5", m)
	}
	if m := sn / n; math.Abs(m) > 0.01 {
		t.Errorf("normal mean %v, want 0", m)
	}
	if v := sn2/n - (sn/n)*(sn/n); math.Abs(v-1) > 0.02 {
		t.Errorf("normal variance %v, want 1", v)
	}
}

func TestPermAndIntn(t *testing.T) {
	r := New(9)
	p := make([]int, 50)
	r.Perm(p)
	seen := make([]bool, 50)
	for _, v := range p {
		if seen[v] {
			t.Fatalf("Perm repeated %d: %v", v, p)
		}
		seen[v] = true
	}
	counts := make([]int, 3)
	for range 30000 {
		counts[r.Intn(3)]++
	}
	for i, c := range counts {
		if c < 9500 || c > 10500 {
			t.Errorf("Intn(3) gave %d %d times of 30000", i, c)
		}
	}
}
