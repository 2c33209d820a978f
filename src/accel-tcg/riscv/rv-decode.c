/* SPDX-License-Identifier: MIT */
/*
 * RV64IMAFDC + Zicsr + Zifencei + Zba/Zbb/Zbc/Zbs + Zicond +
 * Zicbom/Zicboz decoder (the Zicbop and Zihintpause hints are ori and
 * fence encodings and decode as those).  Written from the unprivileged ISA
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
		case 1: /* c.fld */
			imm = bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;
			set(d, VMC__RV_OP_FLD, rdp, rs1p, 0, imm);
			return;
		case 5: /* c.fsd */
			imm = bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;
			set(d, VMC__RV_OP_FSD, 0, rs1p, rdp, imm);
			return;
		default: /* reserved */
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
	case 1: /* c.fldsp */
		set(d, VMC__RV_OP_FLD, rd, 2, 0,
		    bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 |
			    bits(c, 4, 2) << 6);
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
	default: /* c.fsdsp */
		set(d, VMC__RV_OP_FSD, 0, 2, rs2,
		    bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6);
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

/* OP-IMM funct3 1 beyond slli and the single-bit ops: Zbb's unary ops. */
static void decode_unary(uint32_t w, struct vmc__rv_dec *d, unsigned rd,
			 unsigned rs1)
{
	static const uint16_t ops[6] = {
		VMC__RV_OP_CLZ,	    VMC__RV_OP_CTZ,    VMC__RV_OP_CPOP,
		VMC__RV_OP_ILLEGAL, VMC__RV_OP_SEXT_B, VMC__RV_OP_SEXT_H,
	};
	unsigned f12 = w >> 20;

	if (f12 >= 0x600 && f12 <= 0x605 && ops[f12 - 0x600])
		set(d, ops[f12 - 0x600], rd, rs1, 0, 0);
}

/* OP beyond RV64IM: Zba, Zbb, Zbc, Zbs, Zicond. */
static void decode_op_b(struct vmc__rv_dec *d, unsigned f7, unsigned f3,
			unsigned rd, unsigned rs1, unsigned rs2)
{
	unsigned op = VMC__RV_OP_ILLEGAL;
	int64_t imm = 0;

	switch (f7) {
	case 0x20:
		op = f3 == 7   ? VMC__RV_OP_ANDN
		     : f3 == 6 ? VMC__RV_OP_ORN
		     : f3 == 4 ? VMC__RV_OP_XNOR
			       : VMC__RV_OP_ILLEGAL;
		break;
	case 0x05: {
		static const uint16_t ops[8] = {
			VMC__RV_OP_ILLEGAL, VMC__RV_OP_CLMUL, VMC__RV_OP_CLMULR,
			VMC__RV_OP_CLMULH,  VMC__RV_OP_MIN,   VMC__RV_OP_MINU,
			VMC__RV_OP_MAX,	    VMC__RV_OP_MAXU,
		};

		op = ops[f3];
		break;
	}
	case 0x30:
		op = f3 == 1   ? VMC__RV_OP_ROL
		     : f3 == 5 ? VMC__RV_OP_ROR
			       : VMC__RV_OP_ILLEGAL;
		break;
	case 0x10:
		if (f3 == 2 || f3 == 4 || f3 == 6) {
			op = VMC__RV_OP_SH_ADD;
			imm = f3 >> 1;
		}
		break;
	case 0x24:
		op = f3 == 1   ? VMC__RV_OP_BCLR
		     : f3 == 5 ? VMC__RV_OP_BEXT
			       : VMC__RV_OP_ILLEGAL;
		break;
	case 0x14:
		op = f3 == 1 ? VMC__RV_OP_BSET : VMC__RV_OP_ILLEGAL;
		break;
	case 0x34:
		op = f3 == 1 ? VMC__RV_OP_BINV : VMC__RV_OP_ILLEGAL;
		break;
	case 0x07:
		op = f3 == 5   ? VMC__RV_OP_CZERO_EQZ
		     : f3 == 7 ? VMC__RV_OP_CZERO_NEZ
			       : VMC__RV_OP_ILLEGAL;
		break;
	}
	if (op != VMC__RV_OP_ILLEGAL)
		set(d, op, rd, rs1, rs2, imm);
}

unsigned vmc__rv_op_ext(unsigned op)
{
	switch (op) {
	case VMC__RV_OP_ADD_UW:
	case VMC__RV_OP_SH_ADD:
	case VMC__RV_OP_SH_ADD_UW:
	case VMC__RV_OP_SLLI_UW:
		return VMC__RV_EXT_ZBA;
	case VMC__RV_OP_ANDN:
	case VMC__RV_OP_ORN:
	case VMC__RV_OP_XNOR:
	case VMC__RV_OP_CLZ:
	case VMC__RV_OP_CTZ:
	case VMC__RV_OP_CPOP:
	case VMC__RV_OP_CLZW:
	case VMC__RV_OP_CTZW:
	case VMC__RV_OP_CPOPW:
	case VMC__RV_OP_MAX:
	case VMC__RV_OP_MAXU:
	case VMC__RV_OP_MIN:
	case VMC__RV_OP_MINU:
	case VMC__RV_OP_SEXT_B:
	case VMC__RV_OP_SEXT_H:
	case VMC__RV_OP_ZEXT_H:
	case VMC__RV_OP_ROL:
	case VMC__RV_OP_ROR:
	case VMC__RV_OP_RORI:
	case VMC__RV_OP_ROLW:
	case VMC__RV_OP_RORW:
	case VMC__RV_OP_RORIW:
	case VMC__RV_OP_ORC_B:
	case VMC__RV_OP_REV8:
		return VMC__RV_EXT_ZBB;
	case VMC__RV_OP_BCLR:
	case VMC__RV_OP_BCLRI:
	case VMC__RV_OP_BEXT:
	case VMC__RV_OP_BEXTI:
	case VMC__RV_OP_BINV:
	case VMC__RV_OP_BINVI:
	case VMC__RV_OP_BSET:
	case VMC__RV_OP_BSETI:
		return VMC__RV_EXT_ZBS;
	case VMC__RV_OP_CLMUL:
	case VMC__RV_OP_CLMULH:
	case VMC__RV_OP_CLMULR:
		return VMC__RV_EXT_ZBC;
	case VMC__RV_OP_CZERO_EQZ:
	case VMC__RV_OP_CZERO_NEZ:
		return VMC__RV_EXT_ZICOND;
	case VMC__RV_OP_CBO_CLEAN:
	case VMC__RV_OP_CBO_FLUSH:
	case VMC__RV_OP_CBO_INVAL:
		return VMC__RV_EXT_ZICBOM;
	case VMC__RV_OP_CBO_ZERO:
		return VMC__RV_EXT_ZICBOZ;
	default:
		return 0;
	}
}

/* An FP op's rounding-mode field: 5 and 6 are reserved (7, dynamic, is
 * checked against frm when the op runs). */
static bool rm_ok(unsigned rm)
{
	return rm != 5 && rm != 6;
}

/* OP-FP (0x53): F and D by funct7, whose low bit is the format. */
static void decode_fp(uint32_t w, struct vmc__rv_dec *d, unsigned rd,
		      unsigned rs1, unsigned rs2)
{
	unsigned f7 = bits(w, 31, 25), f3 = bits(w, 14, 12);
	bool dbl = f7 & 1;
	unsigned op = VMC__RV_OP_ILLEGAL;
	bool rm = true; /* funct3 is a rounding mode */

#define SD(name) (dbl ? VMC__RV_OP_##name##_D : VMC__RV_OP_##name##_S)
	switch (f7 >> 1) {
	case 0x00:
		op = SD(FADD);
		break;
	case 0x02:
		op = SD(FSUB);
		break;
	case 0x04:
		op = SD(FMUL);
		break;
	case 0x06:
		op = SD(FDIV);
		break;
	case 0x16:
		if (rs2 == 0)
			op = SD(FSQRT);
		break;
	case 0x08:
		rm = false;
		if (f3 < 3)
			op = SD(FSGNJ) + f3;
		break;
	case 0x0a:
		rm = false;
		if (f3 < 2)
			op = f3 ? SD(FMAX) : SD(FMIN);
		break;
	case 0x10:
		if (!dbl && rs2 == 1)
			op = VMC__RV_OP_FCVT_S_D;
		else if (dbl && rs2 == 0)
			op = VMC__RV_OP_FCVT_D_S;
		break;
	case 0x28:
		rm = false;
		if (f3 == 2)
			op = SD(FEQ);
		else if (f3 == 1)
			op = SD(FLT);
		else if (f3 == 0)
			op = SD(FLE);
		break;
	case 0x30:
		if (rs2 < 4)
			op = SD(FCVT_W) + rs2;
		break;
	case 0x34:
		if (rs2 < 4)
			op = (dbl ? VMC__RV_OP_FCVT_D_W : VMC__RV_OP_FCVT_S_W) +
			     rs2;
		break;
	case 0x38:
		rm = false;
		if (rs2 == 0 && f3 == 0)
			op = dbl ? VMC__RV_OP_FMV_X_D : VMC__RV_OP_FMV_X_W;
		else if (rs2 == 0 && f3 == 1)
			op = SD(FCLASS);
		break;
	case 0x3c:
		rm = false;
		if (rs2 == 0 && f3 == 0)
			op = dbl ? VMC__RV_OP_FMV_D_X : VMC__RV_OP_FMV_W_X;
		break;
	}
#undef SD
	if (op == VMC__RV_OP_ILLEGAL || (rm && !rm_ok(f3)) || (f7 & 2))
		return;
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
			else if (f6 == 0x12)
				set(d, VMC__RV_OP_BCLRI, rd, rs1, 0, sh);
			else if (f6 == 0x0a)
				set(d, VMC__RV_OP_BSETI, rd, rs1, 0, sh);
			else if (f6 == 0x1a)
				set(d, VMC__RV_OP_BINVI, rd, rs1, 0, sh);
			else
				decode_unary(w, d, rd, rs1);
			return;
		default:
			if (f6 == 0)
				set(d, VMC__RV_OP_SRLI, rd, rs1, 0, sh);
			else if (f6 == 0x10)
				set(d, VMC__RV_OP_SRAI, rd, rs1, 0, sh);
			else if (f6 == 0x18)
				set(d, VMC__RV_OP_RORI, rd, rs1, 0, sh);
			else if (f6 == 0x12)
				set(d, VMC__RV_OP_BEXTI, rd, rs1, 0, sh);
			else if ((w >> 20) == 0x287)
				set(d, VMC__RV_OP_ORC_B, rd, rs1, 0, 0);
			else if ((w >> 20) == 0x6b8)
				set(d, VMC__RV_OP_REV8, rd, rs1, 0, 0);
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
		else if (f3 == 5 && f7 == 0x30)
			set(d, VMC__RV_OP_RORIW, rd, rs1, 0, sh);
		else if (f3 == 1 && bits(w, 31, 26) == 0x02)
			set(d, VMC__RV_OP_SLLI_UW, rd, rs1, 0, bits(w, 25, 20));
		else if (f3 == 1 && f7 == 0x30 && rs2 <= 2)
			set(d,
			    rs2 == 0   ? VMC__RV_OP_CLZW
			    : rs2 == 1 ? VMC__RV_OP_CTZW
				       : VMC__RV_OP_CPOPW,
			    rd, rs1, 0, 0);
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
		else
			decode_op_b(d, f7, f3, rd, rs1, rs2);
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
		if (op != VMC__RV_OP_ILLEGAL) {
			set(d, op, rd, rs1, rs2, 0);
			return;
		}
		if (f7 == 0x04 && f3 == 0) /* add.uw */
			set(d, VMC__RV_OP_ADD_UW, rd, rs1, rs2, 0);
		else if (f7 == 0x04 && f3 == 4 && rs2 == 0) /* zext.h */
			set(d, VMC__RV_OP_ZEXT_H, rd, rs1, 0, 0);
		else if (f7 == 0x10 && (f3 == 2 || f3 == 4 || f3 == 6))
			set(d, VMC__RV_OP_SH_ADD_UW, rd, rs1, rs2, f3 >> 1);
		else if (f7 == 0x30 && f3 == 1)
			set(d, VMC__RV_OP_ROLW, rd, rs1, rs2, 0);
		else if (f7 == 0x30 && f3 == 5)
			set(d, VMC__RV_OP_RORW, rd, rs1, rs2, 0);
		return;
	}
	case 0x0f:
		/* Reserved fence fields are ignored, as the spec asks. */
		if (f3 == 0)
			set(d, VMC__RV_OP_FENCE, 0, 0, 0, 0);
		else if (f3 == 1)
			set(d, VMC__RV_OP_FENCE_I, 0, 0, 0, 0);
		else if (f3 == 2 && rd == 0 && (w >> 20) <= 4 &&
			 (w >> 20) != 3) { /* Zicbom, Zicboz */
			static const uint16_t ops[5] = {
				VMC__RV_OP_CBO_INVAL, VMC__RV_OP_CBO_CLEAN,
				VMC__RV_OP_CBO_FLUSH, 0,
				VMC__RV_OP_CBO_ZERO,
			};

			set(d, ops[w >> 20], 0, rs1, 0, 0);
		}
		return;
	case 0x2f:
		decode_amo(w, d, rd, rs1, rs2);
		return;
	case 0x07: /* flw, fld */
		if (f3 == 2 || f3 == 3)
			set(d, f3 == 2 ? VMC__RV_OP_FLW : VMC__RV_OP_FLD, rd,
			    rs1, 0, imm_i);
		return;
	case 0x27: /* fsw, fsd */
		if (f3 == 2 || f3 == 3)
			set(d, f3 == 2 ? VMC__RV_OP_FSW : VMC__RV_OP_FSD, 0,
			    rs1, rs2, imm_s);
		return;
	case 0x43:
	case 0x47:
	case 0x4b:
	case 0x4f: { /* fused multiply-add */
		static const uint16_t ops[2][4] = {
			{VMC__RV_OP_FMADD_S, VMC__RV_OP_FMSUB_S,
			 VMC__RV_OP_FNMSUB_S, VMC__RV_OP_FNMADD_S},
			{VMC__RV_OP_FMADD_D, VMC__RV_OP_FMSUB_D,
			 VMC__RV_OP_FNMSUB_D, VMC__RV_OP_FNMADD_D},
		};
		unsigned fmt = bits(w, 26, 25);

		if (fmt < 2 && rm_ok(f3))
			set(d, ops[fmt][bits(w, 3, 2)], rd, rs1, rs2, 0);
		return;
	}
	case 0x53:
		decode_fp(w, d, rd, rs1, rs2);
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
