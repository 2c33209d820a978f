/* SPDX-License-Identifier: MIT */
/*
 * The ops of the RV64 hart and every fact the hart knows about each one,
 * in one table.  The decoder (RV64IMAC + Zicsr + Zifencei; compressed
 * instructions decode to the same ops) produces them, the translator
 * rewrites and fuses them, and the interpreter has a handler for each; the
 * op enum, the names, the interpreter's dispatch table and every predicate
 * below are generated from this table, so no fact lives anywhere else.
 *
 * Each row states every column; "_" means no.  A column accepts only its
 * own word or "_" (anything else does not compile).
 *
 *   fwd    FWD: besides its plain handler the op has an F_ form that takes
 *          rs1 from the previous slot's result (the interpreter's t_);
 *          the op reads rs1 and nothing else about rs1 differs.
 *   br     BR: a conditional branch.  It also has a form that closes
 *          a loop (back to its block's start) and one that stays inside a
 *          block (taken leaves it), each plain and FWD.
 *   ends   TERM: ends a block (jumps, CSR and system instructions, the
 *          illegal op).  A conditional branch is a terminator when it
 *          ends the block; the translator lets the block go on past it.
 *   rd     RD: writes rd (a write to x0 goes to the sink x[32]).
 *   t      SETT: the handler leaves the value it wrote to rd in t_, so
 *          the next slot may take its F_ form.  Ops that are SETT and
 *          access no memory are plain arithmetic: they never trap and
 *          nothing but their registers sees their order.
 *   pc     PCREL: imm is relative to the instruction's pc; the
 *          translator makes it absolute.
 *   loop   LOOP: an add that the translator fuses with the branch that
 *          closes a loop when the branch compares its result.
 *   mem    NONE, LOAD, STORE or AMO (LR/SC and AMOs): the memory access.
 *   by     DEC: the decoder produces it; XLATE: only the translator does
 *          (rewritten or fused forms).
 *
 * The order of the rows is the enum's.  rv-cpu.c relies on the CSR ops
 * being consecutive with the immediate forms last, and rv-mmu.c on the
 * doubleword LR/SC/AMOs following the word ones in the same order; the
 * assertions at the end check both.
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_OPS_H
#define VMC_ACCEL_TCG_RISCV_RV_OPS_H

#include <stdint.h>

/* clang-format off */
/*	  op          fwd  br  ends  rd  t     pc     loop  mem    by */
#define VMC__RV_OPS(X)                                                    \
	X(ILLEGAL,    _,   _,  TERM, _,  _,    _,     _,    NONE,  DEC)   \
	X(LUI,        _,   _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(AUIPC,      _,   _,  _,    RD, SETT, PCREL, _,    NONE,  DEC)   \
	X(JAL,        _,   _,  TERM, RD, _,    PCREL, _,    NONE,  DEC)   \
	X(JALR,       _,   _,  TERM, RD, _,    _,     _,    NONE,  DEC)   \
	X(BEQ,        FWD, BR, TERM, _,  _,    PCREL, _,    NONE,  DEC)   \
	X(BNE,        FWD, BR, TERM, _,  _,    PCREL, _,    NONE,  DEC)   \
	X(BLT,        FWD, BR, TERM, _,  _,    PCREL, _,    NONE,  DEC)   \
	X(BGE,        FWD, BR, TERM, _,  _,    PCREL, _,    NONE,  DEC)   \
	X(BLTU,       FWD, BR, TERM, _,  _,    PCREL, _,    NONE,  DEC)   \
	X(BGEU,       FWD, BR, TERM, _,  _,    PCREL, _,    NONE,  DEC)   \
	X(LB,         FWD, _,  _,    RD, SETT, _,     _,    LOAD,  DEC)   \
	X(LH,         FWD, _,  _,    RD, SETT, _,     _,    LOAD,  DEC)   \
	X(LW,         FWD, _,  _,    RD, SETT, _,     _,    LOAD,  DEC)   \
	X(LD,         FWD, _,  _,    RD, SETT, _,     _,    LOAD,  DEC)   \
	X(LBU,        FWD, _,  _,    RD, SETT, _,     _,    LOAD,  DEC)   \
	X(LHU,        FWD, _,  _,    RD, SETT, _,     _,    LOAD,  DEC)   \
	X(LWU,        FWD, _,  _,    RD, SETT, _,     _,    LOAD,  DEC)   \
	X(SB,         FWD, _,  _,    _,  _,    _,     _,    STORE, DEC)   \
	X(SH,         FWD, _,  _,    _,  _,    _,     _,    STORE, DEC)   \
	X(SW,         FWD, _,  _,    _,  _,    _,     _,    STORE, DEC)   \
	X(SD,         FWD, _,  _,    _,  _,    _,     _,    STORE, DEC)   \
	X(ADDI,       FWD, _,  _,    RD, SETT, _,     LOOP, NONE,  DEC)   \
	X(SLTI,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SLTIU,      FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(XORI,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(ORI,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(ANDI,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SLLI,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SRLI,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SRAI,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(ADD,        FWD, _,  _,    RD, SETT, _,     LOOP, NONE,  DEC)   \
	X(SUB,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SLL,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SLT,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SLTU,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(XOR,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SRL,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SRA,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(OR,         FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(AND,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(ADDIW,      FWD, _,  _,    RD, SETT, _,     LOOP, NONE,  DEC)   \
	X(SLLIW,      FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SRLIW,      FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SRAIW,      FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(ADDW,       FWD, _,  _,    RD, SETT, _,     LOOP, NONE,  DEC)   \
	X(SUBW,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SLLW,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SRLW,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(SRAW,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(FENCE,      _,   _,  _,    _,  _,    _,     _,    NONE,  DEC)   \
	X(FENCE_I,    _,   _,  TERM, _,  _,    _,     _,    NONE,  DEC)   \
	X(ECALL,      _,   _,  TERM, _,  _,    _,     _,    NONE,  DEC)   \
	X(EBREAK,     _,   _,  TERM, _,  _,    _,     _,    NONE,  DEC)   \
	X(MRET,       _,   _,  TERM, _,  _,    _,     _,    NONE,  DEC)   \
	X(SRET,       _,   _,  TERM, _,  _,    _,     _,    NONE,  DEC)   \
	X(WFI,        _,   _,  TERM, _,  _,    _,     _,    NONE,  DEC)   \
	X(SFENCE_VMA, _,   _,  TERM, _,  _,    _,     _,    NONE,  DEC)   \
	X(CSRRW,      _,   _,  TERM, RD, _,    _,     _,    NONE,  DEC)   \
	X(CSRRS,      _,   _,  TERM, RD, _,    _,     _,    NONE,  DEC)   \
	X(CSRRC,      _,   _,  TERM, RD, _,    _,     _,    NONE,  DEC)   \
	X(CSRRWI,     _,   _,  TERM, RD, _,    _,     _,    NONE,  DEC)   \
	X(CSRRSI,     _,   _,  TERM, RD, _,    _,     _,    NONE,  DEC)   \
	X(CSRRCI,     _,   _,  TERM, RD, _,    _,     _,    NONE,  DEC)   \
	X(MUL,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(MULH,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(MULHSU,     FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(MULHU,      FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(DIV,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(DIVU,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(REM,        FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(REMU,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(MULW,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(DIVW,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(DIVUW,      FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(REMW,       FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(REMUW,      FWD, _,  _,    RD, SETT, _,     _,    NONE,  DEC)   \
	X(LR_W,       _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(SC_W,       _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOSWAP_W,  _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOADD_W,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOXOR_W,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOAND_W,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOOR_W,    _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOMIN_W,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOMAX_W,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOMINU_W,  _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOMAXU_W,  _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(LR_D,       _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(SC_D,       _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOSWAP_D,  _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOADD_D,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOXOR_D,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOAND_D,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOOR_D,    _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOMIN_D,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOMAX_D,   _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOMINU_D,  _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(AMOMAXU_D,  _,   _,  _,    RD, _,    _,     _,    AMO,   DEC)   \
	X(LI,         _,   _,  _,    RD, SETT, _,     _,    NONE,  XLATE) \
	X(MV,         FWD, _,  _,    RD, SETT, _,     _,    NONE,  XLATE) \
	X(ZEXT_W,     FWD, _,  _,    RD, SETT, _,     _,    NONE,  XLATE) \
	X(ADD_UW,     FWD, _,  _,    RD, SETT, _,     _,    NONE,  XLATE) \
	X(SH_ADD,     FWD, _,  _,    RD, SETT, _,     _,    NONE,  XLATE)
/* clang-format on */

enum vmc__rv_op {
#define VMC__RV_OP_ENUM(n, ...) VMC__RV_OP_##n,
	VMC__RV_OPS(VMC__RV_OP_ENUM)
#undef VMC__RV_OP_ENUM
		VMC__RV_OP__COUNT
};

/* Flag bits of a column's word; "_" is 0 in every column. */
#define VMC__RV_OPF_FWD_FWD (1u << 0)
#define VMC__RV_OPF_FWD__ 0u
#define VMC__RV_OPF_BR_BR (1u << 1)
#define VMC__RV_OPF_BR__ 0u
#define VMC__RV_OPF_TERM_TERM (1u << 2)
#define VMC__RV_OPF_TERM__ 0u
#define VMC__RV_OPF_RD_RD (1u << 3)
#define VMC__RV_OPF_RD__ 0u
#define VMC__RV_OPF_T_SETT (1u << 4)
#define VMC__RV_OPF_T__ 0u
#define VMC__RV_OPF_PC_PCREL (1u << 5)
#define VMC__RV_OPF_PC__ 0u
#define VMC__RV_OPF_LOOP_LOOP (1u << 6)
#define VMC__RV_OPF_LOOP__ 0u
#define VMC__RV_OPF_BY_DEC 0u
#define VMC__RV_OPF_BY_XLATE (1u << 7)

enum {
	VMC__RV_OPF_FWD = VMC__RV_OPF_FWD_FWD,
	VMC__RV_OPF_BRANCH = VMC__RV_OPF_BR_BR,
	VMC__RV_OPF_TERM = VMC__RV_OPF_TERM_TERM,
	VMC__RV_OPF_RD = VMC__RV_OPF_RD_RD,
	VMC__RV_OPF_SETT = VMC__RV_OPF_T_SETT,
	VMC__RV_OPF_PCREL = VMC__RV_OPF_PC_PCREL,
	VMC__RV_OPF_LOOPADD = VMC__RV_OPF_LOOP_LOOP,
	VMC__RV_OPF_XLATE = VMC__RV_OPF_BY_XLATE,
};

/* The flags of a row, as a constant expression. */
#define VMC__RV_OP_FLAGS(n, forms, branch, ends, rd, t, pc, loop, mem, by)     \
	(VMC__RV_OPF_FWD_##forms | VMC__RV_OPF_BR_##branch |                   \
	 VMC__RV_OPF_TERM_##ends | VMC__RV_OPF_RD_##rd | VMC__RV_OPF_T_##t |   \
	 VMC__RV_OPF_PC_##pc | VMC__RV_OPF_LOOP_##loop | VMC__RV_OPF_BY_##by)

enum vmc__rv_mem {
	VMC__RV_MEM_NONE,
	VMC__RV_MEM_LOAD,
	VMC__RV_MEM_STORE,
	VMC__RV_MEM_AMO,
};

/* The conditional branches, numbered among themselves (VMC__RV_BR_BEQ,
 * ...), and the loop-counter adds likewise (VMC__RV_LOOPADD_ADDI, ...):
 * the interpreter's handlers for their forms and fusions are indexed so. */
#define VMC__RV_BR_SEL_BR(n) VMC__RV_BR_##n,
#define VMC__RV_BR_SEL__(n)
#define VMC__RV_LOOPADD_SEL_LOOP(n) VMC__RV_LOOPADD_##n,
#define VMC__RV_LOOPADD_SEL__(n)
enum {
#define VMC__RV_BR_ENUM(n, forms, branch, ...) VMC__RV_BR_SEL_##branch(n)
	VMC__RV_OPS(VMC__RV_BR_ENUM)
#undef VMC__RV_BR_ENUM
		VMC__RV_BR__COUNT
};
enum {
#define VMC__RV_LOOPADD_ENUM(n, forms, branch, ends, rd, t, pc, loop, ...)     \
	VMC__RV_LOOPADD_SEL_##loop(n)
	VMC__RV_OPS(VMC__RV_LOOPADD_ENUM)
#undef VMC__RV_LOOPADD_ENUM
		VMC__RV_LOOPADD__COUNT
};

/* One row, as data (rv-ops.c). */
struct vmc__rv_op_info {
	uint8_t flags;	/* VMC__RV_OPF_* */
	uint8_t mem;	/* enum vmc__rv_mem */
	int8_t br;	/* VMC__RV_BR_*, or -1 */
	int8_t loopadd; /* VMC__RV_LOOPADD_*, or -1 */
};

extern const struct vmc__rv_op_info vmc__rv_op_info[VMC__RV_OP__COUNT];
/* Its name (vmc__rv_op_name() checks the range). */
extern const char *const vmc__rv_op_names[VMC__RV_OP__COUNT];

static inline unsigned vmc__rv_op_flags(unsigned op)
{
	return vmc__rv_op_info[op].flags;
}

/* Ends a block. */
static inline int vmc__rv_op_is_terminator(unsigned op)
{
	return !!(vmc__rv_op_flags(op) & VMC__RV_OPF_TERM);
}

/* Writes rd. */
static inline int vmc__rv_op_writes_rd(unsigned op)
{
	return !!(vmc__rv_op_flags(op) & VMC__RV_OPF_RD);
}

/* Its handler leaves rd's value in t_ for the next slot. */
static inline int vmc__rv_op_sets_t(unsigned op)
{
	return !!(vmc__rv_op_flags(op) & VMC__RV_OPF_SETT);
}

/* Has an F_ form that takes rs1 from t_. */
static inline int vmc__rv_op_has_fwd(unsigned op)
{
	return !!(vmc__rv_op_flags(op) & VMC__RV_OPF_FWD);
}

/* A conditional branch. */
static inline int vmc__rv_op_is_branch(unsigned op)
{
	return !!(vmc__rv_op_flags(op) & VMC__RV_OPF_BRANCH);
}

/* imm is pc-relative. */
static inline int vmc__rv_op_is_pcrel(unsigned op)
{
	return !!(vmc__rv_op_flags(op) & VMC__RV_OPF_PCREL);
}

/* An add that fuses with a loop's closing branch. */
static inline int vmc__rv_op_is_loopadd(unsigned op)
{
	return !!(vmc__rv_op_flags(op) & VMC__RV_OPF_LOOPADD);
}

static inline enum vmc__rv_mem vmc__rv_op_mem(unsigned op)
{
	return (enum vmc__rv_mem)vmc__rv_op_info[op].mem;
}

/* Plain arithmetic: leaves its result in t_ and touches no memory, so it
 * never traps and only its registers see its place in the block. */
static inline int vmc__rv_op_is_plain_arith(unsigned op)
{
	return vmc__rv_op_sets_t(op) && vmc__rv_op_mem(op) == VMC__RV_MEM_NONE;
}

/* The orders rv-cpu.c and rv-mmu.c rely on (see above). */
_Static_assert(VMC__RV_OP_CSRRC == VMC__RV_OP_CSRRW + 2 &&
		       VMC__RV_OP_CSRRWI == VMC__RV_OP_CSRRW + 3 &&
		       VMC__RV_OP_CSRRCI == VMC__RV_OP_CSRRW + 5,
	       "CSR ops: rw, rs, rc, then the immediate forms");
_Static_assert(VMC__RV_OP_LR_D - VMC__RV_OP_LR_W ==
			       VMC__RV_OP_AMOMAXU_D - VMC__RV_OP_AMOMAXU_W &&
		       VMC__RV_OP_AMOMAXU_W - VMC__RV_OP_LR_W == 10 &&
		       VMC__RV_OP_LR_D == VMC__RV_OP_AMOMAXU_W + 1,
	       "LR/SC/AMO ops: the word forms, then the doubleword ones");

#endif
