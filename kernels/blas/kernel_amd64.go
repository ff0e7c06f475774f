//go:build amd64 && !purego

package blas

import "golang.org/x/sys/cpu"

//go:generate go run gen_kernels.go

// The micro-kernels are generated into kernel_amd64.s by gen_kernels.go.

//go:noescape
func kernelAVX512x12(k int, a *float32, rs, cs int, b *float32, ldb, bnext int, c *float32, ldc int, acc int, bias *float32, np, mt, anext int)

//go:noescape
func kernelAVX512x8(k int, a *float32, rs, cs int, b *float32, ldb, bnext int, c *float32, ldc int, acc int, bias *float32, np, mt, anext int)

//go:noescape
func kernelAVX512x16n16(k int, a *float32, rs, cs int, b *float32, ldb, bnext int, c *float32, ldc int, acc int, bias *float32, np, mt, anext int)

//go:noescape
func kernelAVX2x6(k int, a *float32, rs, cs int, b *float32, ldb, bnext int, c *float32, ldc int, acc int, bias *float32, np, mt, anext int)

func asmKernels() []*microKernel {
	var ks []*microKernel
	if cpu.X86.HasAVX512F {
		// kc*mr*4 = 18 KiB A micro-panel (L1); kc*nc*4 = 384 KiB B block (L2).
		// Chosen by measurement on Zen 4 (make bench): larger K blocks halve
		// the passes over C, which decide two-thread scaling at n = 2048.
		// The half-width kernel reads 16 of the 32 columns of each packed
		// step: for products only 16 wide (head dimension 16), where the
		// others would spend half their FMAs on padding.
		half := &microKernel{name: "avx512x16n16", mr: 16, nr: 16, kc: 384, nc: 16, step: 32, fn: kernelAVX512x16n16}
		k8 := &microKernel{name: "avx512x8", mr: 8, nr: 32, kc: 384, nc: 256, fn: kernelAVX512x8, half: half}
		ks = append(ks, &microKernel{name: "avx512", mr: 12, nr: 32, kc: 384, nc: 256, fn: kernelAVX512x12, alt: k8, half: half}, k8)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &microKernel{name: "avx2", mr: 6, nr: 16, kc: 256, nc: 512, fn: kernelAVX2x6})
	}
	return ks
}

//go:noescape
func fmaPeakAVX512(n int)

//go:noescape
func fmaPeakAVX2(n int)
