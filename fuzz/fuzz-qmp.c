/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the QMP server's input path.  Each input is one
 * client's byte stream, written in two pieces (the first byte picks the
 * split, so requests cut anywhere are covered) to a socket the server
 * serves, on a harness VM; the output is read and dropped, then the
 * client hangs up.  The server must answer or disconnect, never crash,
 * leak or grow without bound.
 *
 * tests/test-qmp-fuzz.c includes this file and runs the same function on
 * pseudo-random and mutated requests, so CI exercises it without clang.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct qmp_fuzz {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_qmp *qmp;
};

static struct qmp_fuzz qmp_fuzz_state;

static void qmp_fuzz_cmd(struct vmc_qmp_request *req, void *userdata)
{
	const struct vmc_qmp_value *v = vmc_qmp_request_get_arg(req, "v");
	struct vmc_qmp_value *o;
	char *s = NULL;

	/* Echo the argument back through the value API. */
	if (vmc_qmp_value_to_json(v, &s) < 0 ||
	    vmc_qmp_value_parse(s, strlen(s), &o) < 0) {
		free(s);
		vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR, "bad value");
		return;
	}
	free(s);
	vmc_qmp_request_return(req, o);
}

static int qmp_fuzz_init(struct qmp_fuzz *f)
{
	static const struct vmc_qmp_arg args[] = {
		{"v", VMC_QMP_ANY, false},
		{"n", VMC_QMP_NUMBER, true},
		{NULL, 0, false},
	};
	struct vmc_vm_config c;
	struct vmc_qmp_config q;

	if (vmc_loop_new(&f->loop) < 0)
		return -1;
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.vcpus = 2;
	c.loop = f->loop;
	if (vmc_vm_new(&c, &f->vm) < 0)
		return -1;
	vmc_qmp_config_init(&q);
	q.name = "fuzz";
	q.max_message = 8192;
	q.max_output = 1 << 20;
	if (vmc_qmp_new(f->vm, &q, &f->qmp) < 0)
		return -1;
	return vmc_qmp_add_command(f->qmp, "x-echo", args, qmp_fuzz_cmd, NULL);
}

static void qmp_fuzz_fini(struct qmp_fuzz *f)
{
	vmc_qmp_free(f->qmp);
	vmc_vm_unref(f->vm);
	vmc_loop_unref(f->loop);
}

/* Run the loop until it has nothing left to do for a while. */
static void qmp_fuzz_drain(struct qmp_fuzz *f, int peer)
{
	char buf[4096];

	for (int idle = 0; idle < 3;) {
		ssize_t n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);

		vmc_loop_run_once(f->loop, false);
		idle = n > 0 ? 0 : idle + 1;
	}
}

static void qmp_fuzz_one(struct qmp_fuzz *f, const uint8_t *data, size_t size)
{
	size_t split = size ? data[0] % (size + 1) : 0;
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	if (vmc_qmp_add_fd(f->qmp, sp[0], NULL) < 0)
		abort();
	close(sp[0]);
	for (size_t off = 0, end = split; off < size; end = size) {
		ssize_t n = send(sp[1], data + off, end - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN)
			break;
		if (n > 0)
			off += (size_t)n;
		qmp_fuzz_drain(f, sp[1]);
	}
	qmp_fuzz_drain(f, sp[1]);
	close(sp[1]);
	while (vmc_qmp_get_client_count(f->qmp))
		vmc_loop_run_once(f->loop, false);
	/* Let the server reap the monitor. */
	vmc_loop_run_once(f->loop, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		if (qmp_fuzz_init(&qmp_fuzz_state) < 0)
			abort();
		ready = true;
	}
	qmp_fuzz_one(&qmp_fuzz_state, data, size);
	return 0;
}
