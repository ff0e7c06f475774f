package blas

import "unsafe"

// unsafeSlice views n floats starting at p. Only micro-kernels use it, on
// pointers the driver derived from bounds-checked slices.
func unsafeSlice(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
