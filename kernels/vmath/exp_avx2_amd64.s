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

// expc<> holds each constant splatted across 32 bytes, so that it can be a
// memory operand of a ymm instruction.
#define SPLAT(off, v) \
	DATA expc<>+(off)(SB)/4, v; DATA expc<>+(off+4)(SB)/4, v; \
	DATA expc<>+(off+8)(SB)/4, v; DATA expc<>+(off+12)(SB)/4, v; \
	DATA expc<>+(off+16)(SB)/4, v; DATA expc<>+(off+20)(SB)/4, v; \
	DATA expc<>+(off+24)(SB)/4, v; DATA expc<>+(off+28)(SB)/4, v

SPLAT(0, $0xc2d00000)   // lo = -104.0
SPLAT(32, $0x42b17218)  // hi = 88.72283935546875
SPLAT(64, $0x3fb8aa3b)  // log2e = 1.4426950408889634
SPLAT(96, $0x3f000000)  // half = 0.5
SPLAT(128, $0x3f318000) // ln2hi = 0.693359375
SPLAT(160, $0xb95e8083) // ln2lo = -0.00021219444
SPLAT(192, $0x39506967) // p0 = 0.000198756915
SPLAT(224, $0x3ab743ce) // p1 = 0.0013981999507
SPLAT(256, $0x3c088908) // p2 = 0.0083334519073
SPLAT(288, $0x3d2aa9c1) // p3 = 0.041665795894
SPLAT(320, $0x3e2aaaaa) // p4 = 0.16666665459
SPLAT(352, $0x3f000000) // p5 = 0.50000001201
SPLAT(384, $0x3f800000) // one = 1.0, also the exponent bias 127<<23
GLOBL expc<>(SB), RODATA|NOPTR, $416

// EXPCONSTSY loads lo, hi, log2e, half, ln2hi, ln2lo, p0 and one into
// Y6-Y13; p1-p5 stay in memory (16 ymm registers are too few for all).
#define EXPCONSTSY \
	VMOVUPS expc<>+0(SB), Y6; \
	VMOVUPS expc<>+32(SB), Y7; \
	VMOVUPS expc<>+64(SB), Y8; \
	VMOVUPS expc<>+96(SB), Y9; \
	VMOVUPS expc<>+128(SB), Y10; \
	VMOVUPS expc<>+160(SB), Y11; \
	VMOVUPS expc<>+192(SB), Y12; \
	VMOVUPS expc<>+384(SB), Y13

// EXPY replaces Y0 = x with exp(x); clobbers Y1-Y4.
#define EXPY \
	VMAXPS Y0, Y6, Y0; \
	VMINPS Y0, Y7, Y0; \
	VMOVAPS Y9, Y1; \
	VFMADD231PS Y8, Y0, Y1; \
	VROUNDPS $1, Y1, Y1; \
	VFNMADD231PS Y10, Y1, Y0; \
	VFNMADD231PS Y11, Y1, Y0; \
	VMOVAPS Y12, Y3; \
	VFMADD213PS expc<>+224(SB), Y0, Y3; \
	VFMADD213PS expc<>+256(SB), Y0, Y3; \
	VFMADD213PS expc<>+288(SB), Y0, Y3; \
	VFMADD213PS expc<>+320(SB), Y0, Y3; \
	VFMADD213PS expc<>+352(SB), Y0, Y3; \
	VMULPS Y0, Y0, Y4; \
	VFMADD213PS Y0, Y4, Y3; \
	VADDPS Y13, Y3, Y3; \
	VCVTTPS2DQ Y1, Y1; \
	VPSRAD $1, Y1, Y2; \
	VPSUBD Y2, Y1, Y1; \
	VPSLLD $23, Y2, Y2; \
	VPADDD Y2, Y3, Y3; \
	VPSLLD $23, Y1, Y1; \
	VPADDD Y13, Y1, Y1; \
	VMULPS Y1, Y3, Y0

// func expSubSumAVX2(dst, src *float32, n int, m float32) float32
// dst[i] = exp(src[i] - m) for i < n (n a multiple of 8); returns the sum
// of dst, accumulated lane-wise and then reduced in a fixed order.
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y14
	VXORPS Y15, Y15, Y15
	EXPCONSTSY
	SHRQ $3, CX
	JZ esdone
esloop:
	VMOVUPS (SI), Y0
	VSUBPS Y14, Y0, Y0
	EXPY
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
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	MOVQ m+32(FP), R8
	MOVQ sums+40(FP), R9
	VMOVUPS (R8), Y14
	VMOVUPS (R9), Y15
	EXPCONSTSY
	TESTQ CX, CX
	JZ ecdone
ecloop:
	VMOVUPS (SI), Y0
	VSUBPS Y14, Y0, Y0
	EXPY
	VMOVUPS Y0, (DI)
	VADDPS Y0, Y15, Y15
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ CX
	JNZ ecloop
ecdone:
	VMOVUPS Y15, (R9)
	VZEROUPPER
	RET

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
	TESTQ CX, CX
	JZ gcdone
gcloop:
	VMULPS (SI), Y3, Y1
	VMOVUPS (DI), Y0
	VSUBPS Y2, Y0, Y0
	VMULPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ DX, SI
	ADDQ DX, DI
	DECQ CX
	JNZ gcloop
gcdone:
	VZEROUPPER
	RET
