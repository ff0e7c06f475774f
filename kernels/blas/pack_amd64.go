//go:build amd64 && !purego

package blas

import "golang.org/x/sys/cpu"

// transposePanel32 is in pack_amd64.s.
//
//go:noescape
func transposePanel32(dst, src *float32, steps, stride int, alpha float32)

// hasTranspose: transposePanel32 runs on AVX, which every machine with
// the 32-wide (AVX-512) kernels that read its panels has.
var hasTranspose = cpu.X86.HasAVX512F
