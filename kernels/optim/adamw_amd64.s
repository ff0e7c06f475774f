//go:build amd64 && !purego

#include "textflag.h"

// func adamwAVX512(w, grad, m, v *float32, n int, k *adamConsts)
// AdamW's update of n elements (a multiple of 16), the operations of
// adamJob.Run's loop in its order, 16 lanes at a time: no FMA, IEEE
// multiply, add, divide and square root, so the bits are the Go loop's.
// k holds decay (1 when the parameter does not decay), b1, 1-b1, b2, 1-b2,
// sqrt(bias correction 2), eps and -lr/(bias correction 1).
TEXT ·adamwAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Z16  // decay
	VBROADCASTSS 4(AX), Z17  // b1
	VBROADCASTSS 8(AX), Z18  // 1-b1
	VBROADCASTSS 12(AX), Z19 // b2
	VBROADCASTSS 16(AX), Z20 // 1-b2
	VBROADCASTSS 20(AX), Z21 // sqrt(bc2)
	VBROADCASTSS 24(AX), Z22 // eps
	VBROADCASTSS 28(AX), Z23 // -step
	SHRQ $4, CX
	JZ adone
aloop:
	VMOVUPS (DI), Z0
	VMOVUPS (SI), Z1
	VMULPS Z16, Z0, Z0   // x = w·decay
	VMULPS (R8), Z17, Z2 // m·b1
	VMULPS Z1, Z18, Z4   // (1-b1)·g
	VADDPS Z4, Z2, Z2    // m' = m·b1 + (1-b1)·g
	VMULPS (R9), Z19, Z3 // v·b2
	VMULPS Z1, Z20, Z5   // (1-b2)·g
	VMULPS Z1, Z5, Z5    // ((1-b2)·g)·g
	VADDPS Z5, Z3, Z3    // v' = v·b2 + ((1-b2)·g)·g
	VSQRTPS Z3, Z6
	VDIVPS Z21, Z6, Z6   // sqrt(v')/sqrt(bc2)
	VADDPS Z22, Z6, Z6   // denom = ... + eps
	VMULPS Z2, Z23, Z7   // -step·m'
	VDIVPS Z6, Z7, Z7    // (-step·m')/denom
	VADDPS Z7, Z0, Z0    // w' = x + ...
	VMOVUPS Z2, (R8)
	VMOVUPS Z3, (R9)
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ aloop
adone:
	VZEROUPPER
	RET
