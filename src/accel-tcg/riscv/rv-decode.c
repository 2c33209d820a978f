/* SPDX-License-Identifier: MIT */
/*
 * RV64IMAC + Zicsr + Zifencei decoder.  Written from the unprivileged ISA
 * manual's encoding tables; compressed forms expand to their base ops.
 */
#include "rv.h"
#include "rv-ops.h"

static inline uint32_t bits(uint32_t x, unsigned hi, unsigned lo)
{
	return (x >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static inline int64_t sext(uint64_t x, unsigned width)
{
	return (int64_t)(x << (64 - width)) >> (64 - width);
}

static void set(struct vmc__rv_dec *d, unsigned op, unsigned rd, unsigned rs1,
		unsigned rs2, int64_t imm)
{
	d->op = (uint16_t)op;
	d->rd = (uint8_t)rd;
	d->rs1 = (uint8_t)rs1;
	d->rs2 = (uint8_t)rs2;
	d->imm = imm;
}

static void decode_c(uint16_t c, struct vmc__rv_dec *d)
{
	unsigned q = c & 3, f3 = bits(c, 15, 13);
	unsigned rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
	unsigned rdp = 8 + bits(c, 4, 2), rs1p = 8 + bits(c, 9, 7);
	int64_t imm;

	d->len = 2;
	set(d, VMC__RV_OP_ILLEGAL, 0, 0, 0, 0);
	if (q == 0) {
		switch (f3) {
		case 0: /* c.addi4spn */
			imm = bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 |
			      bits(c, 6, 6) << 2 | bits(c, 5, 5) << 3;
			if (imm)
				set(d, VMC__RV_OP_ADDI, rdp, 2, 0, imm);
			return;
		case 2: /* c.lw */
			imm = bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 |
			      bits(c, 5, 5) << 6;
			set(d, VMC__RV_OP_LW, rdp, rs1p, 0, imm);
			return;
		case 3: /* c.ld */
			imm = bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;
			set(d, VMC__RV_OP_LD, rdp, rs1p, 0, imm);
			return;
		case 6: /* c.sw */
			imm = bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 |
			      bits(c, 5, 5) << 6;
			set(d, VMC__RV_OP_SW, 0, rs1p, rdp, imm);
			return;
		case 7: /* c.sd */
			imm = bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;
			set(d, VMC__RV_OP_SD, 0, rs1p, rdp, imm);
			return;
		default: /* c.fld, c.fsd (no F/D), reserved */
			return;
		}
	}
	if (q == 1) {
		int64_t ci = sext(bits(c, 12, 12) << 5 | bits(c, 6, 2), 6);

		switch (f3) {
		case 0: /* c.addi, c.nop */
			set(d, VMC__RV_OP_ADDI, rd, rd, 0, ci);
			return;
		case 1: /* c.addiw */
			if (rd)
				set(d, VMC__RV_OP_ADDIW, rd, rd, 0, ci);
			return;
		case 2: /* c.li */
			set(d, VMC__RV_OP_ADDI, rd, 0, 0, ci);
			return;
		case 3:
			if (rd == 2) { /* c.addi16sp */
				imm = sext(bits(c, 12, 12) << 9 |
						   bits(c, 6, 6) << 4 |
						   bits(c, 5, 5) << 6 |
						   bits(c, 4, 3) << 7 |
						   bits(c, 2, 2) << 5,
					   10);
				if (imm)
					set(d, VMC__RV_OP_ADDI, 2, 2, 0, imm);
			} else if (ci) { /* c.lui */
				set(d, VMC__RV_OP_LUI, rd, 0, 0,
				    (int64_t)((uint64_t)ci << 12));
			}
			return;
		case 4: {
			unsigned sh = bits(c, 12, 12) << 5 | bits(c, 6, 2);

			switch (bits(c, 11, 10)) {
			case 0:
				set(d, VMC__RV_OP_SRLI, rs1p, rs1p, 0, sh);
				return;
			case 1:
				set(d, VMC__RV_OP_SRAI, rs1p, rs1p, 0, sh);
				return;
			case 2:
				set(d, VMC__RV_OP_ANDI, rs1p, rs1p, 0, ci);
				return;
			}
			static const uint16_t ops[8] = {
				VMC__RV_OP_SUB,	    VMC__RV_OP_XOR,
				VMC__RV_OP_OR,	    VMC__RV_OP_AND,
				VMC__RV_OP_SUBW,    VMC__RV_OP_ADDW,
				VMC__RV_OP_ILLEGAL, VMC__RV_OP_ILLEGAL,
			};
			unsigned op = ops[bits(c, 12, 12) << 2 | bits(c, 6, 5)];

			if (op != VMC__RV_OP_ILLEGAL)
				set(d, op, rs1p, rs1p, 8 + bits(c, 4, 2), 0);
			return;
		}
		case 5: /* c.j */
			imm = sext(
				bits(c, 12, 12) << 11 | bits(c, 11, 11) << 4 |
					bits(c, 10, 9) << 8 |
					bits(c, 8, 8) << 10 |
					bits(c, 7, 7) << 6 |
					bits(c, 6, 6) << 7 |
					bits(c, 5, 3) << 1 | bits(c, 2, 2) << 5,
				12);
			set(d, VMC__RV_OP_JAL, 0, 0, 0, imm);
			return;
		default: /* c.beqz, c.bnez */
			imm = sext(bits(c, 12, 12) << 8 | bits(c, 11, 10) << 3 |
					   bits(c, 6, 5) << 6 |
					   bits(c, 4, 3) << 1 |
					   bits(c, 2, 2) << 5,
				   9);
			set(d, f3 == 6 ? VMC__RV_OP_BEQ : VMC__RV_OP_BNE, 0,
			    rs1p, 0, imm);
			return;
		}
	}
	/* q == 2 */
	switch (f3) {
	case 0: /* c.slli */
		set(d, VMC__RV_OP_SLLI, rd, rd, 0,
		    bits(c, 12, 12) << 5 | bits(c, 6, 2));
		return;
	case 2: /* c.lwsp */
		if (rd)
			set(d, VMC__RV_OP_LW, rd, 2, 0,
			    bits(c, 12, 12) << 5 | bits(c, 6, 4) << 2 |
				    bits(c, 3, 2) << 6);
		return;
	case 3: /* c.ldsp */
		if (rd)
			set(d, VMC__RV_OP_LD, rd, 2, 0,
			    bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 |
				    bits(c, 4, 2) << 6);
		return;
	case 4:
		if (!bits(c, 12, 12)) {
			if (!rs2) { /* c.jr */
				if (rd)
					set(d, VMC__RV_OP_JALR, 0, rd, 0, 0);
			} else { /* c.mv */
				set(d, VMC__RV_OP_ADD, rd, 0, rs2, 0);
			}
		} else {
			if (!rs2 && !rd)
				set(d, VMC__RV_OP_EBREAK, 0, 0, 0, 0);
			else if (!rs2) /* c.jalr */
				set(d, VMC__RV_OP_JALR, 1, rd, 0, 0);
			else /* c.add */
				set(d, VMC__RV_OP_ADD, rd, rd, rs2, 0);
		}
		return;
	case 6: /* c.swsp */
		set(d, VMC__RV_OP_SW, 0, 2, rs2,
		    bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6);
		return;
	case 7: /* c.sdsp */
		set(d, VMC__RV_OP_SD, 0, 2, rs2,
		    bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6);
		return;
	default: /* c.fldsp, c.fsdsp */
		return;
	}
}

static void decode_amo(uint32_t w, struct vmc__rv_dec *d, unsigned rd,
		       unsigned rs1, unsigned rs2)
{
	static const uint16_t ops_w[32] = {
		[0x00] = VMC__RV_OP_AMOADD_W,  [0x01] = VMC__RV_OP_AMOSWAP_W,
		[0x02] = VMC__RV_OP_LR_W,      [0x03] = VMC__RV_OP_SC_W,
		[0x04] = VMC__RV_OP_AMOXOR_W,  [0x08] = VMC__RV_OP_AMOOR_W,
		[0x0c] = VMC__RV_OP_AMOAND_W,  [0x10] = VMC__RV_OP_AMOMIN_W,
		[0x14] = VMC__RV_OP_AMOMAX_W,  [0x18] = VMC__RV_OP_AMOMINU_W,
		[0x1c] = VMC__RV_OP_AMOMAXU_W,
	};
	unsigned f5 = bits(w, 31, 27), f3 = bits(w, 14, 12);
	unsigned op = ops_w[f5];

	if (!op || (f3 != 2 && f3 != 3))
		return;
	if (op == VMC__RV_OP_LR_W && rs2)
		return;
	if (f3 == 3) /* the _D ops follow the _W ones in the same order */
		op += VMC__RV_OP_LR_D - VMC__RV_OP_LR_W;
	set(d, op, rd, rs1, rs2, 0);
}

void vmc__rv_decode(uint32_t w, struct vmc__rv_dec *d)
{
	unsigned rd = bits(w, 11, 7), rs1 = bits(w, 19, 15);
	unsigned rs2 = bits(w, 24, 20), f3 = bits(w, 14, 12);
	unsigned f7 = bits(w, 31, 25);
	int64_t imm_i = sext(w >> 20, 12);
	int64_t imm_s = sext(bits(w, 31, 25) << 5 | bits(w, 11, 7), 12);
	int64_t imm;

	d->raw = w;
	if ((w & 3) != 3) {
		d->raw = w & 0xffff;
		decode_c((uint16_t)w, d);
		return;
	}
	d->len = 4;
	set(d, VMC__RV_OP_ILLEGAL, 0, 0, 0, 0);
	switch (bits(w, 6, 0)) {
	case 0x37:
		set(d, VMC__RV_OP_LUI, rd, 0, 0, (int32_t)(w & 0xfffff000));
		return;
	case 0x17:
		set(d, VMC__RV_OP_AUIPC, rd, 0, 0, (int32_t)(w & 0xfffff000));
		return;
	case 0x6f:
		imm = sext(bits(w, 31, 31) << 20 | bits(w, 19, 12) << 12 |
				   bits(w, 20, 20) << 11 | bits(w, 30, 21) << 1,
			   21);
		set(d, VMC__RV_OP_JAL, rd, 0, 0, imm);
		return;
	case 0x67:
		if (f3 == 0)
			set(d, VMC__RV_OP_JALR, rd, rs1, 0, imm_i);
		return;
	case 0x63: {
		static const uint16_t ops[8] = {
			VMC__RV_OP_BEQ,	    VMC__RV_OP_BNE,  VMC__RV_OP_ILLEGAL,
			VMC__RV_OP_ILLEGAL, VMC__RV_OP_BLT,  VMC__RV_OP_BGE,
			VMC__RV_OP_BLTU,    VMC__RV_OP_BGEU,
		};

		imm = sext(bits(w, 31, 31) << 12 | bits(w, 7, 7) << 11 |
				   bits(w, 30, 25) << 5 | bits(w, 11, 8) << 1,
			   13);
		if (ops[f3] != VMC__RV_OP_ILLEGAL)
			set(d, ops[f3], 0, rs1, rs2, imm);
		return;
	}
	case 0x03: {
		static const uint16_t ops[8] = {
			VMC__RV_OP_LB,	VMC__RV_OP_LH,	    VMC__RV_OP_LW,
			VMC__RV_OP_LD,	VMC__RV_OP_LBU,	    VMC__RV_OP_LHU,
			VMC__RV_OP_LWU, VMC__RV_OP_ILLEGAL,
		};

		if (ops[f3] != VMC__RV_OP_ILLEGAL)
			set(d, ops[f3], rd, rs1, 0, imm_i);
		return;
	}
	case 0x23: {
		static const uint16_t ops[4] = {
			VMC__RV_OP_SB,
			VMC__RV_OP_SH,
			VMC__RV_OP_SW,
			VMC__RV_OP_SD,
		};

		if (f3 < 4)
			set(d, ops[f3], 0, rs1, rs2, imm_s);
		return;
	}
	case 0x13: {
		unsigned sh = bits(w, 25, 20), f6 = bits(w, 31, 26);

		switch (f3) {
		case 0:
			set(d, VMC__RV_OP_ADDI, rd, rs1, 0, imm_i);
			return;
		case 2:
			set(d, VMC__RV_OP_SLTI, rd, rs1, 0, imm_i);
			return;
		case 3:
			set(d, VMC__RV_OP_SLTIU, rd, rs1, 0, imm_i);
			return;
		case 4:
			set(d, VMC__RV_OP_XORI, rd, rs1, 0, imm_i);
			return;
		case 6:
			set(d, VMC__RV_OP_ORI, rd, rs1, 0, imm_i);
			return;
		case 7:
			set(d, VMC__RV_OP_ANDI, rd, rs1, 0, imm_i);
			return;
		case 1:
			if (f6 == 0)
				set(d, VMC__RV_OP_SLLI, rd, rs1, 0, sh);
			return;
		default:
			if (f6 == 0)
				set(d, VMC__RV_OP_SRLI, rd, rs1, 0, sh);
			else if (f6 == 0x10)
				set(d, VMC__RV_OP_SRAI, rd, rs1, 0, sh);
			return;
		}
	}
	case 0x1b: {
		unsigned sh = bits(w, 24, 20);

		if (f3 == 0)
			set(d, VMC__RV_OP_ADDIW, rd, rs1, 0, imm_i);
		else if (f3 == 1 && f7 == 0)
			set(d, VMC__RV_OP_SLLIW, rd, rs1, 0, sh);
		else if (f3 == 5 && f7 == 0)
			set(d, VMC__RV_OP_SRLIW, rd, rs1, 0, sh);
		else if (f3 == 5 && f7 == 0x20)
			set(d, VMC__RV_OP_SRAIW, rd, rs1, 0, sh);
		return;
	}
	case 0x33: {
		static const uint16_t base[8] = {
			VMC__RV_OP_ADD,	 VMC__RV_OP_SLL, VMC__RV_OP_SLT,
			VMC__RV_OP_SLTU, VMC__RV_OP_XOR, VMC__RV_OP_SRL,
			VMC__RV_OP_OR,	 VMC__RV_OP_AND,
		};
		static const uint16_t mul[8] = {
			VMC__RV_OP_MUL,	  VMC__RV_OP_MULH, VMC__RV_OP_MULHSU,
			VMC__RV_OP_MULHU, VMC__RV_OP_DIV,  VMC__RV_OP_DIVU,
			VMC__RV_OP_REM,	  VMC__RV_OP_REMU,
		};

		if (f7 == 0)
			set(d, base[f3], rd, rs1, rs2, 0);
		else if (f7 == 1)
			set(d, mul[f3], rd, rs1, rs2, 0);
		else if (f7 == 0x20 && f3 == 0)
			set(d, VMC__RV_OP_SUB, rd, rs1, rs2, 0);
		else if (f7 == 0x20 && f3 == 5)
			set(d, VMC__RV_OP_SRA, rd, rs1, rs2, 0);
		return;
	}
	case 0x3b: {
		unsigned op = VMC__RV_OP_ILLEGAL;

		if (f7 == 0) {
			op = f3 == 0   ? VMC__RV_OP_ADDW
			     : f3 == 1 ? VMC__RV_OP_SLLW
			     : f3 == 5 ? VMC__RV_OP_SRLW
				       : VMC__RV_OP_ILLEGAL;
		} else if (f7 == 0x20) {
			op = f3 == 0   ? VMC__RV_OP_SUBW
			     : f3 == 5 ? VMC__RV_OP_SRAW
				       : VMC__RV_OP_ILLEGAL;
		} else if (f7 == 1) {
			op = f3 == 0   ? VMC__RV_OP_MULW
			     : f3 == 4 ? VMC__RV_OP_DIVW
			     : f3 == 5 ? VMC__RV_OP_DIVUW
			     : f3 == 6 ? VMC__RV_OP_REMW
			     : f3 == 7 ? VMC__RV_OP_REMUW
				       : VMC__RV_OP_ILLEGAL;
		}
		if (op != VMC__RV_OP_ILLEGAL)
			set(d, op, rd, rs1, rs2, 0);
		return;
	}
	case 0x0f:
		/* Reserved fence fields are ignored, as the spec asks. */
		if (f3 == 0)
			set(d, VMC__RV_OP_FENCE, 0, 0, 0, 0);
		else if (f3 == 1)
			set(d, VMC__RV_OP_FENCE_I, 0, 0, 0, 0);
		return;
	case 0x2f:
		decode_amo(w, d, rd, rs1, rs2);
		return;
	case 0x73:
		if (f3 == 0) {
			if (w == 0x00000073)
				set(d, VMC__RV_OP_ECALL, 0, 0, 0, 0);
			else if (w == 0x00100073)
				set(d, VMC__RV_OP_EBREAK, 0, 0, 0, 0);
			else if (w == 0x30200073)
				set(d, VMC__RV_OP_MRET, 0, 0, 0, 0);
			else if (w == 0x10200073)
				set(d, VMC__RV_OP_SRET, 0, 0, 0, 0);
			else if (w == 0x10500073)
				set(d, VMC__RV_OP_WFI, 0, 0, 0, 0);
			else if (f7 == 0x09 && rd == 0)
				set(d, VMC__RV_OP_SFENCE_VMA, 0, rs1, rs2, 0);
			return;
		}
		if (f3 == 4)
			return;
		{
			static const uint16_t ops[8] = {
				0,
				VMC__RV_OP_CSRRW,
				VMC__RV_OP_CSRRS,
				VMC__RV_OP_CSRRC,
				0,
				VMC__RV_OP_CSRRWI,
				VMC__RV_OP_CSRRSI,
				VMC__RV_OP_CSRRCI,
			};

			set(d, ops[f3], rd, rs1, 0, w >> 20);
		}
		return;
	default:
		return;
	}
}
