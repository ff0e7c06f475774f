// EXPCOLS, shared by exp_amd64.s (AVX-512: X = Z0, M = Z14, S = Z15) and
// exp_avx2_amd64.s (AVX2: Y0, Y14, Y15).

// EXPCOLS(CONSTS, EXP, X, M, S, loop, done) is the body of a column strip
// of ExpSubCols or Exp2SubCols, one vector of columns wide: dst[r][c] =
// EXP(src[r][c] - m[c]), with EXP's constants loaded by CONSTS, and
// sums[c] += dst[r][c]. EXP works on X; m is kept in M, the sums in S.
#define EXPCOLS(CONSTS, EXP, X, M, S, loop, done) \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ rows+16(FP), CX; \
	MOVQ stride+24(FP), DX; \
	SHLQ $2, DX; \
	MOVQ m+32(FP), R8; \
	MOVQ sums+40(FP), R9; \
	VMOVUPS (R8), M; \
	VMOVUPS (R9), S; \
	CONSTS; \
	TESTQ CX, CX; \
	JZ done; \
loop: \
	VMOVUPS (SI), X; \
	VSUBPS M, X, X; \
	EXP; \
	VMOVUPS X, (DI); \
	VADDPS X, S, S; \
	ADDQ DX, SI; \
	ADDQ DX, DI; \
	DECQ CX; \
	JNZ loop; \
done: \
	VMOVUPS S, (R9); \
	VZEROUPPER; \
	RET
