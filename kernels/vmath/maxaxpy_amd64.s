//go:build amd64 && !purego

#include "textflag.h"

// Max and Axpy with AVX-512 on the longest multiple-of-16 prefix; vmath.go
// does the rest in Go. Axpy multiplies and adds in two roundings, as the
// Go loop does, so every path gives the same bits.

// func maxAVX512(x *float32, n int) (m float32, nan bool)
// The largest of x[0..n), and whether any element is NaN.
TEXT ·maxAVX512(SB), NOSPLIT, $0-21
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0xff800000, AX // -Inf
	VPBROADCASTD AX, Z0
	VMOVAPS Z0, Z1
	KXORW K3, K3, K3     // NaN lanes seen
	SHRQ $4, CX
	JZ mdone
mloop:
	VMOVUPS (SI), Z2
	VCMPPS $3, Z2, Z2, K1 // unordered: NaN
	KORW K1, K3, K3
	VMAXPS Z2, Z0, Z0
	ADDQ $64, SI
	DECQ CX
	JNZ mloop
mdone:
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VMOVHLPS X0, X1, X1
	VMAXPS X1, X0, X0
	VMOVSHDUP X0, X1
	VMAXSS X1, X0, X0
	VMOVSS X0, m+16(FP)
	KMOVW K3, AX
	TESTL AX, AX
	SETNE nan+20(FP)
	VZEROUPPER
	RET

// func axpyAVX512(alpha float32, x, y *float32, n int)
// y[i] += alpha·x[i] for i < n.
TEXT ·axpyAVX512(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Z3
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JZ adone
aloop:
	VMULPS (SI), Z3, Z0
	VADDPS (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ aloop
adone:
	VZEROUPPER
	RET

// func mulAVX512(x, y *float32, n int)
// x[i] *= y[i] for i < n.
TEXT ·mulAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ udone
uloop:
	VMOVUPS (DI), Z0
	VMULPS (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ uloop
udone:
	VZEROUPPER
	RET

// func addSum4AVX512(acc, a, b, c, d *float32, n int)
// acc[i] += (a[i] + b[i]) + (c[i] + d[i]) for i < n, in the Go loop's
// order, so every path gives the same bits.
TEXT ·addSum4AVX512(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ a+8(FP), R8
	MOVQ b+16(FP), R9
	MOVQ c+24(FP), R10
	MOVQ d+32(FP), R11
	MOVQ n+40(FP), CX
	XORQ AX, AX
	SHRQ $4, CX
	JZ s4done
s4loop:
	VMOVUPS (R8)(AX*1), Z0
	VADDPS (R9)(AX*1), Z0, Z0
	VMOVUPS (R10)(AX*1), Z1
	VADDPS (R11)(AX*1), Z1, Z1
	VADDPS Z1, Z0, Z0
	VADDPS (DI)(AX*1), Z0, Z0
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ $64, AX
	DECQ CX
	JNZ s4loop
s4done:
	VZEROUPPER
	RET

// func copyRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows, quads int)
// dst[r*dstStride+i] = src[r*srcStride+i] for r < rows, i < 4*quads: a
// strided block copy, eight floats a move and four for an odd quad (AVX,
// which both assembly paths have).
TEXT ·copyRowsAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), CX
	MOVQ quads+40(FP), R10
	MOVQ R10, R11
	ANDQ $1, R11 // a last quad
	SHRQ $1, R10 // whole vectors of 8
	TESTQ CX, CX
	JZ crdone
crrow:
	XORQ AX, AX
	MOVQ R10, DX
	TESTQ DX, DX
	JZ crtail
crvec:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	DECQ DX
	JNZ crvec
crtail:
	TESTQ R11, R11
	JZ crnext
	VMOVUPS (SI)(AX*1), X0
	VMOVUPS X0, (DI)(AX*1)
crnext:
	ADDQ R9, SI
	ADDQ R8, DI
	DECQ CX
	JNZ crrow
crdone:
	VZEROUPPER
	RET
