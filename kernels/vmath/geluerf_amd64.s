//go:build amd64 && !purego

#include "textflag.h"

// GELU, erf form, with AVX-512: 16 lanes, the algorithm of geluerf.go with
// exp from exp_amd64.h. t = 1/(1 + |x|/(2√2)) and the Chebyshev sum P(t)
// are computed in float64, in two halves of 8 lanes, and rounded to
// float32; then q = ((t/2)·exp(-x²/2))·exp(P(t)) = Φ(-|x|), and the sign
// of x selects x·q or x - x·q (Φ: q or 1 - q) through a mask. x·q and x·φ
// use xc, x limited to ±MaxFloat32 (the clamps pass NaN, as in
// exp_amd64.s). geluerf_avx2_amd64.s computes the same operations in the
// same order, so the two give identical bits.

#include "exp_amd64.h"

// erfd<> holds float64 constants for embedded broadcasts: 1, 1/(2√2) and
// the erfc coefficients P9 down to P0.
DATA erfd<>+0(SB)/8, $0x3ff0000000000000  // 1
DATA erfd<>+8(SB)/8, $0x3fd6a09e667f3bcd  // 1/(2√2) = 0.3535533905932738
DATA erfd<>+16(SB)/8, $0x3fc5df28af76a5a4 // P9 = 0.17087277
DATA erfd<>+24(SB)/8, $0xbfea4f123185defd // P8 = -0.82215223
DATA erfd<>+32(SB)/8, $0x3ff7d0f60453a1be // P7 = 1.48851587
DATA erfd<>+40(SB)/8, $0xbff229cba6063980 // P6 = -1.13520398
DATA erfd<>+48(SB)/8, $0x3fd1d8f976231ce6 // P5 = 0.27886807
DATA erfd<>+56(SB)/8, $0xbfc7d84982aaeaa5 // P4 = -0.18628806
DATA erfd<>+64(SB)/8, $0x3fb8c6d917dec3f0 // P3 = 0.09678418
DATA erfd<>+72(SB)/8, $0x3fd7f11f677960ea // P2 = 0.37409196
DATA erfd<>+80(SB)/8, $0x3ff00018d48d3588 // P1 = 1.00002368
DATA erfd<>+88(SB)/8, $0xbff43f89c0889bc5 // P0 = -1.26551223
GLOBL erfd<>(SB), RODATA|NOPTR, $96

// ERFCONSTS loads the constants into Z5-Z9 and Z29-Z31 (clobbers AX).
#define ERFCONSTS \
	MOVL $0x7fffffff, AX; VPBROADCASTD AX, Z5 /* |.| mask */ \
	VBROADCASTSD erfd<>+0(SB), Z6             /* 1.0 (float64) */ \
	VBROADCASTSD erfd<>+8(SB), Z7             /* 1/(2√2) (float64) */ \
	MOVL $0xbf000000, AX; VPBROADCASTD AX, Z8 /* -0.5 */ \
	MOVL $0x3ecc422a, AX; VPBROADCASTD AX, Z9 /* 1/√(2π) */ \
	MOVL $0xff7fffff, AX; VPBROADCASTD AX, Z29 /* -MaxFloat32 */ \
	MOVL $0x7f7fffff, AX; VPBROADCASTD AX, Z30 /* MaxFloat32 */ \
	MOVL $0x80000000, AX; VPBROADCASTD AX, Z31 /* sign bit */

// HORNER(t, p) sets p = P(t), 8 float64 lanes.
#define HORNER(t, p) \
	VBROADCASTSD erfd<>+16(SB), p; \
	VFMADD213PD.BCST erfd<>+24(SB), t, p; \
	VFMADD213PD.BCST erfd<>+32(SB), t, p; \
	VFMADD213PD.BCST erfd<>+40(SB), t, p; \
	VFMADD213PD.BCST erfd<>+48(SB), t, p; \
	VFMADD213PD.BCST erfd<>+56(SB), t, p; \
	VFMADD213PD.BCST erfd<>+64(SB), t, p; \
	VFMADD213PD.BCST erfd<>+72(SB), t, p; \
	VFMADD213PD.BCST erfd<>+80(SB), t, p; \
	VFMADD213PD.BCST erfd<>+88(SB), t, p

// ERFZ loads x from (SI) into Z10 and leaves xc in Z11, q = Φ(-|x|) in
// Z12, g = exp(-x²/2) in Z0 and the lanes where x is negative in K1;
// clobbers Z1, Z3, Z4, Z13-Z15.
#define ERFZ \
	VMOVUPS (SI), Z10; \
	VPANDD Z5, Z10, Z11; \
	VEXTRACTF64X4 $1, Z11, Y13; \
	VCVTPS2PD Y11, Z12; \
	VCVTPS2PD Y13, Z13; \
	VMOVAPD Z7, Z14; \
	VFMADD213PD Z6, Z12, Z14; \
	VMOVAPD Z7, Z15; \
	VFMADD213PD Z6, Z13, Z15; \
	VDIVPD Z14, Z6, Z12; \
	VDIVPD Z15, Z6, Z13; \
	HORNER(Z12, Z14); \
	HORNER(Z13, Z15); \
	VCVTPD2PS Z12, Y12; \
	VCVTPD2PS Z13, Y13; \
	VINSERTF64X4 $1, Y13, Z12, Z12; \
	VCVTPD2PS Z14, Y0; \
	VCVTPD2PS Z15, Y15; \
	VINSERTF64X4 $1, Y15, Z0, Z0; \
	EXPZ; \
	VMOVAPS Z0, Z14; \
	VMULPS Z8, Z10, Z0; \
	VMULPS Z10, Z0, Z0; \
	EXPZ; \
	VMULPS Z19, Z12, Z12; \
	VMULPS Z0, Z12, Z12; \
	VMULPS Z14, Z12, Z12; \
	VMAXPS Z10, Z29, Z11; \
	VMINPS Z11, Z30, Z11; \
	VPTESTMD Z31, Z10, K1

// func geluErfAVX512(dst, x *float32, n int)
// dst[i] = x[i]·Φ(x[i]) for i < n (n a multiple of 16).
TEXT ·geluErfAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	EXPCONSTS
	ERFCONSTS
	SHRQ $4, CX
	JZ efdone
efloop:
	ERFZ
	VMULPS Z12, Z11, Z13 // xc·q
	VSUBPS Z13, Z10, Z15 // x - xc·q
	VMOVAPS Z13, K1, Z15 // xc·q where x < 0
	VMOVUPS Z15, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ efloop
efdone:
	VZEROUPPER
	RET

// func geluErfGradAVX512(dx, x, dy *float32, n int)
// dx[i] += (Φ(x[i]) + x[i]·φ(x[i]))·dy[i] for i < n (n a multiple of 16).
TEXT ·geluErfGradAVX512(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), R8
	MOVQ n+24(FP), CX
	EXPCONSTS
	ERFCONSTS
	SHRQ $4, CX
	JZ egdone
egloop:
	ERFZ
	VSUBPS Z12, Z28, Z15     // 1 - q
	VMOVAPS Z12, K1, Z15     // Φ(x): q where x < 0
	VMULPS Z0, Z11, Z11      // xc·g
	VFMADD231PS Z9, Z11, Z15 // Φ(x) + xc·g/√(2π)
	VMOVUPS (DI), Z2
	VFMADD231PS (R8), Z15, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	DECQ CX
	JNZ egloop
egdone:
	VZEROUPPER
	RET
