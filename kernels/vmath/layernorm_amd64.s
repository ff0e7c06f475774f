//go:build amd64 && !purego

#include "textflag.h"

// LayerNorm's row kernels with AVX-512, 16 lanes; n is a multiple of 16.
// Each sum runs in two lane-wise accumulators (even and odd blocks of 16),
// added and then reduced in a fixed order (HSUM), so a row's result
// depends only on the row. layernorm.go has the Go twins and the
// algorithm.

// HSUM reduces Z0 + Z1 to the scalar in X0 (clobbers Z1, Z2).
#define HSUM \
	VADDPS Z1, Z0, Z0 \
	VEXTRACTF32X8 $1, Z0, Y1 \
	VADDPS Y1, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0 \
	VMOVHLPS X0, X1, X1 \
	VADDPS X1, X0, X0 \
	VMOVSHDUP X0, X1 \
	VADDSS X1, X0, X0

// func sumAVX512(x *float32, n int) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	SHRQ $4, CX
	JZ sdone
	TESTQ $1, CX
	JZ spairs
	VADDPS (SI), Z0, Z0
	ADDQ $64, SI
	DECQ CX
	JZ sdone
spairs:
	SHRQ $1, CX
sloop:
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	ADDQ $128, SI
	DECQ CX
	JNZ sloop
sdone:
	HSUM
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func sumSqDevAVX512(x *float32, n int, m float32) float32
// Σ (x[i] - m)².
TEXT ·sumSqDevAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS m+16(FP), Z3
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	SHRQ $4, CX
	JZ qdone
	TESTQ $1, CX
	JZ qpairs
	VMOVUPS (SI), Z4
	VSUBPS Z3, Z4, Z4
	VFMADD231PS Z4, Z4, Z0
	ADDQ $64, SI
	DECQ CX
	JZ qdone
qpairs:
	SHRQ $1, CX
qloop:
	VMOVUPS (SI), Z4
	VSUBPS Z3, Z4, Z4
	VMOVUPS 64(SI), Z5
	VSUBPS Z3, Z5, Z5
	VFMADD231PS Z4, Z4, Z0
	VFMADD231PS Z5, Z5, Z1
	ADDQ $128, SI
	DECQ CX
	JNZ qloop
qdone:
	HSUM
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func normApplyAVX512(y, x, w, b *float32, n int, m, s float32)
// y[i] = (x[i] - m)·s·w[i] + b[i]; b may be nil (no bias).
TEXT ·normApplyAVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ b+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS m+40(FP), Z3
	VBROADCASTSS s+44(FP), Z4
	SHRQ $4, CX
	JZ adone
	TESTQ R9, R9
	JZ anobias
aloop:
	VMOVUPS (SI), Z0
	VSUBPS Z3, Z0, Z0
	VMULPS Z4, Z0, Z0
	VMULPS (R8), Z0, Z0
	VADDPS (R9), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ aloop
	JMP adone
anobias:
	VMOVUPS (SI), Z0
	VSUBPS Z3, Z0, Z0
	VMULPS Z4, Z0, Z0
	VMULPS (R8), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	DECQ CX
	JNZ anobias
adone:
	VZEROUPPER
	RET

// func normGradSumsAVX512(w, dy, x *float32, n int, m, s float32) (gs, gns float32)
// g = Σ w[i]·dy[i] and gn = Σ w[i]·dy[i]·(x[i] - m)·s.
TEXT ·normGradSumsAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ dy+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS m+32(FP), Z6
	VBROADCASTSS s+36(FP), Z7
	VPXORD Z0, Z0, Z0 // g, even blocks
	VPXORD Z1, Z1, Z1 // g, odd blocks
	VPXORD Z2, Z2, Z2 // gn, even blocks
	VPXORD Z3, Z3, Z3 // gn, odd blocks
	SHRQ $4, CX
	JZ gdone
	TESTQ $1, CX
	JZ gpairs
	VMOVUPS (R8), Z8
	VMULPS (SI), Z8, Z8     // a = w·dy
	VADDPS Z8, Z0, Z0
	VMOVUPS (DX), Z9
	VSUBPS Z6, Z9, Z9
	VMULPS Z7, Z9, Z9       // n = (x - m)·s
	VFMADD231PS Z9, Z8, Z2  // gn += a·n
	ADDQ $64, R8
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JZ gdone
gpairs:
	SHRQ $1, CX
gloop:
	VMOVUPS (R8), Z8
	VMOVUPS 64(R8), Z10
	VMULPS (SI), Z8, Z8
	VMULPS 64(SI), Z10, Z10
	VADDPS Z8, Z0, Z0
	VADDPS Z10, Z1, Z1
	VMOVUPS (DX), Z9
	VSUBPS Z6, Z9, Z9
	VMOVUPS 64(DX), Z11
	VSUBPS Z6, Z11, Z11
	VMULPS Z7, Z9, Z9
	VMULPS Z7, Z11, Z11
	VFMADD231PS Z9, Z8, Z2
	VFMADD231PS Z11, Z10, Z3
	ADDQ $128, R8
	ADDQ $128, SI
	ADDQ $128, DX
	DECQ CX
	JNZ gloop
gdone:
	VMOVAPS Z2, Z4
	VMOVAPS Z3, Z5
	HSUM
	VMOVSS X0, gs+40(FP)
	VMOVAPS Z4, Z0
	VMOVAPS Z5, Z1
	HSUM
	VMOVSS X0, gns+44(FP)
	VZEROUPPER
	RET

// func normGradApplyAVX512(dx, dw, db, w, dy, x *float32, n int, m, s, gMean, gnMean float32)
// With n_i = (x[i] - m)·s and d = dy[i]: dw[i] += n_i·d, db[i] += d and
// dx[i] += (w[i]·d - gMean - n_i·gnMean)·s.
TEXT ·normGradApplyAVX512(SB), NOSPLIT, $0-72
	MOVQ dx+0(FP), DI
	MOVQ dw+8(FP), R10
	MOVQ db+16(FP), R11
	MOVQ w+24(FP), R8
	MOVQ dy+32(FP), SI
	MOVQ x+40(FP), DX
	MOVQ n+48(FP), CX
	VBROADCASTSS m+56(FP), Z6
	VBROADCASTSS s+60(FP), Z7
	VBROADCASTSS gMean+64(FP), Z12
	VBROADCASTSS gnMean+68(FP), Z13
	SHRQ $4, CX
	JZ pdone
ploop:
	VMOVUPS (SI), Z8        // d
	VMOVUPS (DX), Z9
	VSUBPS Z6, Z9, Z9
	VMULPS Z7, Z9, Z9       // n
	VMOVUPS (R10), Z10
	VFMADD231PS Z9, Z8, Z10 // dw += n·d
	VMOVUPS Z10, (R10)
	VADDPS (R11), Z8, Z10   // db += d
	VMOVUPS Z10, (R11)
	VMULPS (R8), Z8, Z10    // w·d
	VSUBPS Z12, Z10, Z10    // - gMean
	VMULPS Z13, Z9, Z11     // n·gnMean
	VSUBPS Z11, Z10, Z10
	VMULPS Z7, Z10, Z10     // ·s
	VADDPS (DI), Z10, Z10
	VMOVUPS Z10, (DI)
	ADDQ $64, DI
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R8
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNZ ploop
pdone:
	VZEROUPPER
	RET

// func dotAVX512(a, b *float32, n int) float32
// Σ a[i]·b[i] over n (a multiple of 16) elements: products rounded, then
// added (no fused multiply-add), in two 16-lane accumulators like Sum's.
TEXT ·dotAVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	SHRQ $4, CX
	JZ ddone
	TESTQ $1, CX
	JZ dpairs
	VMOVUPS (SI), Z2
	VMULPS (DI), Z2, Z2
	VADDPS Z2, Z0, Z0
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JZ ddone
dpairs:
	SHRQ $1, CX
dloop:
	VMOVUPS (SI), Z2
	VMULPS (DI), Z2, Z2
	VADDPS Z2, Z0, Z0
	VMOVUPS 64(SI), Z3
	VMULPS 64(DI), Z3, Z3
	VADDPS Z3, Z1, Z1
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ dloop
ddone:
	HSUM
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET
