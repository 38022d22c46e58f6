#include "textflag.h"

// func accumulateSSE2(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) int
//
// Per entry it widens the adjacent float32 gradient and hessian into one
// pair of float64s (CVTPS2PD) and adds the pair to a bin of each of the
// four features with one ADDPD, where the Go loop needs two loads, two
// adds and two stores. Both add the same float64s in the same order, so the
// sums are bit for bit the same. It stops at the first entry whose row is
// out of range of words and returns how many entries it added.
TEXT ·accumulateSSE2(SB), NOSPLIT, $0-64
	MOVQ h+0(FP), DI
	MOVQ words_base+8(FP), SI
	MOVQ words_len+16(FP), R8
	MOVQ ents_base+32(FP), BX
	MOVQ ents_len+40(FP), CX
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	MOVLQSX (BX), DX
	CMPQ DX, R8
	JAE  done
	MOVQ 4(BX), X0
	CVTPS2PD X0, X0
	MOVL (SI)(DX*4), DX

	MOVBLZX DL, R9
	SHLQ $4, R9
	MOVUPD (DI)(R9*1), X1
	ADDPD X0, X1
	MOVUPD X1, (DI)(R9*1)

	MOVL DX, R10
	SHRL $8, R10
	MOVBLZX R10B, R10
	SHLQ $4, R10
	MOVUPD 4096(DI)(R10*1), X2
	ADDPD X0, X2
	MOVUPD X2, 4096(DI)(R10*1)

	MOVL DX, R11
	SHRL $16, R11
	MOVBLZX R11B, R11
	SHLQ $4, R11
	MOVUPD 8192(DI)(R11*1), X3
	ADDPD X0, X3
	MOVUPD X3, 8192(DI)(R11*1)

	SHRL $24, DX
	SHLQ $4, DX
	MOVUPD 12288(DI)(DX*1), X4
	ADDPD X0, X4
	MOVUPD X4, 12288(DI)(DX*1)

	ADDQ $12, BX
	INCQ AX
	JMP  loop

done:
	MOVQ AX, ret+56(FP)
	RET
