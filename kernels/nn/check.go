package nn

import "github.com/attnlab/attnlab/kernels/tensor"

// Shape checks shared by the kernels, on top of tensor.Check. A
// tensor.Checker lives on the caller's stack and allocates nothing unless a
// problem is found, so every kernel validates on every call:
//
//	chk := tensor.Check("nn.X").Add("out", out).Add("inp", inp)
//	same(chk, "out", out, "inp", inp)
//	if err := chk.Err(); err != nil {
//		return err
//	}
//
// Each helper tests only while chk.Ok(), so the shapes of nil or malformed
// operands (which Add has already reported) are never read, and reports
// with Failf inside an if, so its arguments are boxed only on failure.

// opt records an optional operand (a gradient the caller may not need, or a
// bias); nil is allowed and left out of messages.
func opt(chk *tensor.Checker, name string, t *tensor.Tensor) {
	if t != nil {
		chk.Add(name, t)
	}
}

// same requires t, unless nil, to have exactly the shape of ref.
func same(chk *tensor.Checker, name string, t *tensor.Tensor, refName string, ref *tensor.Tensor) {
	if chk.Ok() && t != nil && !tensor.SameShape(t.Shape, ref.Shape) {
		chk.Failf("%s must have the same shape as %s", name, refName)
	}
}

// vector requires t, unless nil, to have shape (n); what says where n comes
// from, e.g. "inp's last dimension".
func vector(chk *tensor.Checker, name string, t *tensor.Tensor, n int, what string) {
	if chk.Ok() && t != nil && (len(t.Shape) != 1 || t.Shape[0] != n) {
		chk.Failf("%s must have shape (%d), %s", name, n, what)
	}
}

// atLeast1D requires t to have a last dimension to work along.
func atLeast1D(chk *tensor.Checker, name string, t *tensor.Tensor) {
	if chk.Ok() && len(t.Shape) == 0 {
		chk.Failf("%s must have at least one dimension", name)
	}
}

// rowStats requires t, unless nil, a per-row cache such as a layer norm's
// mean, to have the leading dimensions of x (N.., C): exactly x's shape
// without its last dimension, or that flattened to (N).
func rowStats(chk *tensor.Checker, name string, t *tensor.Tensor, xName string, x *tensor.Tensor) {
	if !chk.Ok() || t == nil {
		return
	}
	lead := x.Shape[:len(x.Shape)-1]
	if tensor.SameShape(t.Shape, lead) || len(t.Shape) == 1 && t.Shape[0] == x.Rows() {
		return
	}
	if len(lead) == 1 {
		chk.Failf("%s must have shape %s, the leading dimensions of %s", name, tensor.FormatShape(lead), xName)
	} else {
		chk.Failf("%s must have shape %s, the leading dimensions of %s, or (%d) flattened", name, tensor.FormatShape(lead), xName, x.Rows())
	}
}
