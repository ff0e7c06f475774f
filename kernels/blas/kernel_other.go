//go:build !amd64 || purego

package blas

func asmKernels() []*microKernel { return nil }

const hasTranspose = false

// transposePanel32 is never called without the assembly (hasTranspose).
func transposePanel32(dst, src *float32, steps, stride int, alpha float32) {
	panic("blas: transposePanel32 without AVX-512")
}
