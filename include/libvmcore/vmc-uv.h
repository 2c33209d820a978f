/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-uv.h
 * @brief libuv interop: run libvmcore on a libuv loop the host already owns.
 *
 * The only public header that includes <uv.h>; include it only if your
 * program uses libuv itself.
 */
#ifndef LIBVMCORE_VMC_UV_H
#define LIBVMCORE_VMC_UV_H

#include <uv.h>
#include <libvmcore/vmc-loop.h>

VMC_BEGIN_DECLS

/**
 * Adopt the host's libuv loop.
 *
 * libvmcore adds its handles to @p uv and never closes or frees it.  The
 * host keeps running @p uv as it always does (uv_run(), or its own
 * embedding); vmc_loop_run() and friends may also be used.  @p uv must
 * outlive the vmc_loop, and the host must run it once more after the last
 * unref so libuv can finish closing libvmcore's handles.
 *
 * @param uv       the host's loop
 * @param[out] ret the new loop, with one reference
 * @retval 0 success
 * @retval -EINVAL @p uv or @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread the thread that runs @p uv
 * @since 0.1
 */
int vmc_loop_new_from_uv(uv_loop_t *uv, struct vmc_loop **ret);

/**
 * The libuv loop under a vmc_loop (its own, or the adopted one).
 * @param loop the loop
 * @return the libuv loop; NULL for a NULL @p loop
 * @thread any
 * @since 0.1
 */
uv_loop_t *vmc_loop_get_uv(struct vmc_loop *loop);

VMC_END_DECLS

#endif
