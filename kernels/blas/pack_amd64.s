//go:build amd64 && !purego

#include "textflag.h"

// func copyPanel32(dst, src *float32, rows, stride int)
// dst[p*32+j] = src[p*stride+j] for p < rows, j < 32: one 32-wide packed B
// micro-panel from rows of a row-major matrix, four 8-float moves a row.
// Only the AVX-512 kernels pack 32 wide, so AVX is always there.
TEXT ·copyPanel32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	TESTQ CX, CX
	JZ cpdone
cploop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ DX, SI
	ADDQ $128, DI
	DECQ CX
	JNZ cploop
cpdone:
	VZEROUPPER
	RET
