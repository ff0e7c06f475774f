//go:build !amd64 || purego

package blas

import "unsafe"

func asmKernels() []*microKernel { return nil }

// copyPanel32 sets dst[p*32+j] = src[p*stride+j] for p < rows, j < 32
// (pack_amd64.s on amd64; only the 32-wide AVX-512 kernels call it).
func copyPanel32(dst, src *float32, rows, stride int) {
	d := unsafe.Slice(dst, rows*32)
	s := unsafe.Slice(src, (rows-1)*stride+32)
	for p := range rows {
		copy(d[p*32:p*32+32], s[p*stride:p*stride+32])
	}
}

const hasTranspose = false

// transposePanel32 is never called without the assembly (hasTranspose).
func transposePanel32(dst, src *float32, steps, stride int, alpha float32) {
	panic("blas: transposePanel32 without AVX-512")
}

// copyPanel12 and copyPanel8 set dst[p*w+j] = src[p*stride+j] for p < rows,
// j < w (12 or 8): packed A panels from a matrix stored transposed.
func copyPanel12(dst, src *float32, rows, stride int) { copyPanelW(dst, src, rows, stride, 12) }
func copyPanel8(dst, src *float32, rows, stride int)  { copyPanelW(dst, src, rows, stride, 8) }

func copyPanelW(dst, src *float32, rows, stride, w int) {
	d := unsafe.Slice(dst, rows*w)
	s := unsafe.Slice(src, (rows-1)*stride+w)
	for p := range rows {
		copy(d[p*w:p*w+w], s[p*stride:p*stride+w])
	}
}
