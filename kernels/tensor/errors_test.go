package tensor

import (
	"strings"
	"testing"
)

func TestCheckerMessage(t *testing.T) {
	a, b := New(2, 3), New(4, 5)
	err := Check("nn.Example").Add("a", a).Add("b", b).Shape("b", b, 3, 5).Err()
	if err == nil {
		t.Fatal("no error for a mismatched shape")
	}
	want := "nn.Example: a (2, 3) and b (4, 5): b must have shape (3, 5)"
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	err = Check("op").Add("x", nil).Err()
	if err == nil || !strings.Contains(err.Error(), "x (nil): x is nil") {
		t.Fatalf("nil operand: %v", err)
	}
	bad := &Tensor{Shape: []int{2, 2}, Data: make([]float32, 3)}
	if err := Check("op").Add("bad", bad).Err(); err == nil || !strings.Contains(err.Error(), "bad has 3 elements but shape (2, 2) needs 4") {
		t.Fatalf("inconsistent tensor: %v", err)
	}
}

func TestCheckerAllocatesNothingOnSuccess(t *testing.T) {
	a, b := New(2, 3), New(3, 5)
	if n := testing.AllocsPerRun(100, func() {
		c := Check("op").Add("a", a).Add("b", b)
		c.Require(a.Cols() == b.Rows(), "inner dimensions differ")
		c.Shape("b", b, 3, 5)
		if c.Err() != nil {
			t.Fatal("unexpected error")
		}
	}); n != 0 {
		t.Fatalf("a passing check allocated %v times", n)
	}
}

func TestReshapeAndFrom(t *testing.T) {
	x := New(2, 6)
	if _, err := x.Reshape(3, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Reshape(5); err == nil || !strings.Contains(err.Error(), "Reshape: from (2, 6) and to (5)") {
		t.Fatalf("Reshape error: %v", err)
	}
	if _, err := From(make([]float32, 5), 2, 3); err == nil || !strings.Contains(err.Error(), "needs 6 elements, got 5") {
		t.Fatalf("From error: %v", err)
	}
	if x.Rows() != 2 || x.Cols() != 6 || x.Dim(-1) != 6 || x.Rank() != 2 {
		t.Fatal("dimension helpers")
	}
}

func TestFailfOnlyOnFailureAllocatesNothing(t *testing.T) {
	a := New(2000, 3)
	n := testing.AllocsPerRun(100, func() {
		c := Check("op").Add("a", a)
		if a.Rows() != 2000 {
			c.Failf("rows %d want %d", a.Rows(), 2000)
		}
		if c.Err() != nil {
			t.Fatal("unexpected error")
		}
	})
	if n != 0 {
		t.Fatalf("allocated %v times", n)
	}
}
