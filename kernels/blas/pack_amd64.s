//go:build amd64 && !purego

#include "textflag.h"

// func transposePanel32(dst, src *float32, steps, stride int, alpha float32)
// dst[p*32+j] = alpha*src[j*stride+p] for p < steps&^7, j < 32: one 32-wide
// packed B micro-panel from 32 rows of a matrix stored transposed, in
// 8×8 blocks transposed in registers (unpack, shuffle, lane permute; the
// caller moves the last steps%8 steps). Y16 (EVEX-encoded VMULPS) holds
// alpha: the 32-wide panels only exist on AVX-512 machines.
TEXT ·transposePanel32(SB), NOSPLIT, $0-36
	VBROADCASTSS alpha+32(FP), Y16
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ steps+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R8 // 3 rows
	MOVQ DX, R12
	SHLQ $3, R12        // 8 rows
	SHRQ $3, CX
	JZ tpdone
tpouter:
	MOVQ SI, AX
	MOVQ DI, R9
	MOVQ $4, R13
tpinner:
	LEAQ (AX)(R8*1), BX
	LEAQ (BX)(R8*1), R11
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(DX*1), Y1
	VMOVUPS (AX)(DX*2), Y2
	VMOVUPS (BX), Y3
	VMOVUPS (BX)(DX*1), Y4
	VMOVUPS (BX)(DX*2), Y5
	VMOVUPS (R11), Y6
	VMOVUPS (R11)(DX*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMULPS Y16, Y8, Y8
	VMULPS Y16, Y9, Y9
	VMULPS Y16, Y10, Y10
	VMULPS Y16, Y11, Y11
	VMULPS Y16, Y12, Y12
	VMULPS Y16, Y13, Y13
	VMULPS Y16, Y14, Y14
	VMULPS Y16, Y15, Y15
	VMOVUPS Y8, (R9)
	VMOVUPS Y9, 128(R9)
	VMOVUPS Y10, 256(R9)
	VMOVUPS Y11, 384(R9)
	VMOVUPS Y12, 512(R9)
	VMOVUPS Y13, 640(R9)
	VMOVUPS Y14, 768(R9)
	VMOVUPS Y15, 896(R9)
	ADDQ R12, AX
	ADDQ $32, R9
	DECQ R13
	JNZ tpinner
	ADDQ $32, SI
	ADDQ $1024, DI
	DECQ CX
	JNZ tpouter
tpdone:
	VZEROUPPER
	RET
