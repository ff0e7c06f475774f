// Exp constants and macros for the AVX2 kernels (exp_avx2_amd64.s,
// gelu_avx2_amd64.s); the algorithm is described at the top of
// exp_avx2_amd64.s. Each file that includes this gets its own copy of
// the file-local table expc<>.

// SPLAT(sym, off, v) fills 32 bytes of table sym with the 4-byte v, so
// that a constant can be a memory operand of a ymm instruction. expc<>
// holds the exp constants this way.
#define SPLAT(sym, off, v) \
	DATA sym+(off)(SB)/4, v; DATA sym+(off+4)(SB)/4, v; \
	DATA sym+(off+8)(SB)/4, v; DATA sym+(off+12)(SB)/4, v; \
	DATA sym+(off+16)(SB)/4, v; DATA sym+(off+20)(SB)/4, v; \
	DATA sym+(off+24)(SB)/4, v; DATA sym+(off+28)(SB)/4, v

SPLAT(expc<>, 0, $0xc2d00000)   // lo = -104.0
SPLAT(expc<>, 32, $0x42b17218)  // hi = 88.72283935546875
SPLAT(expc<>, 64, $0x3fb8aa3b)  // log2e = 1.4426950408889634
SPLAT(expc<>, 96, $0x3f000000)  // half = 0.5
SPLAT(expc<>, 128, $0x3f318000) // ln2hi = 0.693359375
SPLAT(expc<>, 160, $0xb95e8083) // ln2lo = -0.00021219444
SPLAT(expc<>, 192, $0x39506967) // p0 = 0.000198756915
SPLAT(expc<>, 224, $0x3ab743ce) // p1 = 0.0013981999507
SPLAT(expc<>, 256, $0x3c088908) // p2 = 0.0083334519073
SPLAT(expc<>, 288, $0x3d2aa9c1) // p3 = 0.041665795894
SPLAT(expc<>, 320, $0x3e2aaaaa) // p4 = 0.16666665459
SPLAT(expc<>, 352, $0x3f000000) // p5 = 0.50000001201
SPLAT(expc<>, 384, $0x3f800000) // one = 1.0, also the exponent bias 127<<23
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

SPLAT(exp2c<>, 0, $0xc2fc0000)   // lo = -126.0 (see EXP2FLUSHY)
SPLAT(exp2c<>, 32, $0x43000000)  // hi = 128.0
SPLAT(exp2c<>, 64, $0x3920fdde)  // P0
SPLAT(exp2c<>, 96, $0x3aaf9f29)  // P1
SPLAT(exp2c<>, 128, $0x3c1d96a6) // P2
SPLAT(exp2c<>, 160, $0x3d635774) // P3
SPLAT(exp2c<>, 192, $0x3e75fdee) // P4
SPLAT(exp2c<>, 224, $0x3f317218) // P5
SPLAT(exp2c<>, 256, $0x3f800000) // one = 1.0, also the exponent bias 127<<23
GLOBL exp2c<>(SB), RODATA|NOPTR, $288

// EXP2CONSTSY loads lo, hi and P0-P5 of the base-2 exponential into
// Y6-Y13; one stays in memory.
#define EXP2CONSTSY \
	VMOVUPS exp2c<>+0(SB), Y6; \
	VMOVUPS exp2c<>+32(SB), Y7; \
	VMOVUPS exp2c<>+64(SB), Y8; \
	VMOVUPS exp2c<>+96(SB), Y9; \
	VMOVUPS exp2c<>+128(SB), Y10; \
	VMOVUPS exp2c<>+160(SB), Y11; \
	VMOVUPS exp2c<>+192(SB), Y12; \
	VMOVUPS exp2c<>+224(SB), Y13

// SCALE2NY(bias) sets Y0 = Y3·2^n for the integer-valued n in Y1, bit for
// bit as VSCALEFPS: without it, 2^n = 2^(n>>1)·2^(n-(n>>1)), the first
// half added to Y3's exponent (exact: Y3·2^(n>>1) is a normal number) and
// the second multiplied, so the result is rounded once. bias holds the
// float32 bits of 1.0 (127<<23) in every lane. Clobbers Y1, Y2.
#define SCALE2NY(bias) \
	VCVTTPS2DQ Y1, Y1; \
	VPSRAD $1, Y1, Y2; \
	VPSUBD Y2, Y1, Y1; \
	VPSLLD $23, Y2, Y2; \
	VPADDD Y2, Y3, Y3; \
	VPSLLD $23, Y1, Y1; \
	VPADDD bias, Y1, Y1; \
	VMULPS Y1, Y3, Y0

// EXP2Y replaces Y0 = x with 2^x, bit for bit as EXP2Z (the scaling by
// 2^n as SCALE2NY). Clobbers Y1-Y3.
#define EXP2Y \
	VMAXPS Y0, Y6, Y0; \
	VMINPS Y0, Y7, Y0; \
	VROUNDPS $0, Y0, Y1; \
	VSUBPS Y1, Y0, Y0; \
	VMOVAPS Y8, Y3; \
	VFMADD213PS Y9, Y0, Y3; \
	VFMADD213PS Y10, Y0, Y3; \
	VFMADD213PS Y11, Y0, Y3; \
	VFMADD213PS Y12, Y0, Y3; \
	VFMADD213PS Y13, Y0, Y3; \
	VFMADD213PS exp2c<>+256(SB), Y0, Y3; \
	SCALE2NY(exp2c<>+256(SB))

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
	SCALE2NY(Y13)

// Subnormal flushing for probabilities (see flushSub in vmath.go).
// FLUSHCONSTY loads 2^-126, the smallest normal float32, into Y5
// (clobbers AX).
#define FLUSHCONSTY \
	MOVL $0x00800000, AX; MOVQ AX, X5; VPBROADCASTD X5, Y5

// FLUSHY sets the lanes of Y0 (non-negative or NaN) below 2^-126 to +0,
// keeping NaN; clobbers Y1.
#define FLUSHY \
	VCMPPS $0x15, Y5, Y0, Y1; \
	VANDPS Y1, Y0, Y0

// FLUSHSY sets the lanes of Y0 whose magnitude is below 2^-126
// (subnormals and zeros) to +0, keeping NaN, as FLUSHSZ does; Y4 holds
// the magnitude mask 0x7fffffff. Clobbers Y1.
#define FLUSHSY \
	VANDPS Y4, Y0, Y1; \
	VCMPPS $0x15, Y5, Y1, Y1; \
	VANDPS Y1, Y0, Y0

// EXP2FLUSHY is EXP2Y with 2^x = +0 below -126, where it would be
// subnormal: x is clamped at -126 (Y6) so that no step underflows (an
// underflowing multiply takes a microcode assist on Intel cores, some
// 100 times slower), and the lanes below are cleared (Y5 keeps x ≥ -126
// or NaN). Clobbers Y1-Y3, Y5.
#define EXP2FLUSHY \
	VCMPPS $0x15, Y6, Y0, Y5; \
	EXP2Y; \
	VANDPS Y5, Y0, Y0
