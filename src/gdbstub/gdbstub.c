/* SPDX-License-Identifier: MIT */
/*
 * The gdb remote-protocol server (vmc-gdbstub.h), written against the
 * public API only.
 *
 * Everything runs on the loop thread: the listening socket, the client's
 * bytes, and the VM state handler that sends stop replies.  The VM's
 * all-stop machinery does the hard part: a vCPU that hits a breakpoint
 * stops itself, the loop stops the others and enters VMC_VM_DEBUG, and
 * only then are the state handlers told, so a stop reply always follows
 * the stop of every vCPU.
 *
 * Stop replies follow QEMU's rule: only a packet that expects one (?, c,
 * s, C, S, vCont, and a Ctrl-C byte) allows one, and sending it consumes
 * the permission, so gdb gets exactly one reply per resume.
 *
 * Resuming: every resume first sets, per vCPU, whether it single-steps
 * and whether it is held (vCont leaves unnamed vCPUs stopped while the VM
 * runs), then resumes the VM.  Breakpoints go on every vCPU, as QEMU's
 * do; the accelerator makes them effective before any vCPU runs again.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <libvmcore/vmc-debug.h>
#include <libvmcore/vmc-memory.h>
#include <libvmcore/vmc-riscv.h>
#include <libvmcore/vmc-vcpu.h>
#include <libvmcore/vmc-x86.h>

#include "gdbstub-internal.h"
#include "util.h"

#define MAX_POINTS 128
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5
#define GDB_SIGABRT 6

struct gdb_point {
	enum vmc_debug_kind kind;
	uint64_t addr, len;
};

enum rx_state { RX_IDLE, RX_DATA, RX_CS1, RX_CS2 };

struct vmc_gdbstub {
	struct vmc_vm *vm;
	struct vmc_loop *loop;
	enum vmc_arch arch;
	int listen_fd;
	struct vmc_fd_handler *listen_h;
	char *unix_path;
	int port;
	struct vmc_vm_state_handler *state_h;

	/* The client (fd -1 for a socketless session). */
	bool connected;
	int fd;
	struct vmc_fd_handler *fd_h;
	vmc__gdb_out_cb out;
	void *out_opaque;
	bool no_exec;

	/* Receiver. */
	enum rx_state rx;
	char pkt[VMC__GDB_MAX_PACKET + 1];
	size_t pkt_len;
	bool pkt_overflow;
	uint8_t sum;
	int cs_hi;

	/* Protocol state. */
	char *last;             /* last packet sent, for '-' */
	size_t last_len;
	bool no_ack;
	bool allow_stop;
	bool running;           /* resumed; a stop reply is owed */
	unsigned int g_cpu, c_cpu;
	bool *stepping;         /* per vCPU: single-step currently on */
	struct gdb_point points[MAX_POINTS];
	unsigned int nr_points;
};

/* ------------------------------------------------------------------------
 * Target descriptions
 */

static const char riscv_xml[] =
    "<?xml version=\"1.0\"?>"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target version=\"1.0\"><architecture>riscv:rv64</architecture>"
    "<feature name=\"org.gnu.gdb.riscv.cpu\">"
    "<reg name=\"zero\" bitsize=\"64\" type=\"int\" regnum=\"0\"/>"
    "<reg name=\"ra\" bitsize=\"64\" type=\"code_ptr\"/>"
    "<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"gp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"tp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"t0\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"t1\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"t2\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"fp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"s1\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"a0\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"a1\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"a2\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"a3\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"a4\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"a5\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"a6\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"a7\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s2\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s3\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s4\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s5\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s6\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s7\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s8\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s9\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s10\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"s11\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"t3\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"t4\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"t5\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"t6\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\"/>"
    "</feature></target>";

#define X86_REG(n, t) "<reg name=\"" n "\" bitsize=\"64\" type=\"" t "\"/>"
#define X86_R32(n, g) \
	"<reg name=\"" n "\" bitsize=\"32\" type=\"int32\" group=\"" g "\"/>"
#define X86_ST(n) "<reg name=\"" n "\" bitsize=\"80\" type=\"i387_ext\"/>"
#define X86_XMM(n) "<reg name=\"" n "\" bitsize=\"128\" type=\"vec128\"/>"

static const char x86_xml[] =
    "<?xml version=\"1.0\"?>"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target version=\"1.0\"><architecture>i386:x86-64</architecture>"
    "<feature name=\"org.gnu.gdb.i386.core\">"
    X86_REG("rax", "int64") X86_REG("rbx", "int64") X86_REG("rcx", "int64")
    X86_REG("rdx", "int64") X86_REG("rsi", "int64") X86_REG("rdi", "int64")
    X86_REG("rbp", "data_ptr") X86_REG("rsp", "data_ptr")
    X86_REG("r8", "int64") X86_REG("r9", "int64") X86_REG("r10", "int64")
    X86_REG("r11", "int64") X86_REG("r12", "int64") X86_REG("r13", "int64")
    X86_REG("r14", "int64") X86_REG("r15", "int64")
    X86_REG("rip", "code_ptr")
    X86_R32("eflags", "general") X86_R32("cs", "general")
    X86_R32("ss", "general") X86_R32("ds", "general")
    X86_R32("es", "general") X86_R32("fs", "general")
    X86_R32("gs", "general")
    X86_ST("st0") X86_ST("st1") X86_ST("st2") X86_ST("st3")
    X86_ST("st4") X86_ST("st5") X86_ST("st6") X86_ST("st7")
    X86_R32("fctrl", "float") X86_R32("fstat", "float")
    X86_R32("ftag", "float") X86_R32("fiseg", "float")
    X86_R32("fioff", "float") X86_R32("foseg", "float")
    X86_R32("fooff", "float") X86_R32("fop", "float")
    "</feature><feature name=\"org.gnu.gdb.i386.sse\">"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
    "<union id=\"vec128\"><field name=\"v16_int8\" type=\"v16i8\"/>"
    "<field name=\"v8_int16\" type=\"v8i16\"/>"
    "<field name=\"v4_int32\" type=\"v4i32\"/>"
    "<field name=\"v2_int64\" type=\"v2i64\"/>"
    "<field name=\"uint128\" type=\"uint128\"/></union>"
    X86_XMM("xmm0") X86_XMM("xmm1") X86_XMM("xmm2") X86_XMM("xmm3")
    X86_XMM("xmm4") X86_XMM("xmm5") X86_XMM("xmm6") X86_XMM("xmm7")
    X86_XMM("xmm8") X86_XMM("xmm9") X86_XMM("xmm10") X86_XMM("xmm11")
    X86_XMM("xmm12") X86_XMM("xmm13") X86_XMM("xmm14") X86_XMM("xmm15")
    X86_R32("mxcsr", "vector")
    "</feature></target>";

/* gdb register n -> (libvmcore register, size in bytes); size 0 = none. */
struct reg_map {
	unsigned int reg;
	unsigned int size;
	bool hi;        /* the high half of an XMM register */
};

#define X86_NREGS 57

static bool map_reg(const struct vmc_gdbstub *gs, unsigned int n,
		    struct reg_map *m)
{
	static const unsigned int gpr[16] = {
	    VMC_X86_RAX, VMC_X86_RBX, VMC_X86_RCX, VMC_X86_RDX,
	    VMC_X86_RSI, VMC_X86_RDI, VMC_X86_RBP, VMC_X86_RSP,
	    VMC_X86_R8,  VMC_X86_R9,  VMC_X86_R10, VMC_X86_R11,
	    VMC_X86_R12, VMC_X86_R13, VMC_X86_R14, VMC_X86_R15};
	static const unsigned int seg[6] = {VMC_X86_CS, VMC_X86_SS,
					    VMC_X86_DS, VMC_X86_ES,
					    VMC_X86_FS, VMC_X86_GS};

	*m = (struct reg_map){0};
	if (gs->arch == VMC_ARCH_RISCV64) {
		if (n > 32)
			return false;
		m->reg = n == 32 ? VMC_RISCV_REG_PC : VMC_RISCV_REG_X(n);
		m->size = 8;
		return true;
	}
	if (n >= X86_NREGS)
		return false;
	if (n < 16) {
		m->reg = gpr[n];
		m->size = 8;
	} else if (n == 16) {
		m->reg = VMC_X86_RIP;
		m->size = 8;
	} else if (n == 17) {
		m->reg = VMC_X86_RFLAGS;
		m->size = 4;
	} else if (n < 24) {
		m->reg = seg[n - 18];
		m->size = 4;
	} else if (n < 32) {
		m->size = 10; /* st0..st7: not mapped, read as zero */
		m->reg = ~0u;
	} else if (n == 32) {
		m->reg = VMC_X86_FCW;
		m->size = 4;
	} else if (n == 33) {
		m->reg = VMC_X86_FSW;
		m->size = 4;
	} else if (n == 34) {
		m->reg = VMC_X86_FTW;
		m->size = 4;
	} else if (n < 40) {
		m->reg = ~0u;
		m->size = 4;
	} else if (n < 56) {
		m->reg = VMC_X86_XMM0_LO + 2 * (n - 40);
		m->size = 16;
	} else {
		m->reg = VMC_X86_MXCSR;
		m->size = 4;
	}
	return true;
}

static unsigned int nr_regs(const struct vmc_gdbstub *gs)
{
	return gs->arch == VMC_ARCH_RISCV64 ? 33 : X86_NREGS;
}

/* ------------------------------------------------------------------------
 * Output
 */

static void raw_write(struct vmc_gdbstub *gs, const char *buf, size_t len)
{
	if (gs->out) {
		gs->out(buf, len, gs->out_opaque);
		return;
	}
	while (len && gs->fd >= 0) {
		ssize_t n = write(gs->fd, buf, len);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = gs->fd, .events = POLLOUT};

			poll(&p, 1, 1000);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static const char hexd[] = "0123456789abcdef";

/* Frame and send a packet; remember it for a retransmit. */
static void send_packet(struct vmc_gdbstub *gs, const char *data, size_t len)
{
	char *p = malloc(len + 4);
	uint8_t sum = 0;

	if (!p)
		return;
	p[0] = '$';
	for (size_t i = 0; i < len; i++) {
		p[1 + i] = data[i];
		sum += (uint8_t)data[i];
	}
	p[len + 1] = '#';
	p[len + 2] = hexd[sum >> 4];
	p[len + 3] = hexd[sum & 15];
	raw_write(gs, p, len + 4);
	free(gs->last);
	gs->last = p;
	gs->last_len = len + 4;
}

static void send_str(struct vmc_gdbstub *gs, const char *s)
{
	send_packet(gs, s, strlen(s));
}

static void send_err(struct vmc_gdbstub *gs, int err)
{
	char b[8];

	snprintf(b, sizeof(b), "E%02x", (unsigned int)(err & 0xff));
	send_str(gs, b);
}

/* ------------------------------------------------------------------------
 * Parsing helpers
 */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse hex up to a non-hex character; false if no digit or overflow. */
static bool parse_hex(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int d, n = 0;

	while ((d = hexval((unsigned char)*p)) >= 0) {
		if (++n > 16)
			return false;
		x = x << 4 | (uint64_t)d;
		p++;
	}
	if (!n)
		return false;
	*s = p;
	*v = x;
	return true;
}

/* A thread id: -1 = all, 0 = any, else vCPU index + 1.  Accepts the
 * multiprocess form pPID.TID too. */
static bool parse_tid(const char **s, long *tid)
{
	uint64_t v;

	if (**s == 'p') {
		(*s)++;
		if (!strncmp(*s, "-1", 2))
			*s += 2;
		else if (!parse_hex(s, &v))
			return false;
		if (**s != '.') {
			*tid = -1;
			return true;
		}
		(*s)++;
	}
	if (!strncmp(*s, "-1", 2)) {
		*s += 2;
		*tid = -1;
		return true;
	}
	if (!parse_hex(s, &v) || v > 0x10000)
		return false;
	*tid = (long)v;
	return true;
}

static bool tid_valid(struct vmc_gdbstub *gs, long tid)
{
	return tid >= 1 && (unsigned long)tid <= vmc_vm_get_vcpu_count(gs->vm);
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
			 (unsigned int)vmc_vm_get_shutdown_status(gs->vm) & 0xff);
		send_str(gs, b);
		return;
	case VMC_VM_GUEST_ERROR:
		snprintf(b, sizeof(b), "T%02xthread:%02x;", GDB_SIGABRT,
			 gs->c_cpu + 1);
		send_str(gs, b);
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
			snprintf(b, sizeof(b), "T%02xthread:%02x;",
				 GDB_SIGTRAP, gs->c_cpu + 1);
		send_str(gs, b);
		return;
	case VMC_VM_PAUSED:
		snprintf(b, sizeof(b), "T%02xthread:%02x;", GDB_SIGINT,
			 gs->c_cpu + 1);
		send_str(gs, b);
		return;
	default:
		snprintf(b, sizeof(b), "T%02xthread:%02x;", GDB_SIGTRAP,
			 gs->c_cpu + 1);
		send_str(gs, b);
		return;
	}
}

static void on_state(struct vmc_vm *vm, enum vmc_vm_state old,
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
	unsigned int n = vmc_vm_get_vcpu_count(gs->vm);
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
	unsigned int n = vmc_vm_get_vcpu_count(gs->vm);
	unsigned char *act = calloc(n, 1);

	if (!act) {
		send_err(gs, ENOMEM);
		return;
	}
	memset(act, ACT_CONT, n);
	if (step_c_cpu)
		act[gs->c_cpu] = ACT_STEP;
	resume(gs, act);
	free(act);
}

/* vCont;ACTION[:TID];...  The first action naming a vCPU wins. */
static void handle_vcont(struct vmc_gdbstub *gs, const char *p)
{
	unsigned int n = vmc_vm_get_vcpu_count(gs->vm);
	unsigned char *act = calloc(n, 1);
	bool any = false;
	long last = -1;

	if (!act) {
		send_err(gs, ENOMEM);
		return;
	}
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
			if (!parse_hex(&p, &sig))
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
			if (!parse_tid(&p, &tid) || (tid > 0 && !tid_valid(gs, tid)))
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
		free(act);
		send_str(gs, "OK");
		gs->allow_stop = false;
		return;
	}
	gs->c_cpu = (unsigned int)last;
	resume(gs, act);
	free(act);
	return;
bad:
	free(act);
	gs->allow_stop = false;
	send_err(gs, EINVAL);
}

/* ------------------------------------------------------------------------
 * Registers and memory
 */

static int read_reg(struct vmc_gdbstub *gs, struct vmc_vcpu *v, unsigned int n,
		    char *out)
{
	struct reg_map m;
	uint8_t bytes[16] = {0};
	uint64_t val;
	int r;

	if (!map_reg(gs, n, &m))
		return -EINVAL;
	if (m.reg != ~0u) {
		r = vmc_vcpu_get_reg(v, m.reg, &val);
		if (r < 0)
			return r;
		for (unsigned int i = 0; i < 8 && i < m.size; i++)
			bytes[i] = (uint8_t)(val >> (8 * i));
		if (m.size == 16) {
			r = vmc_vcpu_get_reg(v, m.reg + 1, &val);
			if (r < 0)
				return r;
			for (unsigned int i = 0; i < 8; i++)
				bytes[8 + i] = (uint8_t)(val >> (8 * i));
		}
	}
	for (unsigned int i = 0; i < m.size; i++) {
		out[2 * i] = hexd[bytes[i] >> 4];
		out[2 * i + 1] = hexd[bytes[i] & 15];
	}
	return (int)m.size * 2;
}

/* Write register n from hex at *s; advances *s. */
static int write_reg(struct vmc_gdbstub *gs, struct vmc_vcpu *v, unsigned int n,
		     const char **s)
{
	struct reg_map m;
	uint8_t bytes[16];
	uint64_t lo = 0, hi = 0;
	int r;

	if (!map_reg(gs, n, &m))
		return -EINVAL;
	for (unsigned int i = 0; i < m.size; i++) {
		int a = hexval((unsigned char)(*s)[0]), b;

		if (a < 0)
			return -EINVAL;
		b = hexval((unsigned char)(*s)[1]);
		if (b < 0)
			return -EINVAL;
		bytes[i] = (uint8_t)(a << 4 | b);
		*s += 2;
	}
	if (m.reg == ~0u)
		return 0;
	for (unsigned int i = 0; i < 8 && i < m.size; i++)
		lo |= (uint64_t)bytes[i] << (8 * i);
	r = vmc_vcpu_set_reg(v, m.reg, lo);
	if (r < 0 || m.size != 16)
		return r;
	for (unsigned int i = 0; i < 8; i++)
		hi |= (uint64_t)bytes[8 + i] << (8 * i);
	return vmc_vcpu_set_reg(v, m.reg + 1, hi);
}

static void handle_g(struct vmc_gdbstub *gs)
{
	unsigned int n = nr_regs(gs);
	char *buf = malloc((size_t)n * 32 + 1);
	size_t len = 0;

	if (!buf) {
		send_err(gs, ENOMEM);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		int r = read_reg(gs, vcpu_at(gs, gs->g_cpu), i, buf + len);

		if (r < 0) {
			free(buf);
			send_err(gs, -r);
			return;
		}
		len += (size_t)r;
	}
	send_packet(gs, buf, len);
	free(buf);
}

static void handle_G(struct vmc_gdbstub *gs, const char *p)
{
	for (unsigned int i = 0; i < nr_regs(gs) && *p; i++) {
		int r = write_reg(gs, vcpu_at(gs, gs->g_cpu), i, &p);

		if (r < 0) {
			send_err(gs, -r);
			return;
		}
	}
	send_str(gs, *p ? "E16" : "OK");
}

/* Debugger memory access through the g_cpu's translation, page by page. */
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
		r = write ? vmc_as_write(as, pa, buf, chunk)
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
	uint64_t addr, len;
	uint8_t *buf;
	char *hex;
	int r;

	if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len) ||
	    *p) {
		send_err(gs, EINVAL);
		return;
	}
	if (len > VMC__GDB_MAX_PACKET / 2)
		len = VMC__GDB_MAX_PACKET / 2;
	buf = malloc(len + 1);
	hex = malloc(2 * len + 1);
	if (!buf || !hex) {
		free(buf);
		free(hex);
		send_err(gs, ENOMEM);
		return;
	}
	r = mem_rw(gs, addr, buf, len, false);
	if (r < 0) {
		send_err(gs, EFAULT);
	} else {
		for (size_t i = 0; i < len; i++) {
			hex[2 * i] = hexd[buf[i] >> 4];
			hex[2 * i + 1] = hexd[buf[i] & 15];
		}
		send_packet(gs, hex, 2 * len);
	}
	free(buf);
	free(hex);
}

/* M addr,len:hex and X addr,len:binary.  n = payload length. */
static void handle_write_mem(struct vmc_gdbstub *gs, const char *p, size_t n,
			     bool binary)
{
	const char *end = p + n;
	uint64_t addr, len;
	uint8_t *buf;
	size_t got = 0;
	int r;

	if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len) ||
	    *p++ != ':' || len > VMC__GDB_MAX_PACKET) {
		send_err(gs, EINVAL);
		return;
	}
	buf = malloc(len + 1);
	if (!buf) {
		send_err(gs, ENOMEM);
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
			int a = hexval((unsigned char)p[0]), b;

			if (a < 0 || p + 1 >= end + 0 ||
			    (b = hexval((unsigned char)p[1])) < 0)
				break;
			buf[got++] = (uint8_t)(a << 4 | b);
			p += 2;
		}
	}
	if (got != len || p != end) {
		free(buf);
		send_err(gs, EINVAL);
		return;
	}
	r = len ? mem_rw(gs, addr, buf, len, true) : 0;
	free(buf);
	if (r < 0)
		send_err(gs, EFAULT);
	else
		send_str(gs, "OK");
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
	unsigned int n = vmc_vm_get_vcpu_count(gs->vm);
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

	if (!parse_hex(&p, &type) || *p++ != ',' || !parse_hex(&p, &addr) ||
	    *p++ != ',' || !parse_hex(&p, &len)) {
		send_err(gs, EINVAL);
		return;
	}
	/* Conditions and commands (;X...) are gdb's to evaluate. */
	if (type > VMC_DEBUG_WATCH_ACCESS) {
		send_str(gs, "");
		return;
	}
	i = point_find(gs, (enum vmc_debug_kind)type, addr, len);
	if (insert) {
		if (i >= 0) {
			send_str(gs, "OK");
			return;
		}
		if (gs->nr_points == MAX_POINTS) {
			send_err(gs, ENOSPC);
			return;
		}
		r = point_apply(gs, (enum vmc_debug_kind)type, addr, len, true);
		if (r == -EOPNOTSUPP) {
			send_str(gs, "");
			return;
		}
		if (r < 0) {
			send_err(gs, -r);
			return;
		}
		gs->points[gs->nr_points++] = (struct gdb_point){
		    (enum vmc_debug_kind)type, addr, len};
	} else {
		if (i < 0) {
			send_err(gs, ENOENT);
			return;
		}
		point_apply(gs, gs->points[i].kind, addr, gs->points[i].len,
			    false);
		gs->points[i] = gs->points[--gs->nr_points];
	}
	send_str(gs, "OK");
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
	const char *xml = gs->arch == VMC_ARCH_RISCV64 ? riscv_xml : x86_xml;
	size_t total = strlen(xml);
	uint64_t off, len;
	char *buf;

	if (strncmp(p, "target.xml:", 11)) {
		send_err(gs, ENOENT);
		return;
	}
	p += 11;
	if (!parse_hex(&p, &off) || *p++ != ',' || !parse_hex(&p, &len) ||
	    *p) {
		send_err(gs, EINVAL);
		return;
	}
	if (off >= total) {
		send_str(gs, "l");
		return;
	}
	if (len > VMC__GDB_MAX_PACKET - 1)
		len = VMC__GDB_MAX_PACKET - 1;
	if (len > total - off)
		len = total - off;
	buf = malloc(len + 1);
	if (!buf) {
		send_err(gs, ENOMEM);
		return;
	}
	buf[0] = off + len < total ? 'm' : 'l';
	memcpy(buf + 1, xml + off, len);
	send_packet(gs, buf, len + 1);
	free(buf);
}

static void handle_q(struct vmc_gdbstub *gs, const char *p)
{
	char b[128];

	if (!strncmp(p, "qSupported", 10)) {
		snprintf(b, sizeof(b),
			 "PacketSize=%x;qXfer:features:read+;vContSupported+;"
			 "QStartNoAckMode+",
			 VMC__GDB_MAX_PACKET);
		send_str(gs, b);
	} else if (!strcmp(p, "qAttached") || !strncmp(p, "qAttached:", 10)) {
		send_str(gs, "1");
	} else if (!strcmp(p, "qC")) {
		snprintf(b, sizeof(b), "QC%02x", gs->c_cpu + 1);
		send_str(gs, b);
	} else if (!strcmp(p, "qfThreadInfo")) {
		unsigned int n = vmc_vm_get_vcpu_count(gs->vm);
		char *list = malloc((size_t)n * 6 + 2);
		size_t len = 1;

		if (!list) {
			send_err(gs, ENOMEM);
			return;
		}
		list[0] = 'm';
		for (unsigned int i = 0; i < n; i++)
			len += (size_t)sprintf(list + len, "%s%02x",
					       i ? "," : "", i + 1);
		send_packet(gs, list, len);
		free(list);
	} else if (!strcmp(p, "qsThreadInfo")) {
		send_str(gs, "l");
	} else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
		const char *q = p + 17;
		char txt[32], hex[64];
		long tid;
		size_t i;

		if (!parse_tid(&q, &tid) || !tid_valid(gs, tid)) {
			send_err(gs, EINVAL);
			return;
		}
		snprintf(txt, sizeof(txt), "CPU#%ld", tid - 1);
		for (i = 0; txt[i]; i++) {
			hex[2 * i] = hexd[(uint8_t)txt[i] >> 4];
			hex[2 * i + 1] = hexd[txt[i] & 15];
		}
		send_packet(gs, hex, 2 * i);
	} else if (!strncmp(p, "qXfer:features:read:", 20)) {
		handle_xfer(gs, p + 20);
	} else {
		send_str(gs, "");
	}
}

/* ------------------------------------------------------------------------
 * Dispatch
 */

static void detach(struct vmc_gdbstub *gs)
{
	unsigned int n = vmc_vm_get_vcpu_count(gs->vm);
	enum vmc_vm_state s;

	remove_all_points(gs);
	gs->running = false;
	gs->allow_stop = false;
	if (gs->no_exec)
		return;
	for (unsigned int i = 0; i < n; i++) {
		if (gs->stepping[i] &&
		    vmc_vcpu_debug_set_step(vcpu_at(gs, i), false) >= 0)
			gs->stepping[i] = false;
		vmc_vcpu_set_hold(vcpu_at(gs, i), false);
	}
	s = vmc_vm_get_state(gs->vm);
	if (s == VMC_VM_PAUSED || s == VMC_VM_DEBUG || s == VMC_VM_CREATED)
		vmc_vm_resume(gs->vm);
}

static void handle_packet(struct vmc_gdbstub *gs, char *p, size_t n)
{
	const char *q = p + 1;
	uint64_t v;
	long tid;

	p[n] = '\0';
	if (strlen(p) != n && p[0] != 'X') {
		send_err(gs, EINVAL);
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
			send_str(gs, "OK");
			gs->no_ack = true;
		} else {
			send_str(gs, "");
		}
		break;
	case 'H':
		if ((p[1] != 'g' && p[1] != 'c') || (q++, !parse_tid(&q, &tid)) ||
		    *q || (tid > 0 && !tid_valid(gs, tid))) {
			send_err(gs, EINVAL);
			break;
		}
		if (tid > 0) {
			if (p[1] == 'g')
				gs->g_cpu = (unsigned int)tid - 1;
			else
				gs->c_cpu = (unsigned int)tid - 1;
		}
		send_str(gs, "OK");
		break;
	case 'T':
		if (!parse_tid(&q, &tid) || *q || !tid_valid(gs, tid))
			send_err(gs, ESRCH);
		else
			send_str(gs, "OK");
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

		if (!parse_hex(&q, &v) || *q || v > 0xffff) {
			send_err(gs, EINVAL);
			break;
		}
		r = read_reg(gs, vcpu_at(gs, gs->g_cpu), (unsigned int)v, hex);
		if (r < 0)
			send_err(gs, -r);
		else
			send_packet(gs, hex, (size_t)r);
		break;
	}
	case 'P': {
		int r;

		if (!parse_hex(&q, &v) || *q++ != '=' || v > 0xffff) {
			send_err(gs, EINVAL);
			break;
		}
		r = write_reg(gs, vcpu_at(gs, gs->g_cpu), (unsigned int)v, &q);
		if (r < 0 || *q)
			send_err(gs, r < 0 ? -r : EINVAL);
		else
			send_str(gs, "OK");
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
			if (!parse_hex(&q, &v)) {
				send_err(gs, EINVAL);
				break;
			}
			if (*q == ';')
				q++;
		}
		if (*q) {
			struct reg_map m;

			if (!parse_hex(&q, &v) || *q) {
				send_err(gs, EINVAL);
				break;
			}
			map_reg(gs, gs->arch == VMC_ARCH_RISCV64 ? 32 : 16, &m);
			if (!gs->no_exec)
				vmc_vcpu_set_reg(vcpu_at(gs, gs->c_cpu), m.reg,
						 v);
		}
		gs->allow_stop = true;
		resume_all(gs, step);
		break;
	}
	case 'v':
		if (!strcmp(p, "vCont?")) {
			send_str(gs, "vCont;c;C;s;S;t");
		} else if (!strncmp(p, "vCont;", 6)) {
			gs->allow_stop = true;
			handle_vcont(gs, p + 5);
		} else if (!strncmp(p, "vKill", 5)) {
			send_str(gs, "OK");
			if (!gs->no_exec)
				vmc_vm_request_shutdown(gs->vm, 0);
		} else {
			send_str(gs, "");
		}
		break;
	case 'Z':
	case 'z':
		handle_z(gs, q, p[0] == 'Z');
		break;
	case 'D':
		detach(gs);
		send_str(gs, "OK");
		break;
	case 'k':
		/* No reply: gdb does not wait for one. */
		gs->running = false;
		if (!gs->no_exec)
			vmc_vm_request_shutdown(gs->vm, 0);
		break;
	default:
		send_str(gs, "");
		break;
	}
}

static void interrupt(struct vmc_gdbstub *gs)
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

void vmc__gdbstub_feed(struct vmc_gdbstub *gs, const void *data, size_t len)
{
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++) {
		int c = b[i], d;

		switch (gs->rx) {
		case RX_IDLE:
			if (c == '$') {
				gs->rx = RX_DATA;
				gs->pkt_len = 0;
				gs->pkt_overflow = false;
				gs->sum = 0;
			} else if (c == 0x03) {
				interrupt(gs);
			} else if (c == '-' && gs->last && !gs->no_ack) {
				raw_write(gs, gs->last, gs->last_len);
			}
			break;
		case RX_DATA:
			if (c == '#') {
				gs->rx = RX_CS1;
				break;
			}
			gs->sum += (uint8_t)c;
			if (gs->pkt_len < VMC__GDB_MAX_PACKET)
				gs->pkt[gs->pkt_len++] = (char)c;
			else
				gs->pkt_overflow = true;
			break;
		case RX_CS1:
			gs->cs_hi = hexval(c);
			gs->rx = RX_CS2;
			break;
		case RX_CS2:
			d = hexval(c);
			gs->rx = RX_IDLE;
			if (!gs->no_ack &&
			    (gs->cs_hi < 0 || d < 0 ||
			     (uint8_t)(gs->cs_hi << 4 | d) != gs->sum)) {
				raw_write(gs, "-", 1);
				break;
			}
			if (!gs->no_ack)
				raw_write(gs, "+", 1);
			if (gs->pkt_overflow || gs->pkt_len == 0) {
				if (gs->pkt_overflow)
					send_err(gs, EINVAL);
				else
					send_str(gs, "");
				break;
			}
			handle_packet(gs, gs->pkt, gs->pkt_len);
			break;
		}
	}
}

/* ------------------------------------------------------------------------
 * Connections
 */

static void close_client(struct vmc_gdbstub *gs)
{
	if (!gs->connected)
		return;
	detach(gs);
	gs->connected = false;
	vmc_fd_handler_free(gs->fd_h);
	gs->fd_h = NULL;
	if (gs->fd >= 0)
		close(gs->fd);
	gs->fd = -1;
	free(gs->last);
	gs->last = NULL;
}

static void client_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_gdbstub *gs = userdata;
	char buf[4096];
	ssize_t n;

	(void)h;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		vmc__info("gdbstub: client disconnected");
		close_client(gs);
		return;
	}
	vmc__gdbstub_feed(gs, buf, (size_t)n);
}

static void start_session(struct vmc_gdbstub *gs)
{
	gs->connected = true;
	gs->rx = RX_IDLE;
	gs->no_ack = false;
	gs->allow_stop = false;
	gs->running = false;
	gs->g_cpu = gs->c_cpu = 0;
	/* QEMU stops a running VM when gdb attaches. */
	if (!gs->no_exec && vmc_vm_get_state(gs->vm) == VMC_VM_RUNNING)
		vmc_vm_pause(gs->vm);
}

static void listen_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_gdbstub *gs = userdata;
	int c;

	(void)h;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	if (gs->connected) {
		/* One client at a time: refuse the second cleanly. */
		vmc__info("gdbstub: refusing a second client");
		close(c);
		return;
	}
	if (gs->unix_path == NULL) {
		int one = 1;

		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (vmc_loop_add_fd(gs->loop, c, client_read, NULL, gs, &gs->fd_h) <
	    0) {
		close(c);
		return;
	}
	gs->fd = c;
	vmc__info("gdbstub: client connected");
	start_session(gs);
}

static int open_listener(struct vmc_gdbstub *gs, const char *address)
{
	int fd, r, one = 1;

	if (!strncmp(address, "unix:", 5)) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		const char *path = address + 5;
		struct stat st;
		mode_t old;

		if (!*path || strlen(path) >= sizeof(sa.sun_path))
			return -EINVAL;
		memcpy(sa.sun_path, path, strlen(path));
		gs->unix_path = strdup(path);
		if (!gs->unix_path)
			return -ENOMEM;
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		/* Created 0600 from the start: no window for others. */
		old = umask(0177);
		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
		if (r == 0)
			r = chmod(path, 0600);
	} else if (!strncmp(address, "tcp:", 4)) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		const char *host = address + 4, *colon = strrchr(host, ':');
		char hbuf[64];
		char *end;
		unsigned long port;

		if (!colon || (size_t)(colon - host) >= sizeof(hbuf))
			return -EINVAL;
		memcpy(hbuf, host, (size_t)(colon - host));
		hbuf[colon - host] = '\0';
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || port > 65535 || errno)
			return -EINVAL;
		sa.sin_port = htons((uint16_t)port);
		if (!hbuf[0] || !strcmp(hbuf, "localhost"))
			sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, hbuf, &sa.sin_addr) != 1)
			return -EINVAL;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		if (r == 0) {
			socklen_t sl = sizeof(sa);

			getsockname(fd, (struct sockaddr *)&sa, &sl);
			gs->port = ntohs(sa.sin_port);
		}
	} else {
		return -EINVAL;
	}
	if (r == 0)
		r = listen(fd, 1);
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	gs->listen_fd = fd;
	return 0;
}

static int stub_new(struct vmc_vm *vm, struct vmc_loop *loop,
		    struct vmc_gdbstub **ret)
{
	struct vmc_gdbstub *gs;
	enum vmc_arch arch = vmc_vm_get_arch(vm);
	int r;

	if (arch != VMC_ARCH_RISCV64 && arch != VMC_ARCH_X86_64)
		return -EOPNOTSUPP;
	gs = calloc(1, sizeof(*gs));
	if (!gs)
		return -ENOMEM;
	gs->stepping = calloc(vmc_vm_get_vcpu_count(vm), sizeof(bool));
	if (!gs->stepping) {
		free(gs);
		return -ENOMEM;
	}
	gs->vm = vmc_vm_ref(vm);
	gs->loop = loop;
	gs->arch = arch;
	gs->listen_fd = -1;
	gs->fd = -1;
	r = vmc_vm_add_state_handler(vm, on_state, 0, gs, &gs->state_h);
	if (r < 0) {
		vmc_gdbstub_stop(gs);
		return r;
	}
	*ret = gs;
	return 0;
}

VMC_EXPORT int vmc_gdbstub_start(struct vmc_vm *vm, struct vmc_loop *loop,
				 const char *address, struct vmc_gdbstub **ret)
{
	struct vmc_gdbstub *gs;
	int r;

	vmc_assert_return(vm && loop && address && ret, -EINVAL);
	vmc_assert_return(vmc_vm_get_loop(vm) == loop, -EINVAL);
	r = stub_new(vm, loop, &gs);
	if (r < 0)
		return r;
	r = open_listener(gs, address);
	if (r == 0)
		r = vmc_loop_add_fd(loop, gs->listen_fd, listen_read, NULL, gs,
				    &gs->listen_h);
	if (r < 0) {
		vmc_gdbstub_stop(gs);
		return r;
	}
	*ret = gs;
	return 0;
}

int vmc__gdbstub_new_session(struct vmc_vm *vm, vmc__gdb_out_cb out,
			     void *opaque, bool no_exec,
			     struct vmc_gdbstub **ret)
{
	struct vmc_gdbstub *gs;
	int r;

	r = stub_new(vm, vmc_vm_get_loop(vm), &gs);
	if (r < 0)
		return r;
	gs->out = out;
	gs->out_opaque = opaque;
	gs->no_exec = no_exec;
	start_session(gs);
	*ret = gs;
	return 0;
}

VMC_EXPORT void vmc_gdbstub_stop(struct vmc_gdbstub *gs)
{
	if (!gs)
		return;
	close_client(gs);
	vmc_fd_handler_free(gs->listen_h);
	if (gs->listen_fd >= 0)
		close(gs->listen_fd);
	if (gs->unix_path) {
		unlink(gs->unix_path);
		free(gs->unix_path);
	}
	vmc_vm_remove_state_handler(gs->vm, gs->state_h);
	vmc_vm_unref(gs->vm);
	free(gs->last);
	free(gs->stepping);
	free(gs);
}

VMC_EXPORT bool vmc_gdbstub_is_connected(const struct vmc_gdbstub *gs)
{
	return gs && gs->connected;
}

VMC_EXPORT int vmc_gdbstub_get_port(const struct vmc_gdbstub *gs)
{
	vmc_assert_return(gs, -EINVAL);
	if (gs->unix_path)
		return -ENOTSOCK;
	return gs->port;
}
