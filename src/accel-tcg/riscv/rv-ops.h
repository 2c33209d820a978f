/* SPDX-License-Identifier: MIT */
/*
 * The decoded operations of the RV64IMAC + Zicsr + Zifencei decoder, as an
 * X-macro list so the decoder, the interpreter's dispatch table and the
 * names stay in step.  Compressed instructions decode to the same ops.
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_OPS_H
#define VMC_ACCEL_TCG_RISCV_RV_OPS_H

#define VMC__RV_OPS(X)                                                       \
	X(ILLEGAL) X(LUI) X(AUIPC) X(JAL) X(JALR) X(BEQ) X(BNE) X(BLT)       \
	X(BGE) X(BLTU) X(BGEU) X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU)         \
	X(LWU) X(SB) X(SH) X(SW) X(SD) X(ADDI) X(SLTI) X(SLTIU) X(XORI)      \
	X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) X(ADD) X(SUB) X(SLL) X(SLT)   \
	X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) X(ADDIW) X(SLLIW)          \
	X(SRLIW) X(SRAIW) X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) X(FENCE)   \
	X(FENCE_I) X(ECALL) X(EBREAK) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA)   \
	X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI) X(MUL)      \
	X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) X(MULW)     \
	X(DIVW) X(DIVUW) X(REMW) X(REMUW) X(LR_W) X(SC_W) X(AMOSWAP_W)       \
	X(AMOADD_W) X(AMOXOR_W) X(AMOAND_W) X(AMOOR_W) X(AMOMIN_W)           \
	X(AMOMAX_W) X(AMOMINU_W) X(AMOMAXU_W) X(LR_D) X(SC_D) X(AMOSWAP_D)   \
	X(AMOADD_D) X(AMOXOR_D) X(AMOAND_D) X(AMOOR_D) X(AMOMIN_D)           \
	X(AMOMAX_D) X(AMOMINU_D) X(AMOMAXU_D) X(LI) X(MV) X(ZEXT_W)          \
	X(ADD_UW) X(SH_ADD)

enum vmc__rv_op {
#define VMC__RV_OP_ENUM(n) VMC__RV_OP_##n,
	VMC__RV_OPS(VMC__RV_OP_ENUM)
#undef VMC__RV_OP_ENUM
	VMC__RV_OP__COUNT
};

#endif
