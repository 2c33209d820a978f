/* SPDX-License-Identifier: MIT */
/*
 * /init of the linux test suite's initramfs: no C library, raw RISC-V
 * Linux system calls.  It mounts /dev, /proc and /sys, prints
 * "VMC-INIT up" (the host measures boot time to here), runs the actions
 * named on the kernel command line and powers off:
 *
 *   vmc.test=ACTION[,ACTION...]
 *
 *   cmdline  print /proc/cmdline               VMC cmdline <text>
 *   initrd   print what /proc says about it    VMC initrd <bytes freed line>
 *   blk      read /dev/vda's first sector and write sector 1 (then
 *            fsync); print both, the size, the serial and the sysfs
 *            path (which names the virtio-mmio slot)
 *                                              VMC blk-read <hex> ...
 *   blkro    try to write /dev/vda             VMC blkro open|write <errno>
 *   hvc      write a line on /dev/hvc0, read one back and echo it on the
 *            serial console                    VMC hvc-got <line>
 *   rng      read 32 bytes twice from /dev/hwrng; print the hex and which
 *            driver /sys says is current      VMC rng <hex> <hex> <drv>
 *   smp      print /sys/devices/system/cpu/online   VMC cpus <list>
 *   run:NAME fork and exec /bin/NAME, wait     VMC run NAME status <n>
 *   exec:PATH  like run, with an absolute PATH
 *
 * Every result line starts with "VMC "; "VMC-INIT done" ends the run.
 * Built with -nostdlib -static; see tests/linux/meson.build.
 */
typedef unsigned long size_t;
typedef long ssize_t;

#define SYS_dup3 24
#define SYS_ioctl 29
#define SYS_mkdirat 34
#define SYS_mount 40
#define SYS_openat 56
#define SYS_close 57
#define SYS_read 63
#define SYS_write 64
#define SYS_pread64 67
#define SYS_pwrite64 68
#define SYS_readlinkat 78
#define SYS_fsync 82
#define SYS_sync 81
#define SYS_exit 93
#define SYS_nanosleep 101
#define SYS_reboot 142
#define SYS_clone 220
#define SYS_execve 221
#define SYS_wait4 260

#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_NOCTTY 0400
#define SIGCHLD 17

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long a0 __asm__("a0") = a;
	register long a1 __asm__("a1") = b;
	register long a2 __asm__("a2") = c;
	register long a3 __asm__("a3") = d;
	register long a4 __asm__("a4") = e;
	register long a5 __asm__("a5") = f;
	register long a7 __asm__("a7") = n;

	__asm__ volatile("ecall"
			 : "+r"(a0)
			 : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7)
			 : "memory");
	return a0;
}
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static size_t slen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static int sncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return 1;
		if (!a[i])
			return 0;
	}
	return 0;
}

/* GCC may emit calls to these for struct copies and loops. */
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

static void out(const char *s)
{
	sys3(SYS_write, 1, s, slen(s));
}

static void out_num(long v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	*--p = 0;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	out(p);
}

static void out_hex(const unsigned char *b, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char buf[2];

	for (size_t i = 0; i < n; i++) {
		buf[0] = hx[b[i] >> 4];
		buf[1] = hx[b[i] & 15];
		sys3(SYS_write, 1, buf, 2);
	}
}

static int open_(const char *path, int flags)
{
	return (int)sys6(SYS_openat, AT_FDCWD, (long)path, flags, 0, 0, 0);
}

/* Read a small file into @buf (NUL-terminated, trailing newline cut). */
static long read_file(const char *path, char *buf, size_t len)
{
	int fd = open_(path, O_RDONLY);
	long n, total = 0;

	if (fd < 0)
		return fd;
	while ((size_t)total < len - 1 &&
	       (n = sys3(SYS_read, fd, buf + total, len - 1 - total)) > 0)
		total += n;
	sys3(SYS_close, fd, 0, 0);
	while (total > 0 && buf[total - 1] == '\n')
		total--;
	buf[total] = 0;
	return total;
}

static void result(const char *what, const char *text)
{
	out("VMC ");
	out(what);
	out(" ");
	out(text);
	out("\n");
}

static void result_num(const char *what, long v)
{
	out("VMC ");
	out(what);
	out(" ");
	out_num(v);
	out("\n");
}

static char cmdline[4096];

static void act_cmdline(void)
{
	result("cmdline", cmdline);
}

/* The disk: the host wrote a known first sector; the guest writes the
 * second and flushes, and the host checks its file afterwards. */
static void act_blk(void)
{
	static unsigned char sec[512];
	static const char msg[] = "written by the guest's /init";
	int fd = open_("/dev/vda", O_RDWR);
	long r;

	if (fd < 0) {
		result_num("blk-open-error", fd);
		return;
	}
	r = sys6(SYS_pread64, fd, (long)sec, 512, 0, 0, 0);
	out("VMC blk-read ");
	out_num(r);
	out(" ");
	out_hex(sec, 32);
	out("\n");
	memset(sec, 0, sizeof(sec));
	memcpy(sec, msg, sizeof(msg));
	for (int i = 64; i < 512; i++)
		sec[i] = (unsigned char)i;
	r = sys6(SYS_pwrite64, fd, (long)sec, 512, 512, 0, 0);
	result_num("blk-write", r);
	result_num("blk-fsync", sys3(SYS_fsync, fd, 0, 0));
	sys3(SYS_close, fd, 0, 0);
	if (read_file("/sys/block/vda/size", (char *)sec, sizeof(sec)) < 0)
		sec[0] = 0;
	result("blk-sectors", (char *)sec);
	if (read_file("/sys/block/vda/serial", (char *)sec, sizeof(sec)) < 0)
		sec[0] = 0;
	result("blk-serial", (char *)sec);
	/* Which virtio-mmio slot the disk sits in. */
	r = sys6(SYS_readlinkat, AT_FDCWD, (long)"/sys/block/vda", (long)sec,
		 sizeof(sec) - 1, 0, 0);
	sec[r > 0 ? r : 0] = 0;
	result("blk-sysfs", (char *)sec);
}

/* A read-only disk: opening for writing, or writing, must fail. */
static void act_blkro(void)
{
	static unsigned char sec[512];
	int fd = open_("/dev/vda", O_RDWR);
	long r;

	if (fd < 0) {
		result_num("blkro-open", fd);
		fd = open_("/dev/vda", O_RDONLY);
		r = sys6(SYS_pread64, fd, (long)sec, 512, 0, 0, 0);
		out("VMC blkro-read ");
		out_num(r);
		out(" ");
		out_hex(sec, 32);
		out("\n");
		sys3(SYS_close, fd, 0, 0);
		return;
	}
	result_num("blkro-open", 0);
	memset(sec, 0xee, sizeof(sec));
	r = sys6(SYS_pwrite64, fd, (long)sec, 512, 0, 0, 0);
	result_num("blkro-write", r);
	result_num("blkro-fsync", sys3(SYS_fsync, fd, 0, 0));
	sys3(SYS_close, fd, 0, 0);
}

/* The virtio console both ways: a line out, a line in (echoed). */
static void act_hvc(void)
{
	static const char hello[] = "hello from the guest on hvc0\n";
	char line[256];
	size_t n = 0;
	int fd = open_("/dev/hvc0", O_RDWR | O_NOCTTY);
	long r;

	if (fd < 0) {
		result_num("hvc-open-error", fd);
		return;
	}
	/* A raw line discipline is not needed: the host sends one line
	 * ending in "\n" and the tty's canonical mode hands it over whole. */
	r = sys3(SYS_write, fd, hello, sizeof(hello) - 1);
	result_num("hvc-wrote", r);
	while (n < sizeof(line) - 1) {
		r = sys3(SYS_read, fd, line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (line[n - 1] == '\n')
			break;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	line[n] = 0;
	result("hvc-got", line);
	sys3(SYS_write, fd, "echo: ", 6);
	sys3(SYS_write, fd, line, n);
	sys3(SYS_write, fd, "\n", 1);
	sys3(SYS_close, fd, 0, 0);
}

static void act_rng(void)
{
	unsigned char a[32], b[32];
	char drv[64];
	int fd = open_("/dev/hwrng", O_RDONLY);
	long ra, rb;

	if (fd < 0) {
		result_num("rng-open-error", fd);
		return;
	}
	ra = sys3(SYS_read, fd, a, sizeof(a));
	rb = sys3(SYS_read, fd, b, sizeof(b));
	sys3(SYS_close, fd, 0, 0);
	if (read_file("/sys/class/misc/hw_random/rng_current", drv,
		      sizeof(drv)) < 0)
		drv[0] = 0;
	out("VMC rng ");
	out_num(ra);
	out(" ");
	out_num(rb);
	out(" ");
	out_hex(a, sizeof(a));
	out(" ");
	out_hex(b, sizeof(b));
	out(" ");
	out(drv);
	out("\n");
}

static void act_smp(void)
{
	char buf[64];

	if (read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)) < 0)
		buf[0] = 0;
	result("cpus", buf);
}

static void act_initrd(void)
{
	char buf[64];

	/* /init runs from the initramfs the board loaded: that is the test;
	 * this also shows the root is a ram filesystem. */
	if (read_file("/proc/self/mountinfo", buf, sizeof(buf)) < 0)
		buf[0] = 0;
	result("initrd-root", buf);
}

static void act_run(const char *path, const char *name)
{
	const char *argv[] = {path, 0};
	const char *envp[] = {"PATH=/bin", 0};
	int status = 0;
	long pid = sys6(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);

	if (pid == 0) {
		sys3(SYS_execve, path, argv, envp);
		sys3(SYS_exit, 127, 0, 0);
	}
	if (pid < 0) {
		result_num("run-clone-error", pid);
		return;
	}
	sys6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0);
	out("VMC run ");
	out(name);
	out(" status ");
	out_num(status);
	out("\n");
}

static void run_action(const char *a, size_t n)
{
	static char path[128];

	if (n == 7 && !sncmp(a, "cmdline", 7))
		act_cmdline();
	else if (n == 3 && !sncmp(a, "blk", 3))
		act_blk();
	else if (n == 5 && !sncmp(a, "blkro", 5))
		act_blkro();
	else if (n == 3 && !sncmp(a, "hvc", 3))
		act_hvc();
	else if (n == 3 && !sncmp(a, "rng", 3))
		act_rng();
	else if (n == 3 && !sncmp(a, "smp", 3))
		act_smp();
	else if (n == 6 && !sncmp(a, "initrd", 6))
		act_initrd();
	else if (n > 4 && n < 100 && !sncmp(a, "run:", 4)) {
		memcpy(path, "/bin/", 5);
		memcpy(path + 5, a + 4, n - 4);
		path[n + 1] = 0;
		act_run(path, path + 5);
	} else if (n > 5 && n < 120 && !sncmp(a, "exec:", 5)) {
		memcpy(path, a + 5, n - 5);
		path[n - 5] = 0;
		act_run(path, path);
	} else {
		out("VMC unknown-action ");
		sys3(SYS_write, 1, a, n);
		out("\n");
	}
}

static void run_actions(void)
{
	static const char key[] = "vmc.test=";
	const char *p = cmdline;

	while (*p) {
		const char *w = p;
		size_t len = 0;

		while (w[len] && w[len] != ' ')
			len++;
		if (len > sizeof(key) - 1 && !sncmp(w, key, sizeof(key) - 1)) {
			const char *a = w + sizeof(key) - 1;
			const char *end = w + len;

			while (a < end) {
				size_t n = 0;

				while (a + n < end && a[n] != ',')
					n++;
				if (n)
					run_action(a, n);
				a += n + (a + n < end);
			}
		}
		p = w + len;
		while (*p == ' ')
			p++;
	}
}

static void mount_(const char *src, const char *dir, const char *type)
{
	sys6(SYS_mkdirat, AT_FDCWD, (long)dir, 0755, 0, 0, 0);
	sys6(SYS_mount, (long)src, (long)dir, (long)type, 0, 0, 0);
}

void start(void) __attribute__((noreturn, used));

void start(void)
{
	int fd;

	mount_("devtmpfs", "/dev", "devtmpfs");
	mount_("proc", "/proc", "proc");
	mount_("sysfs", "/sys", "sysfs");
	/* Without /dev/console in the initramfs the kernel gave us no fds. */
	fd = open_("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0 && fd != 1) {
		sys3(SYS_dup3, fd, 0, 0);
		sys3(SYS_dup3, fd, 1, 0);
		sys3(SYS_dup3, fd, 2, 0);
	}
	out("VMC-INIT up\n");
	if (read_file("/proc/cmdline", cmdline, sizeof(cmdline)) < 0)
		cmdline[0] = 0;
	run_actions();
	out("VMC-INIT done\n");
	sys3(SYS_sync, 0, 0, 0);
	/* LINUX_REBOOT_MAGIC1, MAGIC2, LINUX_REBOOT_CMD_POWER_OFF */
	sys6(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0, 0, 0);
	for (;;)
		sys3(SYS_exit, 0, 0, 0);
}

/* The entry: a stack the kernel set up; keep it 16-byte aligned. */
__asm__(".section .text._start\n"
	".global _start\n"
	"_start:\n"
	"  .option push\n"
	"  .option norelax\n"
	"  lla gp, __global_pointer$\n"
	"  .option pop\n"
	"  andi sp, sp, -16\n"
	"  call start\n");
