/* SPDX-License-Identifier: MIT */
/*
 * The built-in commands and the run-state events.  The commands are
 * registered through the public vmc_qmp_add_command() and read and answer
 * through the public request and value functions, as a host's own do.
 *
 * Run states.  libvmcore's VM states map onto QEMU's RunState:
 *
 *   VMC_VM_CREATED      prelaunch (QEMU's -S: built, never started)
 *   VMC_VM_RUNNING      running
 *   VMC_VM_PAUSED       paused; "prelaunch" after a reset out of shutdown
 *                       or an internal error, as QEMU reports it there
 *   VMC_VM_SHUTDOWN     shutdown (the guest powered off; QEMU's
 *                       -no-shutdown: the VM stays until reset or quit)
 *   VMC_VM_GUEST_ERROR  internal-error
 *   VMC_VM_DEBUG        debug
 *
 * Events, as QEMU sends them for the same changes: RESUME on entering
 * running; STOP on leaving it for a stopped state; for a guest power-off,
 * SHUTDOWN (guest true, reason "guest-shutdown") then STOP; RESET after
 * every reset (guest false, reason "host-qmp-system-reset" when the
 * system_reset command made it, else guest true, "guest-reset");
 * POWERDOWN from system_powerdown; SHUTDOWN (guest false,
 * "host-qmp-quit") from quit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>

#include <libvmcore/vmc-memory.h>
#include <libvmcore/vmc-riscv.h>
#include <libvmcore/vmc-vcpu.h>
#include <libvmcore/vmc-x86.h>

#include "vmc-config.h"
#include "qmp-internal.h"

static enum qmp_runstate runstate(const struct vmc_qmp *qmp)
{
	switch (vmc_vm_get_state(qmp->vm)) {
	case VMC_VM_CREATED:
		return QMP_RS_PRELAUNCH;
	case VMC_VM_RUNNING:
		return QMP_RS_RUNNING;
	case VMC_VM_SHUTDOWN:
		return QMP_RS_SHUTDOWN;
	case VMC_VM_GUEST_ERROR:
		return QMP_RS_INTERNAL_ERROR;
	case VMC_VM_DEBUG:
		return QMP_RS_DEBUG;
	case VMC_VM_PAUSED:
	default:
		return qmp->reset_to_prelaunch ? QMP_RS_PRELAUNCH
					       : QMP_RS_PAUSED;
	}
}

static const char *runstate_name(enum qmp_runstate rs)
{
	static const char *const names[] = {
		[QMP_RS_PRELAUNCH] = "prelaunch",
		[QMP_RS_RUNNING] = "running",
		[QMP_RS_PAUSED] = "paused",
		[QMP_RS_SHUTDOWN] = "shutdown",
		[QMP_RS_INTERNAL_ERROR] = "internal-error",
		[QMP_RS_DEBUG] = "debug",
	};

	return names[rs];
}

static struct json_object *guest_reason(bool guest, const char *reason)
{
	struct json_object *d = json_object_new_object();

	if (d) {
		json_object_object_add(d, "guest",
				       json_object_new_boolean(guest));
		json_object_object_add(d, "reason",
				       json_object_new_string(reason));
	}
	return d;
}

void vmc__qmp_on_state(struct vmc_qmp *qmp, enum vmc_vm_state old,
		       enum vmc_vm_state now)
{
	if (now == VMC_VM_PAUSED &&
	    (old == VMC_VM_SHUTDOWN || old == VMC_VM_GUEST_ERROR)) {
		/* The end of a reset: RESET has been sent already. */
		qmp->reset_to_prelaunch = true;
		return;
	}
	qmp->reset_to_prelaunch = false;
	if (now == VMC_VM_RUNNING) {
		vmc__qmp_emit(qmp, "RESUME", NULL);
		return;
	}
	if (now == VMC_VM_SHUTDOWN)
		vmc__qmp_emit(qmp, "SHUTDOWN",
			      guest_reason(true, "guest-shutdown"));
	if (old == VMC_VM_RUNNING)
		vmc__qmp_emit(qmp, "STOP", NULL);
}

void vmc__qmp_on_reset(struct vmc_qmp *qmp)
{
	vmc__qmp_emit(qmp, "RESET",
		      qmp->host_reset
			      ? guest_reason(false, "host-qmp-system-reset")
			      : guest_reason(true, "guest-reset"));
}

/*
 * After the reply to system_powerdown or quit has gone out: the board's
 * power button, the host's quit.  Their events precede the reply, as
 * QEMU 7.2 sends them (they leave from its main loop before the reply
 * leaves the monitor).
 */
void vmc__qmp_run_after(struct vmc_qmp *qmp)
{
	if (qmp->pending_powerdown) {
		qmp->pending_powerdown = false;
		if (qmp->config.powerdown)
			qmp->config.powerdown(qmp, qmp->config.userdata);
	}
	if (qmp->pending_quit) {
		qmp->pending_quit = false;
		/* Last: the host may free the server here. */
		if (qmp->config.quit)
			qmp->config.quit(qmp, qmp->config.userdata);
	}
}

/* ------------------------------------------------------------------------
 * The actions, shared by QMP and the human monitor
 */

static const char *do_cont(struct vmc_qmp *qmp)
{
	int r = vmc_vm_resume(qmp->vm);

	if (r == -EBUSY)
		return "Resetting the Virtual Machine is required";
	return r < 0 ? strerror(-r) : NULL;
}

static const char *do_stop(struct vmc_qmp *qmp)
{
	int r = vmc_vm_pause(qmp->vm);

	return r < 0 ? strerror(-r) : NULL;
}

static const char *do_reset(struct vmc_qmp *qmp)
{
	int r;

	qmp->host_reset = true;
	r = vmc_vm_reset(qmp->vm);
	qmp->host_reset = false;
	return r < 0 ? strerror(-r) : NULL;
}

static void do_powerdown(struct vmc_qmp *qmp)
{
	vmc__qmp_emit(qmp, "POWERDOWN", NULL);
	qmp->pending_powerdown = true;
	vmc__qmp_schedule_after(qmp);
}

static void do_quit(struct vmc_qmp *qmp)
{
	vmc__qmp_emit(qmp, "SHUTDOWN", guest_reason(false, "host-qmp-quit"));
	qmp->pending_quit = true;
	vmc__qmp_schedule_after(qmp);
}

static void answer(struct vmc_qmp_request *req, const char *err)
{
	if (err)
		vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR, "%s", err);
}

/* ------------------------------------------------------------------------
 * QMP commands
 */

static void cmd_qmp_capabilities(struct vmc_qmp_request *req, void *opaque)
{
	const struct vmc_qmp_value *en = vmc_qmp_request_get_arg(req, "enable");
	size_t n = vmc_qmp_value_get_length(en);

	for (size_t i = 0; i < n; i++) {
		const char *cap = vmc_qmp_value_get_string(
			vmc_qmp_value_get_element(en, i));

		if (!cap) {
			vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR,
					      "Invalid parameter type for "
					      "'enable[%zu]', expected: string",
					      i);
			return;
		}
		if (!strcmp(cap, "oob")) {
			/* QEMU's QMPCapability; not offered here. */
			vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR,
					      "Capability 'oob' not available");
			return;
		}
		/* QEMU 7.2's words, 'null' included (a list element). */
		vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR,
				      "Parameter 'null' does not accept value "
				      "'%s'",
				      cap);
		return;
	}
	vmc__qmp_set_negotiated(req);
}

static struct json_object *version_object(struct vmc_qmp *qmp)
{
	struct json_object *v = json_object_new_object();
	struct json_object *q = json_object_new_object();

	if (!v || !q) {
		json_object_put(v);
		json_object_put(q);
		return NULL;
	}
	json_object_object_add(
		q, "micro", json_object_new_int64(qmp->config.version_micro));
	json_object_object_add(
		q, "minor", json_object_new_int64(qmp->config.version_minor));
	json_object_object_add(
		q, "major", json_object_new_int64(qmp->config.version_major));
	json_object_object_add(v, "qemu", q);
	json_object_object_add(v, "package",
			       json_object_new_string(qmp->package));
	return v;
}

/* Answer with @o, or with an error if building it ran out of memory. */
static void answer_json(struct vmc_qmp_request *req, struct json_object *o)
{
	if (!o)
		vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR,
				      "Out of memory");
	else
		vmc_qmp_request_return(req, qmp_value(o));
}

static void cmd_query_version(struct vmc_qmp_request *req, void *opaque)
{
	answer_json(req, version_object(vmc_qmp_request_get_qmp(req)));
}

static void cmd_query_commands(struct vmc_qmp_request *req, void *opaque)
{
	answer_json(req, vmc__qmp_command_list(vmc_qmp_request_get_qmp(req)));
}

static void cmd_query_name(struct vmc_qmp_request *req, void *opaque)
{
	struct vmc_qmp *qmp = vmc_qmp_request_get_qmp(req);
	struct vmc_qmp_value *v;

	if (vmc_qmp_value_new_object(&v) < 0 ||
	    (qmp->name && vmc_qmp_object_set_string(v, "name", qmp->name) < 0))
		answer_json(req, NULL);
	else
		vmc_qmp_request_return(req, v);
}

static void cmd_query_status(struct vmc_qmp_request *req, void *opaque)
{
	struct vmc_qmp *qmp = vmc_qmp_request_get_qmp(req);
	enum qmp_runstate rs = runstate(qmp);
	struct vmc_qmp_value *v;

	if (vmc_qmp_value_new_object(&v) < 0 ||
	    vmc_qmp_object_set_bool(v, "running", rs == QMP_RS_RUNNING) < 0 ||
	    vmc_qmp_object_set_bool(v, "singlestep", false) < 0 ||
	    vmc_qmp_object_set_string(v, "status", runstate_name(rs)) < 0)
		answer_json(req, NULL);
	else
		vmc_qmp_request_return(req, v);
}

static void cmd_stop(struct vmc_qmp_request *req, void *opaque)
{
	answer(req, do_stop(vmc_qmp_request_get_qmp(req)));
}

static void cmd_cont(struct vmc_qmp_request *req, void *opaque)
{
	answer(req, do_cont(vmc_qmp_request_get_qmp(req)));
}

static void cmd_system_reset(struct vmc_qmp_request *req, void *opaque)
{
	answer(req, do_reset(vmc_qmp_request_get_qmp(req)));
}

static void cmd_system_powerdown(struct vmc_qmp_request *req, void *opaque)
{
	do_powerdown(vmc_qmp_request_get_qmp(req));
}

static void cmd_quit(struct vmc_qmp_request *req, void *opaque)
{
	do_quit(vmc_qmp_request_get_qmp(req));
}

static const char *target_name(struct vmc_vm *vm)
{
	switch (vmc_vm_get_arch(vm)) {
	case VMC_ARCH_X86_64:
		return "x86_64";
	case VMC_ARCH_RISCV64:
		return "riscv64";
	default:
		return "none";
	}
}

static struct json_object *cpu_entry(struct vmc_vm *vm, unsigned int i, int tid)
{
	struct json_object *e = json_object_new_object();
	struct json_object *props = json_object_new_object();
	bool x86 = vmc_vm_get_arch(vm) == VMC_ARCH_X86_64;
	char path[64];

	if (!e || !props) {
		json_object_put(e);
		json_object_put(props);
		return NULL;
	}
	/* QEMU's paths and topology properties for pc and riscv virt. */
	if (x86) {
		snprintf(path, sizeof(path), "/machine/unattached/device[%u]",
			 i);
		json_object_object_add(props, "core-id",
				       json_object_new_int64(0));
		json_object_object_add(props, "thread-id",
				       json_object_new_int64(0));
		json_object_object_add(props, "socket-id",
				       json_object_new_int64(i));
	} else {
		snprintf(path, sizeof(path), "/machine/soc0/harts[%u]", i);
		json_object_object_add(props, "core-id",
				       json_object_new_int64(i));
	}
	json_object_object_add(e, "cpu-index", json_object_new_int64(i));
	json_object_object_add(e, "qom-path", json_object_new_string(path));
	json_object_object_add(e, "thread-id", json_object_new_int64(tid));
	json_object_object_add(e, "props", props);
	json_object_object_add(e, "target",
			       json_object_new_string(target_name(vm)));
	return e;
}

static void cmd_query_cpus_fast(struct vmc_qmp_request *req, void *opaque)
{
	struct vmc_qmp *qmp = vmc_qmp_request_get_qmp(req);
	struct json_object *list = json_object_new_array();
	unsigned int n = vmc_vm_get_vcpu_count(qmp->vm);

	for (unsigned int i = 0; list && i < n; i++) {
		int tid = vmc_vcpu_get_thread_id(vmc_vm_get_vcpu(qmp->vm, i));
		struct json_object *e;

		if (tid < 0)
			continue; /* unplugged: QEMU lists only live CPUs */
		e = cpu_entry(qmp->vm, i, tid);
		if (!e) {
			json_object_put(list);
			list = NULL;
			break;
		}
		json_object_array_add(list, e);
	}
	answer_json(req, list);
}

static void cmd_query_kvm(struct vmc_qmp_request *req, void *opaque)
{
	struct vmc_qmp *qmp = vmc_qmp_request_get_qmp(req);
	struct vmc_qmp_value *v;

	if (vmc_qmp_value_new_object(&v) < 0 ||
	    vmc_qmp_object_set_bool(
		    v, "enabled", vmc_vm_get_accel(qmp->vm) == VMC_ACCEL_KVM) <
		    0 ||
	    vmc_qmp_object_set_bool(v, "present", VMC_HAVE_KVM_ACCEL) < 0)
		answer_json(req, NULL);
	else
		vmc_qmp_request_return(req, v);
}

static void cmd_query_memory_size_summary(struct vmc_qmp_request *req,
					  void *opaque)
{
	struct vmc_qmp *qmp = vmc_qmp_request_get_qmp(req);
	struct vmc_qmp_value *v;

	/*
	 * QEMU reports plugged-memory where the machine can hot-plug
	 * memory (pc), and leaves it out elsewhere (riscv virt).
	 */
	bool hotplug = vmc_vm_get_arch(qmp->vm) == VMC_ARCH_X86_64;

	if (vmc_qmp_value_new_object(&v) < 0 ||
	    vmc_qmp_object_set_uint(v, "base-memory", qmp->config.ram_size) <
		    0 ||
	    (hotplug && vmc_qmp_object_set_uint(v, "plugged-memory", 0) < 0))
		answer_json(req, NULL);
	else
		vmc_qmp_request_return(req, v);
}

/* ------------------------------------------------------------------------
 * The human monitor, as human-monitor-command runs it
 */

struct hmp_out {
	char buf[32768];
	size_t len;
};

/* Like QEMU's monitor, every '\n' goes out as "\r\n". */
static void VMC_PRINTF(2, 3) hmp_printf(struct hmp_out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	for (const char *p = tmp; *p && o->len + 2 < sizeof(o->buf); p++) {
		if (*p == '\n')
			o->buf[o->len++] = '\r';
		o->buf[o->len++] = *p;
	}
	o->buf[o->len] = '\0';
}

/* QEMU's `info registers` layout, for the registers libvmcore exposes. */
static void hmp_registers(struct vmc_qmp *qmp, struct hmp_out *o,
			  unsigned int cpu)
{
	static const char *const rv_names[32] = {
		"x0/zero", "x1/ra",  "x2/sp",	"x3/gp",   "x4/tp",  "x5/t0",
		"x6/t1",   "x7/t2",  "x8/s0",	"x9/s1",   "x10/a0", "x11/a1",
		"x12/a2",  "x13/a3", "x14/a4",	"x15/a5",  "x16/a6", "x17/a7",
		"x18/s2",  "x19/s3", "x20/s4",	"x21/s5",  "x22/s6", "x23/s7",
		"x24/s8",  "x25/s9", "x26/s10", "x27/s11", "x28/t3", "x29/t4",
		"x30/t5",  "x31/t6",
	};
	static const struct {
		const char *name;
		unsigned int csr;
	} rv_csrs[] = {
		{"mhartid", 0xf14}, {"mstatus", 0x300}, {"mip", 0x344},
		{"mie", 0x304},	    {"mtvec", 0x305},	{"mepc", 0x341},
		{"mcause", 0x342},  {"mtval", 0x343},	{"satp", 0x180},
	};
	static const char *const x86_names[18] = {
		"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RSP", "RBP", "R8 ",
		"R9 ", "R10", "R11", "R12", "R13", "R14", "R15", "RIP", "RFL",
	};
	/* QEMU prints RBP before RSP. */
	static const unsigned int x86_order[18] = {
		0, 1, 2, 3, 4, 5, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	};
	struct vmc_vcpu *v = vmc_vm_get_vcpu(qmp->vm, cpu);
	uint64_t val;

	switch (vmc_vm_get_arch(qmp->vm)) {
	case VMC_ARCH_RISCV64:
		if (vmc_vcpu_get_reg(v, VMC_RISCV_REG_PC, &val) < 0)
			break;
		hmp_printf(o, " %-8s %016" PRIx64 "\n", "pc", val);
		for (size_t i = 0; i < sizeof(rv_csrs) / sizeof(rv_csrs[0]);
		     i++)
			if (vmc_vcpu_get_reg(v,
					     VMC_RISCV_REG_CSR(rv_csrs[i].csr),
					     &val) == 0)
				hmp_printf(o, " %-8s %016" PRIx64 "\n",
					   rv_csrs[i].name, val);
		for (unsigned int i = 0; i < 32; i++) {
			if (vmc_vcpu_get_reg(v, VMC_RISCV_REG_X(i), &val) < 0)
				val = 0;
			hmp_printf(o, " %-8s %016" PRIx64 "%s", rv_names[i],
				   val, (i & 3) == 3 ? "\n" : "");
		}
		return;
	case VMC_ARCH_X86_64:
		for (unsigned int i = 0; i < 18; i++) {
			unsigned int r = x86_order[i];

			if (vmc_vcpu_get_reg(v, r, &val) < 0)
				break;
			if (r == VMC_X86_RFLAGS)
				hmp_printf(o, "%s=%08" PRIx64 "\n",
					   x86_names[r], val);
			else
				hmp_printf(o, "%s=%016" PRIx64 "%s",
					   x86_names[r], val,
					   (i & 3) == 3 ? "\n" : " ");
		}
		return;
	default:
		break;
	}
	hmp_printf(o, "Error: CPU #%u has no registers to show\n", cpu);
}

static void mtree_range(void *opaque, const struct vmc_memory_section *s)
{
	uint64_t last = s->addr + s->size - 1;

	hmp_printf(opaque, "  %016" PRIx64 "-%016" PRIx64 " (prio 0, %s): %s",
		   s->addr, last,
		   s->rom   ? "rom"
		   : s->ram ? "ram"
			    : "i/o",
		   vmc_region_get_name(s->region));
	if (s->offset)
		hmp_printf(opaque, " @%016" PRIx64, s->offset);
	hmp_printf(opaque, "\n");
}

/*
 * `info mtree -f`: each address space's flat view, in QEMU's layout,
 * from a listener's replay of the current layout.  libvmcore has no
 * public walk of the region tree, so plain `info mtree` shows the same
 * (priorities are not part of a flat range: shown as 0).
 */
static void hmp_mtree(struct vmc_qmp *qmp, struct hmp_out *o)
{
	static const struct vmc_memory_listener_ops ops = {
		.struct_size = sizeof(ops),
		.region_add = mtree_range,
	};
	static const struct {
		enum vmc_as_kind kind;
		const char *name;
	} spaces[] = {{VMC_AS_MEMORY, "memory"}, {VMC_AS_IO, "I/O"}};
	unsigned int n = 0;

	for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
		struct vmc_address_space *as =
			vmc_vm_get_address_space(qmp->vm, spaces[i].kind);
		struct vmc_region *root =
			vmc_vm_get_root(qmp->vm, spaces[i].kind);
		struct vmc_memory_listener *l;

		if (!as || !root)
			continue;
		hmp_printf(o,
			   "FlatView #%u\n AS \"%s\", root: %s\n"
			   " Root memory region: %s\n",
			   n++, spaces[i].name, vmc_region_get_name(root),
			   vmc_region_get_name(root));
		if (vmc_memory_listener_new(as, &ops, 0, o, &l) < 0) {
			hmp_printf(o, "Error: cannot read the layout\n");
			continue;
		}
		vmc_memory_listener_free(l);
		hmp_printf(o, "\n");
	}
}

static void hmp_info(struct vmc_qmp *qmp, struct hmp_out *o, const char *what,
		     unsigned int cur_cpu)
{
	if (!strcmp(what, "status")) {
		enum qmp_runstate rs = runstate(qmp);

		hmp_printf(o, "VM status: %s",
			   rs == QMP_RS_RUNNING ? "running" : "paused");
		if (rs != QMP_RS_RUNNING && rs != QMP_RS_PAUSED)
			hmp_printf(o, " (%s)", runstate_name(rs));
		hmp_printf(o, "\n");
	} else if (!strcmp(what, "name")) {
		if (qmp->name)
			hmp_printf(o, "%s\n", qmp->name);
	} else if (!strcmp(what, "version")) {
		hmp_printf(o, "%u.%u.%u%s\n", qmp->config.version_major,
			   qmp->config.version_minor, qmp->config.version_micro,
			   qmp->package);
	} else if (!strcmp(what, "kvm")) {
		hmp_printf(o, "kvm support: %s\n",
			   !VMC_HAVE_KVM_ACCEL ? "not compiled"
			   : vmc_vm_get_accel(qmp->vm) == VMC_ACCEL_KVM
				   ? "enabled"
				   : "disabled");
	} else if (!strcmp(what, "mtree")) {
		hmp_mtree(qmp, o);
	} else if (!strcmp(what, "registers")) {
		hmp_registers(qmp, o, cur_cpu);
	} else if (!strcmp(what, "cpus")) {
		unsigned int n = vmc_vm_get_vcpu_count(qmp->vm);

		for (unsigned int i = 0; i < n; i++) {
			int tid = vmc_vcpu_get_thread_id(
				vmc_vm_get_vcpu(qmp->vm, i));

			if (tid < 0)
				continue;
			hmp_printf(o, "%c CPU #%u: thread_id=%d\n",
				   i == cur_cpu ? '*' : ' ', i, tid);
		}
	} else {
		hmp_printf(o, "unknown command: 'info %s'\n", what);
	}
}

static void cmd_human_monitor_command(struct vmc_qmp_request *req, void *opaque)
{
	struct vmc_qmp *qmp = vmc_qmp_request_get_qmp(req);
	const char *line = vmc_qmp_value_get_string(
		vmc_qmp_request_get_arg(req, "command-line"));
	const struct vmc_qmp_value *cpu =
		vmc_qmp_request_get_arg(req, "cpu-index");
	struct hmp_out *o;
	char word[64], arg[64];
	const char *err = NULL;
	int64_t cur = 0;
	int n;

	if (cpu && (vmc_qmp_value_get_int(cpu, &cur) < 0 || cur < 0 ||
		    cur >= vmc_vm_get_vcpu_count(qmp->vm))) {
		vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR,
				      "Parameter 'cpu-index' expects a CPU "
				      "number");
		return;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		answer_json(req, NULL);
		return;
	}
	word[0] = arg[0] = '\0';
	n = sscanf(line, "%63s %63s", word, arg);
	if (n < 1) {
		/* An empty line prints nothing. */
	} else if (!strcmp(word, "info") && n == 2) {
		hmp_info(qmp, o, arg, (unsigned int)cur);
	} else if (!strcmp(word, "stop")) {
		err = do_stop(qmp);
	} else if (!strcmp(word, "cont") || !strcmp(word, "c")) {
		err = do_cont(qmp);
	} else if (!strcmp(word, "system_reset")) {
		err = do_reset(qmp);
	} else if (!strcmp(word, "system_powerdown") && qmp->config.powerdown) {
		do_powerdown(qmp);
	} else if ((!strcmp(word, "quit") || !strcmp(word, "q")) &&
		   qmp->config.quit) {
		do_quit(qmp);
	} else {
		hmp_printf(o, "unknown command: '%s'\n", word);
	}
	/* The human monitor prints errors as text; the command succeeds. */
	if (err)
		hmp_printf(o, "Error: %s\n", err);
	answer_json(req, json_object_new_string(o->buf));
	free(o);
}

/* ------------------------------------------------------------------------
 * Registration
 */

int vmc__qmp_add_builtin_commands(struct vmc_qmp *qmp)
{
	static const struct vmc_qmp_arg caps_args[] = {
		{"enable", VMC_QMP_ARRAY, true},
		{NULL, 0, false},
	};
	static const struct vmc_qmp_arg hmp_args[] = {
		{"command-line", VMC_QMP_STRING, false},
		{"cpu-index", VMC_QMP_INT, true},
		{NULL, 0, false},
	};
	static const struct {
		const char *name;
		const struct vmc_qmp_arg *args;
		vmc_qmp_command_cb cb;
	} cmds[] = {
		{"qmp_capabilities", caps_args, cmd_qmp_capabilities},
		{"query-version", NULL, cmd_query_version},
		{"query-commands", NULL, cmd_query_commands},
		{"query-name", NULL, cmd_query_name},
		{"query-status", NULL, cmd_query_status},
		{"stop", NULL, cmd_stop},
		{"cont", NULL, cmd_cont},
		{"system_reset", NULL, cmd_system_reset},
		{"system_powerdown", NULL, cmd_system_powerdown},
		{"quit", NULL, cmd_quit},
		{"query-cpus-fast", NULL, cmd_query_cpus_fast},
		{"query-kvm", NULL, cmd_query_kvm},
		{"query-memory-size-summary", NULL,
		 cmd_query_memory_size_summary},
		{"human-monitor-command", hmp_args, cmd_human_monitor_command},
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int r;

		/* Without the board's callback the command does not exist. */
		if ((cmds[i].cb == cmd_system_powerdown &&
		     !qmp->config.powerdown) ||
		    (cmds[i].cb == cmd_quit && !qmp->config.quit))
			continue;
		r = vmc_qmp_add_command(qmp, cmds[i].name, cmds[i].args,
					cmds[i].cb, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}
