// Package tensor defines attnlab's tensor: a dense, row-major float32 array
// with an explicit shape, and the shape errors every kernel returns when its
// operands do not fit together.
//
// A Tensor is a plain struct over a []float32; kernels read and write Data
// directly. Shapes are never broadcast implicitly: a kernel that receives
// operands whose shapes disagree returns a *ShapeError naming all of them.
package tensor
