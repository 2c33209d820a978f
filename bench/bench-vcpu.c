/* SPDX-License-Identifier: MIT */
/*
 * bench/vcpu: the cost of libvmcore's vCPU lifecycle primitives against the
 * bare pthread mechanism they are built on, measured in the same run.
 *
 *  1. Work-item round trip: vmc_vcpu_run_sync() from the loop thread to an
 *     idle vCPU, against a bare mutex+condvar handshake between two
 *     threads (the waker sets a flag and signals, the sleeper runs an
 *     empty function, sets done and signals back).
 *  2. Pause-all + resume-all with 1, 2 and 4 vCPUs, against a bare
 *     "stop N threads and wait for all acks, then release them"
 *     handshake with the same number of threads.
 *
 * Both sides alternate in several rounds; the figure is the median of the
 * per-round ratios, since this machine is shared and noisy.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvmcore/libvmcore.h>

#define ROUNDS 7

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* ---- bare baseline: N sleeper threads on one mutex ---------------------- */

struct bare {
	pthread_mutex_t m;
	pthread_cond_t wake, ack;
	int nthreads;
	long request;	/* generation of the last request */
	long acked[8];	/* per thread: generation acknowledged */
	bool stop_mode; /* stop: threads park until released */
	long released;	/* generation of the last release */
	bool quit;
};

struct bare_arg {
	struct bare *b;
	int id;
};

static void *bare_thread(void *arg)
{
	struct bare_arg *a = arg;
	struct bare *b = a->b;
	long seen = 0;

	pthread_mutex_lock(&b->m);
	for (;;) {
		while (b->request == seen && !b->quit)
			pthread_cond_wait(&b->wake, &b->m);
		if (b->quit)
			break;
		seen = b->request;
		b->acked[a->id] = seen;
		pthread_cond_broadcast(&b->ack);
		if (b->stop_mode)
			while (b->released != seen && !b->quit)
				pthread_cond_wait(&b->wake, &b->m);
	}
	pthread_mutex_unlock(&b->m);
	return NULL;
}

static void bare_start(struct bare *b, pthread_t *th, struct bare_arg *args,
		       int n, bool stop_mode)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->m, NULL);
	pthread_cond_init(&b->wake, NULL);
	pthread_cond_init(&b->ack, NULL);
	b->nthreads = n;
	b->stop_mode = stop_mode;
	for (int i = 0; i < n; i++) {
		args[i] = (struct bare_arg){b, i};
		pthread_create(&th[i], NULL, bare_thread, &args[i]);
	}
}

static void bare_stop(struct bare *b, pthread_t *th)
{
	pthread_mutex_lock(&b->m);
	b->quit = true;
	pthread_cond_broadcast(&b->wake);
	pthread_mutex_unlock(&b->m);
	for (int i = 0; i < b->nthreads; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&b->m);
	pthread_cond_destroy(&b->wake);
	pthread_cond_destroy(&b->ack);
}

/* One request to every thread, wait for all acks (then release them). */
static void bare_roundtrip(struct bare *b)
{
	pthread_mutex_lock(&b->m);
	b->request++;
	pthread_cond_broadcast(&b->wake);
	for (int i = 0; i < b->nthreads; i++)
		while (b->acked[i] != b->request)
			pthread_cond_wait(&b->ack, &b->m);
	if (b->stop_mode) {
		b->released = b->request;
		pthread_cond_broadcast(&b->wake);
	}
	pthread_mutex_unlock(&b->m);
}

static double bare_ns(int nthreads, bool stop_mode, long iters)
{
	struct bare b;
	pthread_t th[8];
	struct bare_arg args[8];
	int64_t t0;

	bare_start(&b, th, args, nthreads, stop_mode);
	for (int i = 0; i < 100; i++)
		bare_roundtrip(&b);
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		bare_roundtrip(&b);
	t0 = now_ns() - t0;
	bare_stop(&b, th);
	return (double)t0 / (double)iters;
}

/* ---- libvmcore ------------------------------------------------------------
 */

static void nop_cb(struct vmc_vcpu *vcpu, void *userdata)
{
}

static struct vmc_vm *new_vm(struct vmc_loop *loop, unsigned int n)
{
	struct vmc_vm_config c;
	struct vmc_vm *vm;

	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.vcpus = n;
	c.loop = loop;
	if (vmc_vm_new(&c, &vm) < 0) {
		fprintf(stderr, "bench-vcpu: cannot create a VM\n");
		exit(1);
	}
	return vm;
}

static double vmc_sync_ns(struct vmc_loop *loop, long iters)
{
	struct vmc_vm *vm = new_vm(loop, 1);
	struct vmc_vcpu *v = vmc_vm_get_vcpu(vm, 0);
	int64_t t0;

	vmc_vm_start(vm);
	for (int i = 0; i < 100; i++)
		vmc_vcpu_run_sync(v, nop_cb, NULL);
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		vmc_vcpu_run_sync(v, nop_cb, NULL);
	t0 = now_ns() - t0;
	vmc_vm_unref(vm);
	return (double)t0 / (double)iters;
}

static double vmc_pause_ns(struct vmc_loop *loop, unsigned int n, long iters)
{
	struct vmc_vm *vm = new_vm(loop, n);
	int64_t t0;

	vmc_vm_start(vm);
	for (int i = 0; i < 50; i++) {
		vmc_vm_pause(vm);
		vmc_vm_resume(vm);
	}
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		vmc_vm_pause(vm);
		vmc_vm_resume(vm);
	}
	t0 = now_ns() - t0;
	vmc_vm_unref(vm);
	return (double)t0 / (double)iters;
}

int main(int argc, char **argv)
{
	struct vmc_loop *loop;
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	double ratio[ROUNDS], ours[ROUNDS], base[ROUNDS];

	if (vmc_loop_new(&loop) < 0)
		return 1;

	for (int r = 0; r < ROUNDS; r++) {
		base[r] = bare_ns(1, false, iters);
		ours[r] = vmc_sync_ns(loop, iters);
		ratio[r] = ours[r] / base[r];
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("run_sync round trip: libvmcore %.0f ns, pthread handshake "
	       "%.0f ns, ratio %.2fx (median of %d rounds)\n",
	       median(ours, ROUNDS), median(base, ROUNDS),
	       median(ratio, ROUNDS), ROUNDS);

	for (unsigned int n = 1; n <= 4; n *= 2) {
		for (int r = 0; r < ROUNDS; r++) {
			base[r] = bare_ns((int)n, true, iters / 4);
			ours[r] = vmc_pause_ns(loop, n, iters / 4);
			ratio[r] = ours[r] / base[r];
		}
		printf("pause+resume, %u vCPU%s: libvmcore %.0f ns, pthread "
		       "stop handshake %.0f ns, ratio %.2fx\n",
		       n, n > 1 ? "s" : "", median(ours, ROUNDS),
		       median(base, ROUNDS), median(ratio, ROUNDS));
	}
	vmc_loop_unref(loop);
	return 0;
}
