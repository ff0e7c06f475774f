//go:build amd64 && !purego

#include "textflag.h"

// func sumSquaresAVX512(x *float32, n int, s *[8]float64)
// Adds x[i]² to s[i mod 8] for the n elements of x (a multiple of 8), in
// order, in float64: the partial sums of SumSquares' Go loop, lane for
// lane. A float32's square is exact in float64, so multiplying and adding
// (no FMA) rounds exactly as the Go loop does.
TEXT ·sumSquaresAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ s+16(FP), DI
	VMOVUPD (DI), Z0
	SHRQ $3, CX
	JZ sdone
sloop:
	VCVTPS2PD (SI), Z1
	VMULPD Z1, Z1, Z1
	VADDPD Z1, Z0, Z0
	ADDQ $32, SI
	DECQ CX
	JNZ sloop
sdone:
	VMOVUPD Z0, (DI)
	VZEROUPPER
	RET
