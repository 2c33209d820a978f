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
 *   net      bring eth0 up (SIOCSIFFLAGS) and talk to the host over an
 *            AF_PACKET socket, EtherType 0x88b5 (see net_loop())
 *                                              VMC net-mac <mac> ...
 *   nettap   configure eth0 as 10.0.2.15/24 (SIOCSIFADDR/SIOCSIFNETMASK)
 *            and run the same exchange over UDP with 10.0.2.2:5555
 *   vsock    accept a host connection on vsock port 1234 and answer it,
 *            then connect to CID 2 port 5000 (see act_vsock())
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
#define SYS_socket 198
#define SYS_bind 200
#define SYS_listen 201
#define SYS_accept 202
#define SYS_connect 203
#define SYS_sendto 206
#define SYS_recvfrom 207
#define SYS_setsockopt 208
#define SYS_shutdown 210

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

/* ---- The network: raw sockets, raw ioctls, no IP configuration. ---- */

#define AF_INET 2
#define AF_PACKET 17
#define AF_VSOCK 40
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOL_SOCKET 1
#define SO_RCVTIMEO 20 /* SO_RCVTIMEO_OLD: a struct timeval of two longs */
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define SIOCSIFADDR 0x8916
#define SIOCSIFNETMASK 0x891c
#define SIOCGIFHWADDR 0x8927
#define SIOCGIFINDEX 0x8933
#define IFF_UP 0x1
#define IFF_RUNNING 0x40
#define EAGAIN 11
#define ETH_P_VMC 0x88b5
#define TAG 16 /* every payload starts with a 16-byte tag */

struct ifreq_ {
	char name[16];
	union {
		short flags;
		int ifindex;
		struct {
			unsigned short family;
			unsigned char data[14];
		} addr;
		char pad[24];
	} u;
};

struct sockaddr_ll_ {
	unsigned short family;
	unsigned short protocol; /* big-endian */
	int ifindex;
	unsigned short hatype;
	unsigned char pkttype;
	unsigned char halen;
	unsigned char addr[8];
};

struct sockaddr_in_ {
	unsigned short family;
	unsigned short port; /* big-endian */
	unsigned char addr[4];
	unsigned char zero[8];
};

struct sockaddr_vm_ {
	unsigned short family;
	unsigned short reserved;
	unsigned int port;
	unsigned int cid;
	unsigned char flags;
	unsigned char zero[3];
};

static unsigned short be16(unsigned short v)
{
	return (unsigned short)(v << 8 | v >> 8);
}

static void out_mac(const unsigned char *m)
{
	for (int i = 0; i < 6; i++) {
		if (i)
			out(":");
		out_hex(m + i, 1);
	}
}

static void set_rcvtimeo(int fd, long sec)
{
	long tv[2] = {sec, 0};

	sys6(SYS_setsockopt, fd, SOL_SOCKET, SO_RCVTIMEO, (long)tv, sizeof(tv),
	     0);
}

/* Up eth0 through @fd; print its MAC, index and flags. */
static int eth0_up(int fd, unsigned char mac[6])
{
	struct ifreq_ ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.name, "eth0", 5);
	r = sys3(SYS_ioctl, fd, SIOCGIFHWADDR, &ifr);
	memcpy(mac, ifr.u.addr.data, 6);
	out("VMC net-mac ");
	out_mac(mac);
	out(" ");
	out_num(r);
	out("\n");
	r = sys3(SYS_ioctl, fd, SIOCGIFFLAGS, &ifr);
	ifr.u.flags |= IFF_UP;
	result_num("net-up",
		   r < 0 ? r : sys3(SYS_ioctl, fd, SIOCSIFFLAGS, &ifr));
	sys3(SYS_ioctl, fd, SIOCGIFINDEX, &ifr);
	result_num("net-ifindex", ifr.u.ifindex);
	return ifr.u.ifindex;
}

/* After the exchange: IFF_RUNNING needs the kernel's link watch, which
 * may run up to a second after IFF_UP; wait for it up to 3 s. */
static void eth0_flags(int fd)
{
	static const long tenth[2] = {0, 100000000};
	struct ifreq_ ifr;
	char buf[8];

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.name, "eth0", 5);
	for (int i = 0; i < 30; i++) {
		sys3(SYS_ioctl, fd, SIOCGIFFLAGS, &ifr);
		if (ifr.u.flags & IFF_RUNNING)
			break;
		sys3(SYS_nanosleep, tenth, 0, 0);
	}
	result_num("net-flags", (unsigned short)ifr.u.flags);
	if (read_file("/sys/class/net/eth0/carrier", buf, sizeof(buf)) < 0)
		buf[0] = 0;
	result("net-carrier", buf);
}

static unsigned int csum(const unsigned char *p, size_t n)
{
	unsigned int s = 0;

	for (size_t i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

static void out_unum(unsigned int v)
{
	out_num((long)v);
}

/*
 * The exchange, on frames (@hdr = 14: Ethernet header, EtherType 0x88b5)
 * or UDP datagrams (@hdr = 0, sent to @to).  Payloads start with a tag:
 *
 *   guest: "vmc-guest-hello " + 984 bytes (i * 7 + 3), resent every second
 *          until the host answers (a peer may not be there yet)
 *   host:  "vmc-host-reply  " + data  -> VMC net-reply <len> <csum>
 *   host:  "vmc-host-ping   " + data  -> the guest answers
 *          "vmc-guest-echo  " + data ^ 0xa5 (to the frame's source)
 *   host:  "vmc-host-end    "         -> VMC net-done <echoed> <replies>
 *
 * <csum> is s = s * 31 + byte over the payload after the tag.
 */
static void net_loop(int fd, size_t hdr, const unsigned char mac[6],
		     const void *to, size_t tolen)
{
	static unsigned char in[2048], o[2048];
	int replies = 0, echoed = 0, hellos = 0, idle = 0;
	size_t n = hdr + 1000;
	long r;

	set_rcvtimeo(fd, 1);
	memset(o, 0xff, 6);
	memcpy(o + 6, mac, 6);
	o[12] = ETH_P_VMC >> 8;
	o[13] = ETH_P_VMC & 0xff;
	memcpy(o + hdr, "vmc-guest-hello ", TAG);
	for (size_t i = 0; i < n - hdr - TAG; i++)
		o[hdr + TAG + i] = (unsigned char)(i * 7 + 3);
	r = sys6(SYS_sendto, fd, (long)o, n, 0, (long)to, tolen);
	result_num("net-hello-sent", r);
	for (;;) {
		r = sys6(SYS_recvfrom, fd, (long)in, sizeof(in), 0, 0, 0);
		if (r == -EAGAIN) {
			if (++idle == 30)
				break;
			if (!replies && ++hellos < 30)
				sys6(SYS_sendto, fd, (long)o, n, 0, (long)to,
				     tolen);
			continue;
		}
		if (r < 0) {
			result_num("net-recv-error", r);
			break;
		}
		idle = 0;
		if ((size_t)r < hdr + TAG)
			continue;
		if (!sncmp((char *)in + hdr, "vmc-host-reply  ", TAG)) {
			out("VMC net-reply ");
			out_num(r - (long)hdr);
			out(" ");
			out_unum(csum(in + hdr + TAG, r - hdr - TAG));
			out("\n");
			replies++;
		} else if (!sncmp((char *)in + hdr, "vmc-host-ping   ", TAG)) {
			size_t len = (size_t)r;

			memcpy(o, in, len);
			if (hdr) {
				memcpy(o, in + 6, 6);
				memcpy(o + 6, mac, 6);
			}
			memcpy(o + hdr, "vmc-guest-echo  ", TAG);
			for (size_t i = hdr + TAG; i < len; i++)
				o[i] = in[i] ^ 0xa5;
			r = sys6(SYS_sendto, fd, (long)o, len, 0, (long)to,
				 tolen);
			if (r != (long)len)
				result_num("net-echo-error", r);
			else
				echoed++;
		} else if (!sncmp((char *)in + hdr, "vmc-host-end    ", TAG)) {
			break;
		}
	}
	out("VMC net-done ");
	out_num(echoed);
	out(" ");
	out_num(replies);
	out("\n");
}

static void act_net(void)
{
	unsigned char mac[6];
	struct sockaddr_ll_ sa;
	int fd = (int)sys3(SYS_socket, AF_PACKET, SOCK_RAW, be16(ETH_P_VMC));

	if (fd < 0) {
		result_num("net-socket-error", fd);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.family = AF_PACKET;
	sa.protocol = be16(ETH_P_VMC);
	sa.ifindex = eth0_up(fd, mac);
	result_num("net-bind", sys3(SYS_bind, fd, &sa, sizeof(sa)));
	net_loop(fd, 14, mac, 0, 0);
	eth0_flags(fd);
	sys3(SYS_close, fd, 0, 0);
}

static void act_nettap(void)
{
	static const unsigned char ip[4] = {10, 0, 2, 15};
	static const unsigned char mask[4] = {255, 255, 255, 0};
	unsigned char mac[6];
	struct ifreq_ ifr;
	struct sockaddr_in_ sa, to;
	int fd = (int)sys3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	long r;

	if (fd < 0) {
		result_num("net-socket-error", fd);
		return;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.name, "eth0", 5);
	memset(&sa, 0, sizeof(sa));
	sa.family = AF_INET;
	memcpy(sa.addr, ip, 4);
	memcpy(&ifr.u, &sa, sizeof(ifr.u.addr));
	r = sys3(SYS_ioctl, fd, SIOCSIFADDR, &ifr);
	result_num("net-ifaddr", r);
	memcpy(sa.addr, mask, 4);
	memcpy(&ifr.u, &sa, sizeof(ifr.u.addr));
	result_num("net-netmask", sys3(SYS_ioctl, fd, SIOCSIFNETMASK, &ifr));
	eth0_up(fd, mac);
	memset(&sa, 0, sizeof(sa));
	sa.family = AF_INET;
	sa.port = be16(7777);
	result_num("net-bind", sys3(SYS_bind, fd, &sa, sizeof(sa)));
	to = sa;
	to.port = be16(5555);
	to.addr[0] = 10;
	to.addr[1] = 0;
	to.addr[2] = 2;
	to.addr[3] = 2;
	net_loop(fd, 0, mac, &to, sizeof(to));
	eth0_flags(fd);
	sys3(SYS_close, fd, 0, 0);
}

static long read_full(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		long r = sys3(SYS_read, fd, p + got, n - got);

		if (r <= 0)
			return got ? (long)got : r;
		got += (size_t)r;
	}
	return (long)got;
}

static long write_full(int fd, const unsigned char *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		long r = sys3(SYS_write, fd, p + done, n - done);

		if (r <= 0)
			return r;
		done += (size_t)r;
	}
	return (long)done;
}

#define VSOCK_MAX (256 << 10)

/*
 * vsock both ways, on messages of a 4-byte big-endian length and data:
 *   1. listen on port 1234; the host connects and sends a message; the
 *      guest answers with the data ^ 0x5a and closes
 *                                      VMC vsock-in <len> <csum>
 *   2. connect to CID 2 port 5001, where nobody listens
 *                                      VMC vsock-refused <errno>
 *   3. connect to CID 2 port 5000 and send a message of 200000 bytes
 *      (i * 13 + 1); the host answers with a line ending in "\n"
 *                                      VMC vsock-out <sent> <reply>
 */
static void act_vsock(void)
{
	static unsigned char buf[VSOCK_MAX + 4];
	struct sockaddr_vm_ sa;
	int fd = (int)sys3(SYS_socket, AF_VSOCK, SOCK_STREAM, 0), c;
	long r, len;

	if (fd < 0) {
		result_num("vsock-socket-error", fd);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.family = AF_VSOCK;
	sa.port = 1234;
	sa.cid = 0xffffffffu; /* VMADDR_CID_ANY */
	r = sys3(SYS_bind, fd, &sa, sizeof(sa));
	if (!r)
		r = sys3(SYS_listen, fd, 1, 0);
	set_rcvtimeo(fd, 30);
	result_num("vsock-listen", r);
	c = (int)sys3(SYS_accept, fd, 0, 0);
	if (c < 0) {
		result_num("vsock-accept-error", c);
	} else {
		set_rcvtimeo(c, 30);
		r = read_full(c, buf, 4);
		len = r == 4 ? (long)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 |
				       buf[3]
			     : -1;
		if (len < 0 || len > VSOCK_MAX) {
			result_num("vsock-in-error", r == 4 ? len : r);
		} else {
			r = read_full(c, buf + 4, (size_t)len);
			out("VMC vsock-in ");
			out_num(r);
			out(" ");
			out_unum(csum(buf + 4, r > 0 ? (size_t)r : 0));
			out("\n");
			for (long i = 4; i < 4 + len; i++)
				buf[i] ^= 0x5a;
			r = write_full(c, buf, 4 + (size_t)len);
			result_num("vsock-in-answered", r);
		}
		sys3(SYS_close, c, 0, 0);
	}
	sys3(SYS_close, fd, 0, 0);

	/* Nobody listens on the host's port 5001: refused, not a hang. */
	fd = (int)sys3(SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.family = AF_VSOCK;
	sa.port = 5001;
	sa.cid = 2; /* VMADDR_CID_HOST */
	result_num("vsock-refused", sys3(SYS_connect, fd, &sa, sizeof(sa)));
	sys3(SYS_close, fd, 0, 0);

	fd = (int)sys3(SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
	sa.port = 5000;
	r = sys3(SYS_connect, fd, &sa, sizeof(sa));
	result_num("vsock-connect", r);
	if (r < 0) {
		sys3(SYS_close, fd, 0, 0);
		return;
	}
	set_rcvtimeo(fd, 30);
	len = 200000;
	buf[0] = 0;
	buf[1] = (unsigned char)(len >> 16);
	buf[2] = (unsigned char)(len >> 8);
	buf[3] = (unsigned char)len;
	for (long i = 0; i < len; i++)
		buf[4 + i] = (unsigned char)(i * 13 + 1);
	r = write_full(fd, buf, 4 + (size_t)len);
	out("VMC vsock-out ");
	out_num(r);
	out(" ");
	len = 0;
	while (len < 200 && (r = sys3(SYS_read, fd, buf + len, 1)) == 1 &&
	       buf[len] != '\n')
		len++;
	sys3(SYS_write, 1, buf, len);
	out("\n");
	sys3(SYS_close, fd, 0, 0);
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
	else if (n == 3 && !sncmp(a, "net", 3))
		act_net();
	else if (n == 6 && !sncmp(a, "nettap", 6))
		act_nettap();
	else if (n == 5 && !sncmp(a, "vsock", 5))
		act_vsock();
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
