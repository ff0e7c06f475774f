//go:build amd64 && !purego

#include "textflag.h"

// Vectorised exp, after Cephes expf: x is clamped to [-104, 88.7228],
// n = floor(x·log2(e) + 0.5), r = x - n·ln2 (ln2 split in two so r is
// exact), exp(r) = 1 + r + r²·P(r) with P of degree 5, and the result is
// scaled by 2^n with VSCALEFPS, which over- and underflows correctly.
// exp_avx2_amd64.s computes the same function bit for bit with 8 lanes.
//
// Operand order matters for NaN: VMAXPS and VMINPS return their second
// source (the first operand in Go syntax) when either is NaN, so the
// clamps are written to pass a NaN x through, and exp(NaN) = NaN.

#include "exp_amd64.h"
#include "expcols_amd64.h"

// func expSubSumAVX512(dst, src *float32, n int, m, lo float32) float32
// dst[i] = exp(src[i] - m) for i < n (n a multiple of 16), +0 where that
// is below lo (0 for Exp, 2^-126 for ExpSubSum); returns the sum of dst,
// accumulated lane-wise and then reduced in a fixed order.
TEXT ·expSubSumAVX512(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Z14
	VPXORD Z15, Z15, Z15
	EXPCONSTS
	VBROADCASTSS lo+28(FP), Z29
	SHRQ $4, CX
	JZ esdone
esloop:
	VMOVUPS (SI), Z0
	VSUBPS Z14, Z0, Z0
	EXPZ
	FLUSHZ
	VMOVUPS Z0, (DI)
	VADDPS Z0, Z15, Z15
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ esloop
esdone:
	VEXTRACTF32X8 $1, Z15, Y1
	VADDPS Y1, Y15, Y1
	VEXTRACTF128 $1, Y1, X2
	VADDPS X2, X1, X1
	VMOVHLPS X1, X2, X2
	VADDPS X2, X1, X1
	VMOVSHDUP X1, X2
	VADDSS X2, X1, X1
	VMOVSS X1, ret+32(FP)
	VZEROUPPER
	RET

// func expSubColsAVX512(dst, src *float32, rows, stride int, m, sums *float32)
// One 16-column strip: dst[r][c] = exp(src[r][c] - m[c]); sums[c] += dst[r][c].
TEXT ·expSubColsAVX512(SB), NOSPLIT, $0-48
	EXPCOLS(EXPCONSTS; FLUSHCONSTZ, EXPZ; FLUSHZ, Z0, Z14, Z15, ecloop, ecdone)

// func exp2SubColsAVX512(dst, src *float32, rows, stride int, m, sums *float32)
// One 16-column strip: dst[r][c] = 2^(src[r][c] - m[c]); sums[c] += dst[r][c].
TEXT ·exp2SubColsAVX512(SB), NOSPLIT, $0-48
	EXPCOLS(EXP2CONSTS, EXP2FLUSHZ, Z0, Z14, Z15, e2cloop, e2cdone)

// func maxColsAVX512(m, x *float32, rows, stride int)
// m[c] = x > m ? x : m, as the Go loop does: VMAXPS returns its second
// source (m) when the two are equal or either is NaN.
TEXT ·maxColsAVX512(SB), NOSPLIT, $0-32
	MOVQ m+0(FP), R8
	MOVQ x+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	VMOVUPS (R8), Z0
	TESTQ CX, CX
	JZ mcdone
mcloop:
	VMOVUPS (SI), Z1
	VMAXPS Z0, Z1, Z0
	ADDQ DX, SI
	DECQ CX
	JNZ mcloop
mcdone:
	VMOVUPS Z0, (R8)
	VZEROUPPER
	RET

// func scaleColsAVX512(x *float32, rows, stride int, s *float32)
TEXT ·scaleColsAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ rows+8(FP), CX
	MOVQ stride+16(FP), DX
	SHLQ $2, DX
	MOVQ s+24(FP), R8
	VMOVUPS (R8), Z1
	TESTQ CX, CX
	JZ scdone
scloop:
	VMULPS (SI), Z1, Z0
	VMOVUPS Z0, (SI)
	ADDQ DX, SI
	DECQ CX
	JNZ scloop
scdone:
	VZEROUPPER
	RET

// func dotColsAVX512(sums, a, b *float32, rows, stride int)
TEXT ·dotColsAVX512(SB), NOSPLIT, $0-40
	MOVQ sums+0(FP), R8
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ rows+24(FP), CX
	MOVQ stride+32(FP), DX
	SHLQ $2, DX
	VMOVUPS (R8), Z0
	TESTQ CX, CX
	JZ dcdone
dcloop:
	VMOVUPS (SI), Z1
	VFMADD231PS (DI), Z1, Z0
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ CX
	JNZ dcloop
dcdone:
	VMOVUPS Z0, (R8)
	VZEROUPPER
	RET

// func softmaxGradColsAVX512(d, p *float32, rows, stride int, s *float32, scale float32)
// d[r][c] = (scale * p[r][c]) * (d[r][c] - s[c]), rounded as the Go loop is.
TEXT ·softmaxGradColsAVX512(SB), NOSPLIT, $0-44
	MOVQ d+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	MOVQ s+32(FP), R8
	VMOVUPS (R8), Z2
	VBROADCASTSS scale+40(FP), Z3
	TESTQ CX, CX
	JZ gcdone
gcloop:
	VMULPS (SI), Z3, Z1
	VMOVUPS (DI), Z0
	VSUBPS Z2, Z0, Z0
	VMULPS Z1, Z0, Z0
	FLUSHSZ
	VMOVUPS Z0, (DI)
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ CX
	JNZ gcloop
gcdone:
	VZEROUPPER
	RET
