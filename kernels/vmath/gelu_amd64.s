//go:build amd64 && !purego

#include "textflag.h"

// GELU, tanh form, with AVX-512: 16 lanes, the algorithm of gelu.go with
// exp from exp_amd64.h. -2u = (c1·x)·(1 + A·x²) with c1 = -2√(2/π) and
// A = 0.044715; GELU(x) = x/(1 + e) and GELU'(x) = s - nt·(e·s)·s with
// e = exp(-2u), s = 1/(1 + e) and nt = (c1·x)·(1 + 3A·x²) = -2x·u'(x).
// gelu_avx2_amd64.s computes the same operations in the same order, so
// the two give identical bits. The clamps are written as in exp_amd64.s,
// so that a NaN x passes through (VMAXPS and VMINPS return the first Go
// operand when either is NaN), and GELU(NaN) = GELU'(NaN) = NaN.

#include "exp_amd64.h"

// GELUCONSTS loads c1, A and 3A into Z5-Z7 (clobbers AX).
#define GELUCONSTS \
	MOVL $0xbfcc422a, AX; VPBROADCASTD AX, Z5 /* c1 = -1.5957691 */ \
	MOVL $0x3d372713, AX; VPBROADCASTD AX, Z6 /* A = 0.044715 */ \
	MOVL $0x3e095d4f, AX; VPBROADCASTD AX, Z7 /* 3A = 0.134145 */

// func geluTanhAVX512(dst, x *float32, n int)
// dst[i] = GELU(x[i]) for i < n (n a multiple of 16).
TEXT ·geluTanhAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	EXPCONSTS
	GELUCONSTS
	MOVL $0xff7fffff, AX // -MaxFloat32
	VPBROADCASTD AX, Z8
	SHRQ $4, CX
	JZ gtdone
gtloop:
	VMOVUPS (SI), Z10
	VMULPS Z10, Z10, Z11      // x²
	VMOVAPS Z6, Z12
	VFMADD213PS Z28, Z11, Z12 // 1 + A·x²
	VMULPS Z5, Z10, Z0        // c1·x
	VMULPS Z12, Z0, Z0        // -2u
	EXPZ                      // e
	VADDPS Z28, Z0, Z0        // 1 + e
	VMAXPS Z10, Z8, Z10       // max(x, -MaxFloat32): -Inf/Inf would be NaN
	VDIVPS Z0, Z10, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ gtloop
gtdone:
	VZEROUPPER
	RET

// func geluTanhGradAVX512(dx, x, dy *float32, n int, set bool)
// dx[i] += GELU'(x[i])·dy[i] for i < n (n a multiple of 16), with x
// clamped to [-9, 9]; with set, dx[i] = 0 + GELU'(x[i])·dy[i] (the bits
// of clearing dx first) without reading dx.
TEXT ·geluTanhGradAVX512(SB), NOSPLIT, $0-33
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), R8
	MOVQ n+24(FP), CX
	MOVBQZX set+32(FP), DX
	EXPCONSTS
	GELUCONSTS
	MOVL $0xc1100000, AX // -9
	VPBROADCASTD AX, Z8
	MOVL $0x41100000, AX // 9
	VPBROADCASTD AX, Z9
	SHRQ $4, CX
	JZ ggdone
ggloop:
	VMOVUPS (SI), Z10
	VMAXPS Z10, Z8, Z10
	VMINPS Z10, Z9, Z10
	VMULPS Z10, Z10, Z11      // x²
	VMULPS Z5, Z10, Z13       // c1·x
	VMOVAPS Z6, Z12
	VFMADD213PS Z28, Z11, Z12 // 1 + A·x²
	VMULPS Z12, Z13, Z0       // -2u
	VMOVAPS Z7, Z12
	VFMADD213PS Z28, Z11, Z12 // 1 + 3A·x²
	VMULPS Z12, Z13, Z13      // nt
	EXPZ                      // e
	VADDPS Z28, Z0, Z1
	VDIVPS Z1, Z28, Z1        // s = 1/(1 + e)
	VMULPS Z1, Z0, Z0         // e·s = 1 - s
	VMULPS Z13, Z0, Z0        // nt·(e·s)
	VFNMADD213PS Z1, Z1, Z0   // s - nt·(e·s)·s
	VPXORD Z2, Z2, Z2
	TESTQ DX, DX
	JNZ ggset
	VMOVUPS (DI), Z2
ggset:
	VFMADD231PS (R8), Z0, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	DECQ CX
	JNZ ggloop
ggdone:
	VZEROUPPER
	RET
