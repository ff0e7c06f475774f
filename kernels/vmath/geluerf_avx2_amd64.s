//go:build amd64 && !purego

#include "textflag.h"

// AVX2+FMA versions of the kernels in geluerf_amd64.s: 8 lanes, float64
// in two halves of 4, the same operations in the same order, with exp
// from exp_avx2_amd64.h (which keeps its constants in Y6-Y13 and uses
// Y0-Y4). x lives in Y5 and t, then q, in Y14; exp(P(t)) waits in Y15
// while exp(-x²/2) is taken. VBLENDVPS selects by the sign bit of x.

#include "exp_avx2_amd64.h"

// SPLATD(sym, off, v) fills 32 bytes of table sym with the 8-byte v.
#define SPLATD(sym, off, v) \
	DATA sym+(off)(SB)/8, v; DATA sym+(off+8)(SB)/8, v; \
	DATA sym+(off+16)(SB)/8, v; DATA sym+(off+24)(SB)/8, v

SPLATD(erfc2<>, 0, $0x3ff0000000000000)   // 1 (float64)
SPLATD(erfc2<>, 32, $0x3fd6a09e667f3bcd)  // 1/(2√2) = 0.3535533905932738
SPLATD(erfc2<>, 64, $0x3fc5df28af76a5a4)  // P9 = 0.17087277
SPLATD(erfc2<>, 96, $0xbfea4f123185defd)  // P8 = -0.82215223
SPLATD(erfc2<>, 128, $0x3ff7d0f60453a1be) // P7 = 1.48851587
SPLATD(erfc2<>, 160, $0xbff229cba6063980) // P6 = -1.13520398
SPLATD(erfc2<>, 192, $0x3fd1d8f976231ce6) // P5 = 0.27886807
SPLATD(erfc2<>, 224, $0xbfc7d84982aaeaa5) // P4 = -0.18628806
SPLATD(erfc2<>, 256, $0x3fb8c6d917dec3f0) // P3 = 0.09678418
SPLATD(erfc2<>, 288, $0x3fd7f11f677960ea) // P2 = 0.37409196
SPLATD(erfc2<>, 320, $0x3ff00018d48d3588) // P1 = 1.00002368
SPLATD(erfc2<>, 352, $0xbff43f89c0889bc5) // P0 = -1.26551223
SPLAT(erfc2<>, 384, $0x7fffffff)          // |.| mask
SPLAT(erfc2<>, 416, $0xbf000000)          // -0.5
SPLAT(erfc2<>, 448, $0x3ecc422a)          // 1/√(2π)
SPLAT(erfc2<>, 480, $0xff7fffff)          // -MaxFloat32
SPLAT(erfc2<>, 512, $0x7f7fffff)          // MaxFloat32
GLOBL erfc2<>(SB), RODATA|NOPTR, $544

// HORNERY(t, p) sets p = P(t), 4 float64 lanes.
#define HORNERY(t, p) \
	VMOVUPD erfc2<>+64(SB), p; \
	VFMADD213PD erfc2<>+96(SB), t, p; \
	VFMADD213PD erfc2<>+128(SB), t, p; \
	VFMADD213PD erfc2<>+160(SB), t, p; \
	VFMADD213PD erfc2<>+192(SB), t, p; \
	VFMADD213PD erfc2<>+224(SB), t, p; \
	VFMADD213PD erfc2<>+256(SB), t, p; \
	VFMADD213PD erfc2<>+288(SB), t, p; \
	VFMADD213PD erfc2<>+320(SB), t, p; \
	VFMADD213PD erfc2<>+352(SB), t, p

// ERFY loads x from (SI) into Y5 and leaves xc in Y1, q = Φ(-|x|) in Y14
// and g = exp(-x²/2) in Y0; clobbers Y2-Y4 and Y15.
#define ERFY \
	VMOVUPS (SI), Y5; \
	VANDPS erfc2<>+384(SB), Y5, Y0; \
	VCVTPS2PD X0, Y1; \
	VEXTRACTF128 $1, Y0, X2; \
	VCVTPS2PD X2, Y2; \
	VMOVUPD erfc2<>+32(SB), Y3; \
	VFMADD213PD erfc2<>+0(SB), Y1, Y3; \
	VMOVUPD erfc2<>+32(SB), Y4; \
	VFMADD213PD erfc2<>+0(SB), Y2, Y4; \
	VMOVUPD erfc2<>+0(SB), Y1; \
	VDIVPD Y3, Y1, Y1; \
	VMOVUPD erfc2<>+0(SB), Y2; \
	VDIVPD Y4, Y2, Y2; \
	HORNERY(Y1, Y3); \
	HORNERY(Y2, Y4); \
	VCVTPD2PSY Y1, X1; \
	VCVTPD2PSY Y2, X2; \
	VINSERTF128 $1, X2, Y1, Y14; \
	VCVTPD2PSY Y3, X3; \
	VCVTPD2PSY Y4, X4; \
	VINSERTF128 $1, X4, Y3, Y0; \
	EXPY; \
	VMOVAPS Y0, Y15; \
	VMULPS erfc2<>+416(SB), Y5, Y0; \
	VMULPS Y5, Y0, Y0; \
	EXPY; \
	VMULPS Y9, Y14, Y14; \
	VMULPS Y0, Y14, Y14; \
	VMULPS Y15, Y14, Y14; \
	VMOVUPS erfc2<>+480(SB), Y1; \
	VMAXPS Y5, Y1, Y1; \
	VMOVUPS erfc2<>+512(SB), Y2; \
	VMINPS Y1, Y2, Y1

// func geluErfAVX2(dst, x *float32, n int)
// dst[i] = x[i]·Φ(x[i]) for i < n (n a multiple of 8).
TEXT ·geluErfAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	EXPCONSTSY
	SHRQ $3, CX
	JZ efdone
efloop:
	ERFY
	VMULPS Y14, Y1, Y2        // xc·q
	VSUBPS Y2, Y5, Y3         // x - xc·q
	VBLENDVPS Y5, Y2, Y3, Y3  // xc·q where x < 0
	VMOVUPS Y3, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ efloop
efdone:
	VZEROUPPER
	RET

// func geluErfGradAVX2(dx, x, dy *float32, n int)
// dx[i] += (Φ(x[i]) + x[i]·φ(x[i]))·dy[i] for i < n (n a multiple of 8).
TEXT ·geluErfGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), R8
	MOVQ n+24(FP), CX
	EXPCONSTSY
	SHRQ $3, CX
	JZ egdone
egloop:
	ERFY
	VSUBPS Y14, Y13, Y3                  // 1 - q
	VBLENDVPS Y5, Y14, Y3, Y3            // Φ(x): q where x < 0
	VMULPS Y0, Y1, Y1                    // xc·g
	VFMADD231PS erfc2<>+448(SB), Y1, Y3  // Φ(x) + xc·g/√(2π)
	VMOVUPS (DI), Y4
	VFMADD231PS (R8), Y3, Y4
	VMOVUPS Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	DECQ CX
	JNZ egloop
egdone:
	VZEROUPPER
	RET
