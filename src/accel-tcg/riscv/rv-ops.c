/* SPDX-License-Identifier: MIT */
/*
 * The op table of rv-ops.h as data: the name and facts of every op, for
 * the translator's predicates, diagnostics and tests.
 */
#include "rv.h"
#include "rv-ops.h"

#define BR_INDEX_BR(n) VMC__RV_BR_##n
#define BR_INDEX__(n) -1
#define LOOPADD_INDEX_LOOP(n) VMC__RV_LOOPADD_##n
#define LOOPADD_INDEX__(n) -1

const struct vmc__rv_op_info vmc__rv_op_info[VMC__RV_OP__COUNT] = {
#define OP_INFO(n, forms, branch, ends, rd, t, pc, loop, acc, by)              \
	[VMC__RV_OP_##n] = {                                                   \
		.flags = VMC__RV_OP_FLAGS(n, forms, branch, ends, rd, t, pc,   \
					  loop, acc, by),                      \
		.mem = VMC__RV_MEM_##acc,                                      \
		.br = BR_INDEX_##branch(n),                                    \
		.loopadd = LOOPADD_INDEX_##loop(n),                            \
	},
	VMC__RV_OPS(OP_INFO)
#undef OP_INFO
};

const char *const vmc__rv_op_names[VMC__RV_OP__COUNT] = {
#define OP_NAME(n, ...) [VMC__RV_OP_##n] = #n,
	VMC__RV_OPS(OP_NAME)
#undef OP_NAME
};

const char *vmc__rv_op_name(unsigned op)
{
	return op < VMC__RV_OP__COUNT ? vmc__rv_op_names[op] : "?";
}
