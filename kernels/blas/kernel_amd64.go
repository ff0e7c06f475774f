//go:build amd64 && !purego

package blas

import "golang.org/x/sys/cpu"

// kernel12x32AVX512 and kernel6x16AVX2 are in kernel_amd64.s.
//
//go:noescape
func kernel12x32AVX512(k int, a, b, c *float32, ldc int, acc int)

//go:noescape
func kernel6x16AVX2(k int, a, b, c *float32, ldc int, acc int)

func asmKernels() []*microKernel {
	var ks []*microKernel
	if cpu.X86.HasAVX512F {
		// kc*nr*4 = 32 KiB B micro-panel; kc*nc*4 = 512 KiB B block (half of L2).
		ks = append(ks, &microKernel{name: "avx512", mr: 12, nr: 32, kc: 256, nc: 512, fn: kernel12x32AVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &microKernel{name: "avx2", mr: 6, nr: 16, kc: 256, nc: 512, fn: kernel6x16AVX2})
	}
	return ks
}
