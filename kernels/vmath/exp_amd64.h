// Exp macros for the AVX-512 kernels (exp_amd64.s, gelu_amd64.s); the
// algorithm and the NaN rules are described at the top of exp_amd64.s.

// EXPCONSTS loads the constants into Z16-Z28 (clobbers AX).
#define EXPCONSTS \
	MOVL $0xc2d00000, AX; VPBROADCASTD AX, Z16  /* lo = -104.0 */ \
	MOVL $0x42b17218, AX; VPBROADCASTD AX, Z17  /* hi = 88.72283935546875 */ \
	MOVL $0x3fb8aa3b, AX; VPBROADCASTD AX, Z18  /* log2e = 1.4426950408889634 */ \
	MOVL $0x3f000000, AX; VPBROADCASTD AX, Z19  /* half = 0.5 */ \
	MOVL $0x3f318000, AX; VPBROADCASTD AX, Z20  /* ln2hi = 0.693359375 */ \
	MOVL $0xb95e8083, AX; VPBROADCASTD AX, Z21  /* ln2lo = -0.00021219444 */ \
	MOVL $0x39506967, AX; VPBROADCASTD AX, Z22  /* p0 = 0.000198756915 */ \
	MOVL $0x3ab743ce, AX; VPBROADCASTD AX, Z23  /* p1 = 0.0013981999507 */ \
	MOVL $0x3c088908, AX; VPBROADCASTD AX, Z24  /* p2 = 0.0083334519073 */ \
	MOVL $0x3d2aa9c1, AX; VPBROADCASTD AX, Z25  /* p3 = 0.041665795894 */ \
	MOVL $0x3e2aaaaa, AX; VPBROADCASTD AX, Z26  /* p4 = 0.16666665459 */ \
	MOVL $0x3f000000, AX; VPBROADCASTD AX, Z27  /* p5 = 0.50000001201 */ \
	MOVL $0x3f800000, AX; VPBROADCASTD AX, Z28  /* one = 1.0 */

// EXP2CONSTS loads the base-2 constants into Z16-Z24 (clobbers AX): the
// clamps, Cephes exp2f's P0-P5 and 1.
#define EXP2CONSTS \
	MOVL $0xc2fc0000, AX; VPBROADCASTD AX, Z16  /* lo = -126.0 (see EXP2FLUSHZ) */ \
	MOVL $0x43000000, AX; VPBROADCASTD AX, Z17  /* hi = 128.0 */ \
	MOVL $0x3920fdde, AX; VPBROADCASTD AX, Z18  /* P0 = 1.535336188319500e-4 */ \
	MOVL $0x3aaf9f29, AX; VPBROADCASTD AX, Z19  /* P1 = 1.339887440266574e-3 */ \
	MOVL $0x3c1d96a6, AX; VPBROADCASTD AX, Z20  /* P2 = 9.618437357674640e-3 */ \
	MOVL $0x3d635774, AX; VPBROADCASTD AX, Z21  /* P3 = 5.550332471162809e-2 */ \
	MOVL $0x3e75fdee, AX; VPBROADCASTD AX, Z22  /* P4 = 2.402264791363012e-1 */ \
	MOVL $0x3f317218, AX; VPBROADCASTD AX, Z23  /* P5 = 6.931472028550421e-1 */ \
	MOVL $0x3f800000, AX; VPBROADCASTD AX, Z24  /* one = 1.0 */

// EXP2Z(x) replaces Z0 = x with 2^x: x clamped to [-126, 128], n the
// nearest integer, f = x - n (exact), 2^f = 1 + f·P(f), scaled by 2^n with
// VSCALEFPS. Clobbers Z1, Z3.
#define EXP2Z \
	VMAXPS Z0, Z16, Z0; \
	VMINPS Z0, Z17, Z0; \
	VRNDSCALEPS $0, Z0, Z1; \
	VSUBPS Z1, Z0, Z0; \
	VMOVAPS Z18, Z3; \
	VFMADD213PS Z19, Z0, Z3; \
	VFMADD213PS Z20, Z0, Z3; \
	VFMADD213PS Z21, Z0, Z3; \
	VFMADD213PS Z22, Z0, Z3; \
	VFMADD213PS Z23, Z0, Z3; \
	VFMADD213PS Z24, Z0, Z3; \
	VSCALEFPS Z1, Z3, Z0;

// EXPZ(x) replaces Z0 = x with exp(x); clobbers Z1, Z3, Z4.
#define EXPZ \
	VMAXPS Z0, Z16, Z0; \
	VMINPS Z0, Z17, Z0; \
	VMOVAPS Z19, Z1; \
	VFMADD231PS Z18, Z0, Z1; \
	VRNDSCALEPS $1, Z1, Z1; \
	VFNMADD231PS Z20, Z1, Z0; \
	VFNMADD231PS Z21, Z1, Z0; \
	VMOVAPS Z22, Z3; \
	VFMADD213PS Z23, Z0, Z3; \
	VFMADD213PS Z24, Z0, Z3; \
	VFMADD213PS Z25, Z0, Z3; \
	VFMADD213PS Z26, Z0, Z3; \
	VFMADD213PS Z27, Z0, Z3; \
	VMULPS Z0, Z0, Z4; \
	VFMADD213PS Z0, Z4, Z3; \
	VADDPS Z28, Z3, Z3; \
	VSCALEFPS Z1, Z3, Z0;

// Subnormal flushing for probabilities (see flushSub in vmath.go).
// FLUSHCONSTZ loads 2^-126, the smallest normal float32, into Z29
// (clobbers AX).
#define FLUSHCONSTZ \
	MOVL $0x00800000, AX; VPBROADCASTD AX, Z29

// FLUSHZ sets the lanes of Z0 (non-negative or NaN) below 2^-126 to +0,
// keeping NaN: K1 = Z0 not-less-than 2^-126, unordered true.
#define FLUSHZ \
	VCMPPS $0x15, Z29, Z0, K1; \
	VMOVAPS.Z Z0, K1, Z0

// FLUSHSZ sets the lanes of Z0 that are subnormal or zero to +0 (signed
// values; see flushSubSigned).
#define FLUSHSZ \
	VFPCLASSPSZ $0x26, Z0, K1; \
	KNOTW K1, K1; \
	VMOVAPS.Z Z0, K1, Z0

// EXP2FLUSHZ is EXP2Z with 2^x = +0 below -126, where it would be
// subnormal: x is clamped at -126 (Z16) so that VSCALEFPS never
// underflows (an underflowing VSCALEFPS takes a microcode assist on
// Intel cores: with padded keys' scores at -Inf it took 63% of flash
// attention's time), and the lanes below are cleared (K1 keeps x ≥ -126
// or NaN). Clobbers Z1, Z3, K1.
#define EXP2FLUSHZ \
	VCMPPS $0x15, Z16, Z0, K1; \
	EXP2Z \
	VMOVAPS.Z Z0, K1, Z0
