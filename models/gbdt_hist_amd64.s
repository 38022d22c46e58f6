//go:build !purego

#include "textflag.h"

// The kernels below add, for every entry, its gradient and hessian to a bin
// of each feature of one or two groups of the grouped table. They widen the
// adjacent float32 gradient and hessian once per entry into a pair of
// float64s (CVTPS2PD) and add the pair to a bin with one ADDPD, where the Go
// loop needs two loads, two adds and two stores. Both add the same float64s
// in the same order, so the sums are bit for bit the same. Byte k of a word
// becomes the offset of its binStat, 16·bin, as (word >> (8k−4)) & 0xff0.
// Each prefetches the words of the entry 16 ahead: in a small node rows are
// far apart, every word is a cache miss, and the misses of the rows being
// summed are too few to keep the memory busy. Prefetching never faults, so
// the prefetched row need not be checked. Each stops at the first entry
// whose row is out of range of a group and returns how many entries it
// added.

// func accumulateSSE2(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) int
TEXT ·accumulateSSE2(SB), NOSPLIT, $0-64
	MOVQ h+0(FP), DI
	MOVQ words_base+8(FP), SI
	MOVQ words_len+16(FP), R8
	MOVQ ents_base+32(FP), BX
	MOVQ ents_len+40(FP), CX
	XORQ AX, AX

loop1:
	CMPQ AX, CX
	JGE  done1
	LEAQ 16(AX), R9
	CMPQ R9, CX
	JGE  nopf1
	MOVLQSX 192(BX), R9
	PREFETCHT0 (SI)(R9*4)

nopf1:
	MOVLQSX (BX), R11
	CMPQ R11, R8
	JAE  done1
	MOVQ 4(BX), X0
	CVTPS2PD X0, X0
	MOVL (SI)(R11*4), DX

	MOVBLZX DL, R9
	SHLQ $4, R9
	MOVUPD (DI)(R9*1), X1
	ADDPD X0, X1
	MOVUPD X1, (DI)(R9*1)

	MOVL DX, R10
	SHRL $4, R10
	ANDL $0xff0, R10
	MOVUPD 4096(DI)(R10*1), X2
	ADDPD X0, X2
	MOVUPD X2, 4096(DI)(R10*1)

	MOVL DX, R10
	SHRL $12, R10
	ANDL $0xff0, R10
	MOVUPD 8192(DI)(R10*1), X3
	ADDPD X0, X3
	MOVUPD X3, 8192(DI)(R10*1)

	SHRL $20, DX
	ANDL $0xff0, DX
	MOVUPD 12288(DI)(DX*1), X4
	ADDPD X0, X4
	MOVUPD X4, 12288(DI)(DX*1)

	ADDQ $12, BX
	INCQ AX
	JMP  loop1

done1:
	MOVQ AX, ret+56(FP)
	RET

// func accumulate2SSE2(h0, h1 *[groupWidth][256]binStat, words0, words1 []uint32, ents []gradEntry) int
TEXT ·accumulate2SSE2(SB), NOSPLIT, $0-96
	MOVQ h0+0(FP), DI
	MOVQ h1+8(FP), R12
	MOVQ words0_base+16(FP), SI
	MOVQ words0_len+24(FP), R8
	MOVQ words1_base+40(FP), R13
	MOVQ words1_len+48(FP), R9
	CMPQ R9, R8
	CMOVQLT R9, R8
	MOVQ ents_base+64(FP), BX
	MOVQ ents_len+72(FP), CX
	XORQ AX, AX

loop2:
	CMPQ AX, CX
	JGE  done2
	LEAQ 16(AX), R9
	CMPQ R9, CX
	JGE  nopf2
	MOVLQSX 192(BX), R9
	PREFETCHT0 (SI)(R9*4)
	PREFETCHT0 (R13)(R9*4)

nopf2:
	MOVLQSX (BX), R11
	CMPQ R11, R8
	JAE  done2
	MOVQ 4(BX), X0
	CVTPS2PD X0, X0
	MOVL (SI)(R11*4), DX

	MOVBLZX DL, R9
	SHLQ $4, R9
	MOVUPD (DI)(R9*1), X1
	ADDPD X0, X1
	MOVUPD X1, (DI)(R9*1)

	MOVL DX, R10
	SHRL $4, R10
	ANDL $0xff0, R10
	MOVUPD 4096(DI)(R10*1), X2
	ADDPD X0, X2
	MOVUPD X2, 4096(DI)(R10*1)

	MOVL DX, R10
	SHRL $12, R10
	ANDL $0xff0, R10
	MOVUPD 8192(DI)(R10*1), X3
	ADDPD X0, X3
	MOVUPD X3, 8192(DI)(R10*1)

	SHRL $20, DX
	ANDL $0xff0, DX
	MOVUPD 12288(DI)(DX*1), X4
	ADDPD X0, X4
	MOVUPD X4, 12288(DI)(DX*1)

	MOVL (R13)(R11*4), DX

	MOVBLZX DL, R9
	SHLQ $4, R9
	MOVUPD (R12)(R9*1), X1
	ADDPD X0, X1
	MOVUPD X1, (R12)(R9*1)

	MOVL DX, R10
	SHRL $4, R10
	ANDL $0xff0, R10
	MOVUPD 4096(R12)(R10*1), X2
	ADDPD X0, X2
	MOVUPD X2, 4096(R12)(R10*1)

	MOVL DX, R10
	SHRL $12, R10
	ANDL $0xff0, R10
	MOVUPD 8192(R12)(R10*1), X3
	ADDPD X0, X3
	MOVUPD X3, 8192(R12)(R10*1)

	SHRL $20, DX
	ANDL $0xff0, DX
	MOVUPD 12288(R12)(DX*1), X4
	ADDPD X0, X4
	MOVUPD X4, 12288(R12)(DX*1)

	ADDQ $12, BX
	INCQ AX
	JMP  loop2

done2:
	MOVQ AX, ret+88(FP)
	RET
