//go:build amd64 && !purego

#include "textflag.h"

// AVX2+FMA versions of the kernels in gelu_amd64.s: 8 lanes, the same
// operations in the same order, with exp from exp_avx2_amd64.h, which
// agrees with the AVX-512 exp bit for bit. EXPY keeps its constants in
// Y6-Y13 and uses Y0-Y4, so the value that must live across it is in Y5
// and the GELU constants are memory operands (or loaded into a scratch
// register where a clamp must keep x as the NaN-passing operand).

#include "exp_avx2_amd64.h"

SPLAT(geluc<>, 0, $0xbfcc422a)   // c1 = -2√(2/π) = -1.5957691
SPLAT(geluc<>, 32, $0x3d372713)  // A = 0.044715
SPLAT(geluc<>, 64, $0x3e095d4f)  // 3A = 0.134145
SPLAT(geluc<>, 96, $0xff7fffff)  // -MaxFloat32
SPLAT(geluc<>, 128, $0xc1100000) // -9
SPLAT(geluc<>, 160, $0x41100000) // 9
GLOBL geluc<>(SB), RODATA|NOPTR, $192

// func geluTanhAVX2(dst, x *float32, n int)
// dst[i] = GELU(x[i]) for i < n (n a multiple of 8).
TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	EXPCONSTSY
	SHRQ $3, CX
	JZ gtdone
gtloop:
	VMOVUPS (SI), Y5
	VMULPS Y5, Y5, Y1            // x²
	VMOVUPS geluc<>+32(SB), Y2
	VFMADD213PS Y13, Y1, Y2      // 1 + A·x²
	VMULPS geluc<>+0(SB), Y5, Y0 // c1·x
	VMULPS Y2, Y0, Y0            // -2u
	EXPY                         // e
	VADDPS Y13, Y0, Y0           // 1 + e
	VMOVUPS geluc<>+96(SB), Y1
	VMAXPS Y5, Y1, Y1            // max(x, -MaxFloat32)
	VDIVPS Y0, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ gtloop
gtdone:
	VZEROUPPER
	RET

// func geluTanhGradAVX2(dx, x, dy *float32, n int)
// dx[i] += GELU'(x[i])·dy[i] for i < n (n a multiple of 8), with x
// clamped to [-9, 9].
TEXT ·geluTanhGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), R8
	MOVQ n+24(FP), CX
	EXPCONSTSY
	SHRQ $3, CX
	JZ ggdone
ggloop:
	VMOVUPS (SI), Y0
	VMOVUPS geluc<>+128(SB), Y1
	VMAXPS Y0, Y1, Y0
	VMOVUPS geluc<>+160(SB), Y1
	VMINPS Y0, Y1, Y0
	VMULPS Y0, Y0, Y1            // x²
	VMULPS geluc<>+0(SB), Y0, Y5 // c1·x
	VMOVUPS geluc<>+32(SB), Y2
	VFMADD213PS Y13, Y1, Y2      // 1 + A·x²
	VMOVUPS geluc<>+64(SB), Y3
	VFMADD213PS Y13, Y1, Y3      // 1 + 3A·x²
	VMULPS Y2, Y5, Y0            // -2u
	VMULPS Y3, Y5, Y5            // nt
	EXPY                         // e
	VADDPS Y13, Y0, Y1
	VDIVPS Y1, Y13, Y1           // s = 1/(1 + e)
	VMULPS Y1, Y0, Y0            // e·s = 1 - s
	VMULPS Y5, Y0, Y0            // nt·(e·s)
	VFNMADD213PS Y1, Y1, Y0      // s - nt·(e·s)·s
	VMOVUPS (DI), Y3
	VFMADD231PS (R8), Y0, Y3
	VMOVUPS Y3, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	DECQ CX
	JNZ ggloop
ggdone:
	VZEROUPPER
	RET
