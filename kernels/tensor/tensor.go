package tensor

import (
	"fmt"
	"strings"
)

// Tensor is a dense, row-major float32 array. Data holds exactly
// Numel(Shape) elements; the last dimension is contiguous.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape. It panics on a negative
// dimension, which is a programming error, not bad input.
func New(shape ...int) *Tensor {
	n := Numel(shape)
	if n < 0 {
		panic(fmt.Sprintf("tensor.New: negative dimension in shape %s", FormatShape(shape)))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// From wraps data in a tensor of the given shape without copying. It returns
// an error if len(data) does not equal the number of elements of shape.
func From(data []float32, shape ...int) (*Tensor, error) {
	n := Numel(shape)
	if n < 0 {
		return nil, fmt.Errorf("tensor.From: negative dimension in shape %s", FormatShape(shape))
	}
	if len(data) != n {
		return nil, fmt.Errorf("tensor.From: shape %s needs %d elements, got %d", FormatShape(shape), n, len(data))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Numel returns the number of elements of a shape, or -1 if any dimension is
// negative. The empty shape is a scalar with one element.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Dim returns dimension i; negative i counts from the end (-1 is the last).
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// Rows returns the product of all dimensions but the last: the number of
// rows when the tensor is viewed as a matrix (rows, last dimension).
func (t *Tensor) Rows() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return Numel(t.Shape[:len(t.Shape)-1])
}

// Cols returns the last dimension (1 for a scalar).
func (t *Tensor) Cols() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Shape[len(t.Shape)-1]
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Reshape returns a tensor sharing t's data with a new shape of the same
// number of elements.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	if Numel(shape) != len(t.Data) {
		return nil, &ShapeError{Op: "Reshape", Operands: []Operand{{"from", t.Shape}, {"to", shape}}, Reason: "element counts differ"}
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: t.Data}, nil
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FormatShape renders a shape as "(2, 3, 4)".
func FormatShape(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", d)
	}
	b.WriteByte(')')
	return b.String()
}

// String renders the shape and up to the first 8 values.
func (t *Tensor) String() string {
	n := min(len(t.Data), 8)
	s := fmt.Sprintf("Tensor%s %v", FormatShape(t.Shape), t.Data[:n])
	if n < len(t.Data) {
		s = s[:len(s)-1] + " ...]"
	}
	return s
}
