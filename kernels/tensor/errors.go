package tensor

import (
	"fmt"
	"strings"
)

// Operand names one argument of a kernel and its shape, for error messages.
type Operand struct {
	Name  string
	Shape []int
}

// ShapeError reports operands whose shapes do not fit together. Its message
// names the kernel, every operand's shape and what was expected, for example
//
//	nn.LinearForward: inp (8, 64) and weight (128, 32): inp's last dimension 64 must equal weight's second dimension 32
type ShapeError struct {
	Op       string
	Operands []Operand
	Reason   string
}

func (e *ShapeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	for i, o := range e.Operands {
		if i > 0 {
			if i == len(e.Operands)-1 {
				b.WriteString(" and ")
			} else {
				b.WriteString(", ")
			}
		}
		b.WriteString(o.Name)
		b.WriteByte(' ')
		if o.Shape == nil {
			b.WriteString("(nil)")
		} else {
			b.WriteString(FormatShape(o.Shape))
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Checker accumulates the operands of one kernel call and the first shape
// problem found among them, so kernels can validate in a few lines:
//
//	c := tensor.Check("nn.LinearForward").Add("out", out).Add("inp", inp)
//	c.Rank("inp", inp, 2) ...
//	if err := c.Err(); err != nil { return err }
//
// A Checker lives on the caller's stack and allocates nothing unless a
// problem is found, so kernels can validate on every call.
type Checker struct {
	op     string
	ops    [maxOperands]Operand
	n      int
	reason string
}

const maxOperands = 12

// Check starts validating the operands of kernel op.
func Check(op string) *Checker { return &Checker{op: op} }

func (c *Checker) record(o Operand) {
	if c.n < maxOperands {
		c.ops[c.n] = o
		c.n++
	}
}

// Add records an operand by name. A nil tensor is recorded with a nil shape
// and reported as missing.
func (c *Checker) Add(name string, t *Tensor) *Checker {
	if t == nil {
		c.record(Operand{name, nil})
		c.Failf("%s is nil", name)
		return c
	}
	c.record(Operand{name, t.Shape})
	if Numel(t.Shape) != len(t.Data) {
		c.Failf("%s has %d elements but shape %s needs %d", name, len(t.Data), FormatShape(t.Shape), Numel(t.Shape))
	}
	return c
}

// Failf records a problem if none was recorded yet.
func (c *Checker) Failf(format string, args ...any) *Checker {
	if c.reason == "" {
		c.reason = fmt.Sprintf(format, args...)
	}
	return c
}

// Ok reports whether no problem has been recorded.
func (c *Checker) Ok() bool { return c.reason == "" }

// Require records reason unless cond holds. It takes no format arguments
// on purpose: arguments are boxed before the call even when cond holds,
// which would allocate on every kernel call. For a message with values,
// write `if !cond { c.Failf(...) }`, which boxes only on failure.
func (c *Checker) Require(cond bool, reason string) *Checker {
	if !cond {
		c.Failf("%s", reason)
	}
	return c
}

// Shape requires t (recorded under name) to have exactly the given shape.
func (c *Checker) Shape(name string, t *Tensor, want ...int) *Checker {
	if t != nil && c.Ok() && !SameShape(t.Shape, want) {
		c.Failf("%s must have shape %s", name, FormatShape(want))
	}
	return c
}

// Err returns the recorded problem as a *ShapeError, or nil.
func (c *Checker) Err() error {
	if c.reason == "" {
		return nil
	}
	return &ShapeError{Op: c.op, Operands: append([]Operand(nil), c.ops[:c.n]...), Reason: c.reason}
}
