//go:build amd64 && !purego

#include "textflag.h"

// AVX2+FMA versions of the kernels in exp_amd64.s: 8 lanes, and 8-column
// strips for the column kernels.
//
// Exp uses the same clamp to [-104, 88.7228], Cephes range reduction and
// polynomial as the AVX-512 version. AVX2 has no VSCALEFPS, so 2^n is put
// into the exponent field with integer adds. n lies in [-150, 128] after
// the clamp, outside the normal exponent range [-126, 127] at both ends,
// so the scaling is split in two halves, n1 = n>>1 and n2 = n - n1, both in
// [-75, 64]: p·2^n1 is formed exactly by adding n1<<23 to the bits of p
// (p is in [0.7, 1.42], so the sum is a normal float), and 2^n2 is the
// float with bits (n2+127)<<23. The one rounding is in the final multiply,
// which, like VSCALEFPS, underflows to subnormals and zero and overflows to
// +Inf correctly; the two versions agree bit for bit. A NaN x passes
// through the clamps (see exp_amd64.s), converts to n = 0x80000000, whose
// halves shift to 0 in the exponent field, and the result is NaN.

#include "exp_avx2_amd64.h"
#include "expcols_amd64.h"

// func expSubSumAVX2(dst, src *float32, n int, m, lo float32) float32
// dst[i] = exp(src[i] - m) for i < n (n a multiple of 8), +0 where that
// is below lo (0 for Exp, 2^-126 for ExpSubSum); returns the sum of dst,
// accumulated lane-wise and then reduced in a fixed order.
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y14
	VXORPS Y15, Y15, Y15
	EXPCONSTSY
	VBROADCASTSS lo+28(FP), Y5
	SHRQ $3, CX
	JZ esdone
esloop:
	VMOVUPS (SI), Y0
	VSUBPS Y14, Y0, Y0
	EXPY
	FLUSHY
	VMOVUPS Y0, (DI)
	VADDPS Y0, Y15, Y15
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ esloop
esdone:
	VEXTRACTF128 $1, Y15, X1
	VADDPS X1, X15, X1
	VMOVHLPS X1, X2, X2
	VADDPS X2, X1, X1
	VMOVSHDUP X1, X2
	VADDSS X2, X1, X1
	VMOVSS X1, ret+32(FP)
	VZEROUPPER
	RET

// func expSubColsAVX2(dst, src *float32, rows, stride int, m, sums *float32)
// One 8-column strip: dst[r][c] = exp(src[r][c] - m[c]); sums[c] += dst[r][c].
TEXT ·expSubColsAVX2(SB), NOSPLIT, $0-48
	EXPCOLS(EXPCONSTSY; FLUSHCONSTY, EXPY; FLUSHY, Y0, Y14, Y15, ecloop, ecdone)

// func exp2SubColsAVX2(dst, src *float32, rows, stride int, m, sums *float32)
// One 8-column strip: dst[r][c] = 2^(src[r][c] - m[c]); sums[c] += dst[r][c].
TEXT ·exp2SubColsAVX2(SB), NOSPLIT, $0-48
	EXPCOLS(EXP2CONSTSY, EXP2FLUSHY, Y0, Y14, Y15, e2cloop, e2cdone)

// func maxColsAVX2(m, x *float32, rows, stride int)
// m[c] = x > m ? x : m, as the Go loop does (see maxColsAVX512).
TEXT ·maxColsAVX2(SB), NOSPLIT, $0-32
	MOVQ m+0(FP), R8
	MOVQ x+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	VMOVUPS (R8), Y0
	TESTQ CX, CX
	JZ mcdone
mcloop:
	VMOVUPS (SI), Y1
	VMAXPS Y0, Y1, Y0
	ADDQ DX, SI
	DECQ CX
	JNZ mcloop
mcdone:
	VMOVUPS Y0, (R8)
	VZEROUPPER
	RET

// func scaleColsAVX2(x *float32, rows, stride int, s *float32)
TEXT ·scaleColsAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ rows+8(FP), CX
	MOVQ stride+16(FP), DX
	SHLQ $2, DX
	MOVQ s+24(FP), R8
	VMOVUPS (R8), Y1
	TESTQ CX, CX
	JZ scdone
scloop:
	VMULPS (SI), Y1, Y0
	VMOVUPS Y0, (SI)
	ADDQ DX, SI
	DECQ CX
	JNZ scloop
scdone:
	VZEROUPPER
	RET

// func dotColsAVX2(sums, a, b *float32, rows, stride int)
TEXT ·dotColsAVX2(SB), NOSPLIT, $0-40
	MOVQ sums+0(FP), R8
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ rows+24(FP), CX
	MOVQ stride+32(FP), DX
	SHLQ $2, DX
	VMOVUPS (R8), Y0
	TESTQ CX, CX
	JZ dcdone
dcloop:
	VMOVUPS (SI), Y1
	VFMADD231PS (DI), Y1, Y0
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ CX
	JNZ dcloop
dcdone:
	VMOVUPS Y0, (R8)
	VZEROUPPER
	RET

// func softmaxGradColsAVX2(d, p *float32, rows, stride int, s *float32, scale float32)
// d[r][c] = (scale * p[r][c]) * (d[r][c] - s[c]), rounded as the Go loop is.
TEXT ·softmaxGradColsAVX2(SB), NOSPLIT, $0-44
	MOVQ d+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	MOVQ s+32(FP), R8
	VMOVUPS (R8), Y2
	VBROADCASTSS scale+40(FP), Y3
	MOVL $0x7fffffff, AX
	MOVQ AX, X4
	VPBROADCASTD X4, Y4
	FLUSHCONSTY
	TESTQ CX, CX
	JZ gcdone
gcloop:
	VMULPS (SI), Y3, Y1
	VMOVUPS (DI), Y0
	VSUBPS Y2, Y0, Y0
	VMULPS Y1, Y0, Y0
	FLUSHSY
	VMOVUPS Y0, (DI)
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ CX
	JNZ gcloop
gcdone:
	VZEROUPPER
	RET
