/* SPDX-License-Identifier: MIT */
/*
 * What each packet does to the VM, written against the public debug API
 * (vmc-debug.h).
 *
 * The VM's all-stop machinery does the hard part: a vCPU that hits a
 * breakpoint stops itself, the loop stops the others and enters
 * VMC_VM_DEBUG, and only then are the state handlers told, so a stop
 * reply always follows the stop of every vCPU.
 *
 * Stop replies follow QEMU's rule: only a packet that expects one (?, c,
 * s, C, S, vCont, and a Ctrl-C byte) allows one, and sending it consumes
 * the permission, so gdb gets exactly one reply per resume.
 *
 * Resuming: every resume first sets, per vCPU, whether it single-steps
 * and whether it is held (vCont leaves unnamed vCPUs stopped while the VM
 * runs), then resumes the VM.  Breakpoints go on every vCPU, as QEMU's
 * do; the accelerator makes them effective before any vCPU runs again.
 *
 * Nothing here allocates: replies are built in the stub's scratch buffer
 * and per-vCPU arrays are allocated with the stub.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvmcore/vmc-memory.h>
#include <libvmcore/vmc-vcpu.h>

#include "gdb-priv.h"

#define GDB_SIGINT 2
#define GDB_SIGTRAP 5
#define GDB_SIGABRT 6

static bool tid_valid(struct vmc_gdbstub *gs, long tid)
{
	return tid >= 1 && (unsigned long)tid <= gs->nr_vcpus;
}

static struct vmc_vcpu *vcpu_at(struct vmc_gdbstub *gs, unsigned int i)
{
	return vmc_vm_get_vcpu(gs->vm, i);
}

/* ------------------------------------------------------------------------
 * Stop replies
 */

static const char *watch_prefix(struct vmc_gdbstub *gs, uint64_t addr,
				enum vmc_debug_kind hit)
{
	enum vmc_debug_kind k = hit;

	for (unsigned int i = 0; i < gs->nr_points; i++) {
		const struct gdb_point *p = &gs->points[i];

		if (p->kind >= VMC_DEBUG_WATCH_WRITE && addr >= p->addr &&
		    addr - p->addr < p->len) {
			k = p->kind;
			break;
		}
	}
	return k == VMC_DEBUG_WATCH_READ     ? "rwatch"
	       : k == VMC_DEBUG_WATCH_ACCESS ? "awatch"
					     : "watch";
}

static void send_stop_reply(struct vmc_gdbstub *gs, enum vmc_vm_state state)
{
	char b[96];
	struct vmc_vcpu *v;
	struct vmc_debug_stop st = {0};

	switch (state) {
	case VMC_VM_SHUTDOWN:
		snprintf(b, sizeof(b), "W%02x",
			 (unsigned int)vmc_vm_get_shutdown_status(gs->vm) &
				 0xff);
		vmc__gdb_send_str(gs, b);
		return;
	case VMC_VM_GUEST_ERROR:
		snprintf(b, sizeof(b), "T%02xthread:%02x;", GDB_SIGABRT,
			 gs->c_cpu + 1);
		vmc__gdb_send_str(gs, b);
		return;
	case VMC_VM_DEBUG:
		v = vmc_vm_get_debug_vcpu(gs->vm);
		if (v) {
			gs->c_cpu = gs->g_cpu = vmc_vcpu_get_index(v);
			vmc_vcpu_debug_get_stop(v, &st);
		}
		if (st.reason == VMC_DEBUG_STOP_WATCH)
			snprintf(b, sizeof(b), "T%02x%s:%llx;thread:%02x;",
				 GDB_SIGTRAP,
				 watch_prefix(gs, st.watch_addr, st.watch_kind),
				 (unsigned long long)st.watch_addr,
				 gs->c_cpu + 1);
		else
			snprintf(b, sizeof(b), "T%02xthread:%02x;", GDB_SIGTRAP,
				 gs->c_cpu + 1);
		vmc__gdb_send_str(gs, b);
		return;
	case VMC_VM_PAUSED:
		snprintf(b, sizeof(b), "T%02xthread:%02x;", GDB_SIGINT,
			 gs->c_cpu + 1);
		vmc__gdb_send_str(gs, b);
		return;
	default:
		snprintf(b, sizeof(b), "T%02xthread:%02x;", GDB_SIGTRAP,
			 gs->c_cpu + 1);
		vmc__gdb_send_str(gs, b);
		return;
	}
}

void vmc__gdb_on_state(struct vmc_vm *vm, enum vmc_vm_state old,
		       enum vmc_vm_state state, void *userdata)
{
	struct vmc_gdbstub *gs = userdata;

	(void)vm;
	(void)old;
	if (state == VMC_VM_RUNNING || !gs->connected || !gs->running)
		return;
	gs->running = false;
	if (!gs->allow_stop)
		return;
	gs->allow_stop = false;
	send_stop_reply(gs, state);
}

/* ------------------------------------------------------------------------
 * Resuming
 */

enum { ACT_NONE, ACT_CONT, ACT_STEP };

static void resume(struct vmc_gdbstub *gs, const unsigned char *act)
{
	unsigned int n = gs->nr_vcpus;
	enum vmc_vm_state s;

	if (gs->no_exec) {
		gs->running = false;
		gs->allow_stop = false;
		send_stop_reply(gs, VMC_VM_PAUSED);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct vmc_vcpu *v = vcpu_at(gs, i);
		bool step = act[i] == ACT_STEP;

		if (gs->stepping[i] != step &&
		    vmc_vcpu_debug_set_step(v, step) >= 0)
			gs->stepping[i] = step;
		vmc_vcpu_set_hold(v, act[i] == ACT_NONE);
	}
	s = vmc_vm_get_state(gs->vm);
	if (s == VMC_VM_SHUTDOWN || s == VMC_VM_GUEST_ERROR) {
		gs->allow_stop = false;
		send_stop_reply(gs, s);
		return;
	}
	gs->running = true;
	if (s != VMC_VM_RUNNING && vmc_vm_resume(gs->vm) < 0) {
		gs->running = false;
		gs->allow_stop = false;
		send_stop_reply(gs, vmc_vm_get_state(gs->vm));
	}
}

static void resume_all(struct vmc_gdbstub *gs, bool step_c_cpu)
{
	memset(gs->act, ACT_CONT, gs->nr_vcpus);
	if (step_c_cpu)
		gs->act[gs->c_cpu] = ACT_STEP;
	resume(gs, gs->act);
}

/* vCont;ACTION[:TID];...  The first action naming a vCPU wins. */
static void handle_vcont(struct vmc_gdbstub *gs, const char *p)
{
	unsigned int n = gs->nr_vcpus;
	unsigned char *act = gs->act;
	bool any = false;
	long last = -1;

	memset(act, ACT_NONE, n);
	while (*p == ';') {
		unsigned char a;
		long tid = -1;
		uint64_t sig;

		p++;
		switch (*p) {
		case 'c':
			a = ACT_CONT;
			p++;
			break;
		case 's':
			a = ACT_STEP;
			p++;
			break;
		case 'C':
		case 'S':
			a = *p == 'C' ? ACT_CONT : ACT_STEP;
			p++;
			if (!vmc__gdb_parse_hex(&p, &sig))
				goto bad;
			break;
		case 't':
			a = ACT_NONE;
			p++;
			break;
		default:
			goto bad;
		}
		if (*p == ':') {
			p++;
			if (!vmc__gdb_parse_tid(&p, &tid) ||
			    (tid > 0 && !tid_valid(gs, tid)))
				goto bad;
		}
		for (unsigned int i = 0; i < n; i++) {
			if (tid > 0 && (unsigned long)tid != i + 1)
				continue;
			if (act[i] != ACT_NONE || a == ACT_NONE)
				continue;
			act[i] = a;
			any = true;
			last = (long)i;
		}
	}
	if (*p)
		goto bad;
	if (!any) {
		/* Nothing resumed: nothing will stop either. */
		vmc__gdb_send_str(gs, "OK");
		gs->allow_stop = false;
		return;
	}
	gs->c_cpu = (unsigned int)last;
	resume(gs, act);
	return;
bad:
	gs->allow_stop = false;
	vmc__gdb_send_err(gs, EINVAL);
}

/* ------------------------------------------------------------------------
 * Registers and memory
 */

/*
 * The gdb register @n as little-endian hex at @out; its length.  A
 * register this vCPU does not have (a CSR of an extension switched off,
 * -EINVAL from vmc_vcpu_get_reg) is sent as 'x' digits, which gdb shows
 * as <unavailable>, so that one absent register does not fail a 'g'.
 */
static int read_reg(struct vmc_gdbstub *gs, struct vmc_vcpu *v, unsigned int n,
		    char *out)
{
	const struct gdb_reg *m;
	uint8_t bytes[16] = {0};
	uint64_t val;
	int r;

	if (n >= gs->arch->nr_regs)
		return -EINVAL;
	m = &gs->arch->regs[n];
	if (m->reg != GDB_REG_NONE) {
		r = vmc_vcpu_get_reg(v, m->reg, &val);
		if (r == -EINVAL) {
			memset(out, 'x', 2u * m->size);
			return (int)m->size * 2;
		}
		if (r < 0)
			return r;
		for (unsigned int i = 0; i < 8 && i < m->size; i++)
			bytes[i] = (uint8_t)(val >> (8 * i));
		if (m->size == 16) {
			r = vmc_vcpu_get_reg(v, m->reg + 1, &val);
			if (r < 0)
				return r;
			for (unsigned int i = 0; i < 8; i++)
				bytes[8 + i] = (uint8_t)(val >> (8 * i));
		}
	}
	for (unsigned int i = 0; i < m->size; i++) {
		out[2 * i] = vmc__gdb_hexd[bytes[i] >> 4];
		out[2 * i + 1] = vmc__gdb_hexd[bytes[i] & 15];
	}
	return (int)m->size * 2;
}

/*
 * Write gdb register @n from hex at *s; advances *s.  With @lenient, a
 * register that refuses the value (a read-only CSR) is left as it is and
 * that is not an error: 'G' writes back every register 'g' read, and
 * QEMU's stub accepts it the same way; so are the 'x' digits of a
 * register 'g' sent as unavailable.  Malformed hex always is an error.
 */
static int write_reg(struct vmc_gdbstub *gs, struct vmc_vcpu *v, unsigned int n,
		     const char **s, bool lenient)
{
	const struct gdb_reg *m;
	uint8_t bytes[16];
	uint64_t lo = 0, hi = 0;
	int r;

	if (n >= gs->arch->nr_regs)
		return -EINVAL;
	m = &gs->arch->regs[n];
	if (lenient && strspn(*s, "x") >= 2u * m->size) {
		*s += 2u * m->size;
		return 0;
	}
	for (unsigned int i = 0; i < m->size; i++) {
		int a = vmc__gdb_hexval((unsigned char)(*s)[0]), b;

		if (a < 0)
			return -EINVAL;
		b = vmc__gdb_hexval((unsigned char)(*s)[1]);
		if (b < 0)
			return -EINVAL;
		bytes[i] = (uint8_t)(a << 4 | b);
		*s += 2;
	}
	if (m->reg == GDB_REG_NONE)
		return 0;
	for (unsigned int i = 0; i < 8 && i < m->size; i++)
		lo |= (uint64_t)bytes[i] << (8 * i);
	r = vmc_vcpu_set_reg(v, m->reg, lo);
	if (r == 0 && m->size == 16) {
		for (unsigned int i = 0; i < 8; i++)
			hi |= (uint64_t)bytes[8 + i] << (8 * i);
		r = vmc_vcpu_set_reg(v, m->reg + 1, hi);
	}
	return lenient && r == -EINVAL ? 0 : r;
}

/* Every register of every architecture fits one reply (test-gdb-arch). */
static void handle_g(struct vmc_gdbstub *gs)
{
	char *buf = gs->scratch;
	size_t len = 0;

	for (unsigned int i = 0; i < gs->arch->nr_regs; i++) {
		int r;

		if (len + 2 * gs->arch->regs[i].size > sizeof(gs->scratch)) {
			vmc__gdb_send_err(gs, E2BIG);
			return;
		}
		r = read_reg(gs, vcpu_at(gs, gs->g_cpu), i, buf + len);
		if (r < 0) {
			vmc__gdb_send_err(gs, -r);
			return;
		}
		len += (size_t)r;
	}
	vmc__gdb_send_packet(gs, buf, len);
}

static void handle_G(struct vmc_gdbstub *gs, const char *p)
{
	for (unsigned int i = 0; i < gs->arch->nr_regs && *p; i++) {
		int r = write_reg(gs, vcpu_at(gs, gs->g_cpu), i, &p, true);

		if (r < 0) {
			vmc__gdb_send_err(gs, -r);
			return;
		}
	}
	vmc__gdb_send_str(gs, *p ? "E16" : "OK");
}

/*
 * Debugger memory access through the g_cpu's translation, page by page.
 * Reads go where the guest's would.  Writes reach RAM and ROM only, as
 * QEMU's debug writes do (they store to ROM too, so that gdb can patch
 * firmware): a debugger never stores to a device's registers.  Where QEMU
 * skips the I/O part and says OK, this fails the packet with nothing
 * written on that page, so that gdb reports the address as inaccessible.
 */
static int mem_rw(struct vmc_gdbstub *gs, uint64_t addr, uint8_t *buf,
		  size_t len, bool write)
{
	struct vmc_vcpu *v = vcpu_at(gs, gs->g_cpu);
	struct vmc_address_space *as =
		vmc_vm_get_address_space(gs->vm, VMC_AS_MEMORY);

	while (len) {
		size_t chunk = 4096 - (addr & 4095);
		uint64_t pa;
		int r;

		if (chunk > len)
			chunk = len;
		r = vmc_vcpu_debug_translate(v, addr, &pa);
		if (r < 0)
			return r;
		r = write ? vmc_as_write_rom(as, pa, buf, chunk)
			  : vmc_as_read(as, pa, buf, chunk);
		if (r < 0)
			return r;
		addr += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static void handle_m(struct vmc_gdbstub *gs, const char *p)
{
	uint8_t buf[VMC__GDB_MAX_REPLY / 2];
	char *hex = gs->scratch;
	uint64_t addr, len;

	if (!vmc__gdb_parse_hex(&p, &addr) || *p++ != ',' ||
	    !vmc__gdb_parse_hex(&p, &len) || *p) {
		vmc__gdb_send_err(gs, EINVAL);
		return;
	}
	/* gdb asks again for the rest of a short answer. */
	if (len > sizeof(buf))
		len = sizeof(buf);
	if (mem_rw(gs, addr, buf, len, false) < 0) {
		vmc__gdb_send_err(gs, EFAULT);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = vmc__gdb_hexd[buf[i] >> 4];
		hex[2 * i + 1] = vmc__gdb_hexd[buf[i] & 15];
	}
	vmc__gdb_send_packet(gs, hex, 2 * len);
}

/* M addr,len:hex and X addr,len:binary.  n = payload length. */
static void handle_write_mem(struct vmc_gdbstub *gs, const char *p, size_t n,
			     bool binary)
{
	const char *end = p + n;
	uint64_t addr, len;
	uint8_t *buf = (uint8_t *)gs->scratch;
	size_t got = 0;
	int r;

	if (!vmc__gdb_parse_hex(&p, &addr) || *p++ != ',' ||
	    !vmc__gdb_parse_hex(&p, &len) || *p++ != ':' ||
	    len > sizeof(gs->scratch)) {
		vmc__gdb_send_err(gs, EINVAL);
		return;
	}
	while (got < len && p < end) {
		if (binary) {
			uint8_t c = (uint8_t)*p++;

			if (c == '}') {
				if (p == end)
					break;
				c = (uint8_t)(*p++ ^ 0x20);
			}
			buf[got++] = c;
		} else {
			int a = vmc__gdb_hexval((unsigned char)p[0]), b;

			if (a < 0 || p + 1 >= end + 0 ||
			    (b = vmc__gdb_hexval((unsigned char)p[1])) < 0)
				break;
			buf[got++] = (uint8_t)(a << 4 | b);
			p += 2;
		}
	}
	if (got != len || p != end) {
		vmc__gdb_send_err(gs, EINVAL);
		return;
	}
	r = len ? mem_rw(gs, addr, buf, len, true) : 0;
	if (r < 0)
		vmc__gdb_send_err(gs, EFAULT);
	else
		vmc__gdb_send_str(gs, "OK");
}

/* ------------------------------------------------------------------------
 * Breakpoints
 */

static int point_find(struct vmc_gdbstub *gs, enum vmc_debug_kind kind,
		      uint64_t addr, uint64_t len)
{
	for (unsigned int i = 0; i < gs->nr_points; i++) {
		const struct gdb_point *p = &gs->points[i];

		if (p->kind == kind && p->addr == addr &&
		    (kind <= VMC_DEBUG_BREAK_HW || p->len == len))
			return (int)i;
	}
	return -1;
}

/* Insert or remove on every vCPU; an insert is undone on failure. */
static int point_apply(struct vmc_gdbstub *gs, enum vmc_debug_kind kind,
		       uint64_t addr, uint64_t len, bool insert)
{
	unsigned int n = gs->nr_vcpus;
	int r = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct vmc_vcpu *v = vcpu_at(gs, i);

		if (insert) {
			r = vmc_vcpu_debug_insert(v, kind, addr, len);
			if (r < 0) {
				while (i--)
					vmc_vcpu_debug_remove(vcpu_at(gs, i),
							      kind, addr, len);
				return r;
			}
		} else {
			int e = vmc_vcpu_debug_remove(v, kind, addr, len);

			if (e < 0 && r == 0)
				r = e;
		}
	}
	return r;
}

static void handle_z(struct vmc_gdbstub *gs, const char *p, bool insert)
{
	uint64_t type, addr, len;
	int i, r;

	if (!vmc__gdb_parse_hex(&p, &type) || *p++ != ',' ||
	    !vmc__gdb_parse_hex(&p, &addr) || *p++ != ',' ||
	    !vmc__gdb_parse_hex(&p, &len)) {
		vmc__gdb_send_err(gs, EINVAL);
		return;
	}
	/* Conditions and commands (;X...) are gdb's to evaluate. */
	if (type > VMC_DEBUG_WATCH_ACCESS) {
		vmc__gdb_send_str(gs, "");
		return;
	}
	i = point_find(gs, (enum vmc_debug_kind)type, addr, len);
	if (insert) {
		if (i >= 0) {
			vmc__gdb_send_str(gs, "OK");
			return;
		}
		if (gs->nr_points == GDB_MAX_POINTS) {
			vmc__gdb_send_err(gs, ENOSPC);
			return;
		}
		r = point_apply(gs, (enum vmc_debug_kind)type, addr, len, true);
		if (r == -EOPNOTSUPP) {
			vmc__gdb_send_str(gs, "");
			return;
		}
		if (r < 0) {
			vmc__gdb_send_err(gs, -r);
			return;
		}
		gs->points[gs->nr_points++] = (struct gdb_point){
			(enum vmc_debug_kind)type, addr, len};
	} else {
		if (i < 0) {
			vmc__gdb_send_err(gs, ENOENT);
			return;
		}
		point_apply(gs, gs->points[i].kind, addr, gs->points[i].len,
			    false);
		gs->points[i] = gs->points[--gs->nr_points];
	}
	vmc__gdb_send_str(gs, "OK");
}

static void remove_all_points(struct vmc_gdbstub *gs)
{
	while (gs->nr_points) {
		struct gdb_point *p = &gs->points[--gs->nr_points];

		point_apply(gs, p->kind, p->addr, p->len, false);
	}
}

/* ------------------------------------------------------------------------
 * Queries
 */

static void handle_xfer(struct vmc_gdbstub *gs, const char *p)
{
	const char *xml = gs->arch->xml;
	size_t total = gs->arch->xml_len;
	uint64_t off, len;
	char *buf = gs->scratch;

	if (strncmp(p, "target.xml:", 11)) {
		vmc__gdb_send_err(gs, ENOENT);
		return;
	}
	p += 11;
	if (!vmc__gdb_parse_hex(&p, &off) || *p++ != ',' ||
	    !vmc__gdb_parse_hex(&p, &len) || *p) {
		vmc__gdb_send_err(gs, EINVAL);
		return;
	}
	if (off >= total) {
		vmc__gdb_send_str(gs, "l");
		return;
	}
	if (len > sizeof(gs->scratch) - 1)
		len = sizeof(gs->scratch) - 1;
	if (len > total - off)
		len = total - off;
	buf[0] = off + len < total ? 'm' : 'l';
	memcpy(buf + 1, xml + off, len);
	vmc__gdb_send_packet(gs, buf, len + 1);
}

/*
 * One qfThreadInfo/qsThreadInfo answer: as many thread ids as fit a
 * reply, then "l" once every vCPU was listed.
 */
static void send_thread_list(struct vmc_gdbstub *gs)
{
	char *list = gs->scratch;
	size_t len = 1;

	list[0] = 'm';
	while (gs->next_thread < gs->nr_vcpus &&
	       len + 16 < sizeof(gs->scratch)) {
		len += (size_t)snprintf(list + len, sizeof(gs->scratch) - len,
					"%s%02x", len > 1 ? "," : "",
					gs->next_thread + 1);
		gs->next_thread++;
	}
	if (len == 1)
		vmc__gdb_send_str(gs, "l");
	else
		vmc__gdb_send_packet(gs, list, len);
}

static void handle_q(struct vmc_gdbstub *gs, const char *p)
{
	char b[128];

	if (!strncmp(p, "qSupported", 10)) {
		snprintf(b, sizeof(b),
			 "PacketSize=%x;qXfer:features:read+;vContSupported+;"
			 "QStartNoAckMode+",
			 VMC__GDB_MAX_PACKET);
		vmc__gdb_send_str(gs, b);
	} else if (!strcmp(p, "qAttached") || !strncmp(p, "qAttached:", 10)) {
		vmc__gdb_send_str(gs, "1");
	} else if (!strcmp(p, "qC")) {
		snprintf(b, sizeof(b), "QC%02x", gs->c_cpu + 1);
		vmc__gdb_send_str(gs, b);
	} else if (!strcmp(p, "qfThreadInfo")) {
		gs->next_thread = 0;
		send_thread_list(gs);
	} else if (!strcmp(p, "qsThreadInfo")) {
		send_thread_list(gs);
	} else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
		const char *q = p + 17;
		char txt[32], hex[64];
		long tid;
		size_t i;

		if (!vmc__gdb_parse_tid(&q, &tid) || !tid_valid(gs, tid)) {
			vmc__gdb_send_err(gs, EINVAL);
			return;
		}
		snprintf(txt, sizeof(txt), "CPU#%ld", tid - 1);
		for (i = 0; txt[i]; i++) {
			hex[2 * i] = vmc__gdb_hexd[(uint8_t)txt[i] >> 4];
			hex[2 * i + 1] = vmc__gdb_hexd[txt[i] & 15];
		}
		vmc__gdb_send_packet(gs, hex, 2 * i);
	} else if (!strncmp(p, "qXfer:features:read:", 20)) {
		handle_xfer(gs, p + 20);
	} else {
		vmc__gdb_send_str(gs, "");
	}
}

/* ------------------------------------------------------------------------
 * Dispatch
 */

/* Breakpoints off, steps off, held vCPUs released, the VM running. */
static void detach(struct vmc_gdbstub *gs)
{
	enum vmc_vm_state s;

	remove_all_points(gs);
	gs->running = false;
	gs->allow_stop = false;
	if (gs->no_exec)
		return;
	for (unsigned int i = 0; i < gs->nr_vcpus; i++) {
		if (gs->stepping[i] &&
		    vmc_vcpu_debug_set_step(vcpu_at(gs, i), false) >= 0)
			gs->stepping[i] = false;
		vmc_vcpu_set_hold(vcpu_at(gs, i), false);
	}
	s = vmc_vm_get_state(gs->vm);
	if (s == VMC_VM_PAUSED || s == VMC_VM_DEBUG || s == VMC_VM_CREATED)
		vmc_vm_resume(gs->vm);
}

void vmc__gdb_session_start(struct vmc_gdbstub *gs)
{
	gs->connected = true;
	gs->hangup = false;
	gs->rx = GDB_RX_IDLE;
	gs->no_ack = false;
	gs->allow_stop = false;
	gs->running = false;
	gs->last_len = 0;
	gs->g_cpu = gs->c_cpu = 0;
	/* QEMU stops a running VM when gdb attaches. */
	if (!gs->no_exec && vmc_vm_get_state(gs->vm) == VMC_VM_RUNNING)
		vmc_vm_pause(gs->vm);
}

void vmc__gdb_session_end(struct vmc_gdbstub *gs)
{
	detach(gs);
	gs->connected = false;
	gs->last_len = 0;
}

void vmc__gdb_handle_packet(struct vmc_gdbstub *gs, char *p, size_t n)
{
	const char *q = p + 1;
	uint64_t v;
	long tid;

	p[n] = '\0';
	if (strlen(p) != n && p[0] != 'X') {
		vmc__gdb_send_err(gs, EINVAL);
		return;
	}
	switch (p[0]) {
	case '?':
		gs->allow_stop = false;
		send_stop_reply(gs, vmc_vm_get_state(gs->vm) == VMC_VM_DEBUG
					    ? VMC_VM_DEBUG
					    : VMC_VM_CREATED);
		break;
	case 'q':
		handle_q(gs, p);
		break;
	case 'Q':
		if (!strcmp(p, "QStartNoAckMode")) {
			vmc__gdb_send_str(gs, "OK");
			gs->no_ack = true;
		} else {
			vmc__gdb_send_str(gs, "");
		}
		break;
	case 'H':
		if ((p[1] != 'g' && p[1] != 'c') ||
		    (q++, !vmc__gdb_parse_tid(&q, &tid)) || *q ||
		    (tid > 0 && !tid_valid(gs, tid))) {
			vmc__gdb_send_err(gs, EINVAL);
			break;
		}
		if (tid > 0) {
			if (p[1] == 'g')
				gs->g_cpu = (unsigned int)tid - 1;
			else
				gs->c_cpu = (unsigned int)tid - 1;
		}
		vmc__gdb_send_str(gs, "OK");
		break;
	case 'T':
		if (!vmc__gdb_parse_tid(&q, &tid) || *q || !tid_valid(gs, tid))
			vmc__gdb_send_err(gs, ESRCH);
		else
			vmc__gdb_send_str(gs, "OK");
		break;
	case 'g':
		handle_g(gs);
		break;
	case 'G':
		handle_G(gs, q);
		break;
	case 'p': {
		char hex[40];
		int r;

		if (!vmc__gdb_parse_hex(&q, &v) || *q || v > 0xffff) {
			vmc__gdb_send_err(gs, EINVAL);
			break;
		}
		r = read_reg(gs, vcpu_at(gs, gs->g_cpu), (unsigned int)v, hex);
		if (r < 0)
			vmc__gdb_send_err(gs, -r);
		else
			vmc__gdb_send_packet(gs, hex, (size_t)r);
		break;
	}
	case 'P': {
		int r;

		if (!vmc__gdb_parse_hex(&q, &v) || *q++ != '=' || v > 0xffff) {
			vmc__gdb_send_err(gs, EINVAL);
			break;
		}
		r = write_reg(gs, vcpu_at(gs, gs->g_cpu), (unsigned int)v, &q,
			      false);
		if (r < 0 || *q)
			vmc__gdb_send_err(gs, r < 0 ? -r : EINVAL);
		else
			vmc__gdb_send_str(gs, "OK");
		break;
	}
	case 'm':
		handle_m(gs, q);
		break;
	case 'M':
		handle_write_mem(gs, q, n - 1, false);
		break;
	case 'X':
		handle_write_mem(gs, q, n - 1, true);
		break;
	case 'c':
	case 's':
	case 'C':
	case 'S': {
		bool step = p[0] == 's' || p[0] == 'S';

		/* C/S carry a signal first: ignored, as in system mode. */
		if ((p[0] == 'C' || p[0] == 'S') && *q) {
			if (!vmc__gdb_parse_hex(&q, &v)) {
				vmc__gdb_send_err(gs, EINVAL);
				break;
			}
			if (*q == ';')
				q++;
		}
		if (*q) {
			const struct gdb_reg *m;

			if (!vmc__gdb_parse_hex(&q, &v) || *q) {
				vmc__gdb_send_err(gs, EINVAL);
				break;
			}
			m = &gs->arch->regs[gs->arch->pc];
			if (!gs->no_exec)
				vmc_vcpu_set_reg(vcpu_at(gs, gs->c_cpu), m->reg,
						 v);
		}
		gs->allow_stop = true;
		resume_all(gs, step);
		break;
	}
	case 'v':
		if (!strcmp(p, "vCont?")) {
			vmc__gdb_send_str(gs, "vCont;c;C;s;S;t");
		} else if (!strncmp(p, "vCont;", 6)) {
			gs->allow_stop = true;
			handle_vcont(gs, p + 5);
		} else if (!strncmp(p, "vKill", 5)) {
			vmc__gdb_send_str(gs, "OK");
			if (!gs->no_exec)
				vmc_vm_request_shutdown(gs->vm, 0);
		} else {
			vmc__gdb_send_str(gs, "");
		}
		break;
	case 'Z':
	case 'z':
		handle_z(gs, q, p[0] == 'Z');
		break;
	case 'D':
		detach(gs);
		vmc__gdb_send_str(gs, "OK");
		break;
	case 'k':
		/* No reply: gdb does not wait for one. */
		gs->running = false;
		if (!gs->no_exec)
			vmc_vm_request_shutdown(gs->vm, 0);
		break;
	default:
		vmc__gdb_send_str(gs, "");
		break;
	}
}

void vmc__gdb_interrupt(struct vmc_gdbstub *gs)
{
	if (!gs->running)
		return;
	gs->allow_stop = true;
	if (gs->no_exec) {
		gs->running = false;
		send_stop_reply(gs, VMC_VM_PAUSED);
		return;
	}
	/* The state handler sends T02 once every vCPU is stopped. */
	vmc_vm_pause(gs->vm);
}
