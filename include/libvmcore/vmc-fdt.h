/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-fdt.h
 * @brief Device-tree helpers over libfdt (optional libfdt interop).
 *
 * A struct vmc_fdt is a flattened device tree under construction: it
 * starts with an empty root node (vmc_fdt_begin()), nodes are added by
 * absolute path ("/soc/serial@10000000"), properties are set by node path
 * and name, and the buffer grows as needed.  vmc_fdt_finish() packs the
 * blob and checks it with fdt_check_full(); the result is an ordinary
 * libfdt blob (vmc_fdt_get_blob()) that the host copies into guest memory
 * and may inspect with libfdt, which is why this header includes
 * <libfdt.h>.
 *
 * Phandles are allocated by the tree, from 1 upwards, in the order asked
 * for (vmc_fdt_alloc_phandle()).
 *
 * Device models add their own nodes, named and shaped as on QEMU's RISC-V
 * virt board so that OpenSBI, U-Boot and Linux find them: the CPUs with
 * their interrupt controllers (vmc_fdt_add_riscv_cpus()), memory, /chosen,
 * and one vmc_<device>_fdt_add() per device.  Device nodes go under /soc
 * (a "simple-bus" with two address and two size cells, created on first
 * use).
 *
 * A struct vmc_fdt is not thread-safe; use it from one thread at a time.
 * Every function returns -EINVAL for NULL arguments, -ENOENT when a node
 * named by path does not exist, -EBUSY after vmc_fdt_finish() for anything
 * that changes the tree, and -ENOMEM when the buffer cannot grow.
 */
#ifndef LIBVMCORE_VMC_FDT_H
#define LIBVMCORE_VMC_FDT_H

#include <libfdt.h>

#include <libvmcore/vmc-common.h>

VMC_BEGIN_DECLS

struct vmc_fdt;
struct vmc_clint;
struct vmc_plic;
struct vmc_sifive_test;

/**
 * Start a tree: an empty root node with no properties.
 * @param[out] ret the new tree
 * @retval 0 success
 * @retval -EINVAL @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_fdt_begin(struct vmc_fdt **ret);

/**
 * Finish the tree: pack it and check it with fdt_check_full().  The tree
 * becomes read-only.  Calling it again is harmless.
 * @param fdt the tree
 * @param[out] ret_size the blob's size in bytes; may be NULL
 * @retval 0 success
 * @retval -EINVAL @p fdt is NULL
 * @retval -EBADMSG the tree does not pass fdt_check_full()
 * @thread any
 * @since 0.1
 */
int vmc_fdt_finish(struct vmc_fdt *fdt, size_t *ret_size);

/**
 * Free the tree and its blob.  NULL is ignored.
 * @param fdt the tree
 * @thread any
 * @since 0.1
 */
void vmc_fdt_free(struct vmc_fdt *fdt);

/**
 * The flattened tree, for libfdt; owned by @p fdt and valid until the next
 * call that changes the tree (it may move when the buffer grows) or
 * vmc_fdt_free().
 * @param fdt the tree
 * @return the blob; NULL for a NULL @p fdt
 * @thread any
 * @since 0.1
 */
const void *vmc_fdt_get_blob(const struct vmc_fdt *fdt);

/**
 * The blob's current size in bytes (fdt_totalsize()); after
 * vmc_fdt_finish(), the packed size.
 * @param fdt the tree
 * @return the size; 0 for a NULL @p fdt
 * @thread any
 * @since 0.1
 */
size_t vmc_fdt_get_size(const struct vmc_fdt *fdt);

/**
 * Add the node at absolute @p path; its parent must exist.
 * @param fdt the tree
 * @param path the new node's path
 * @retval 0 success
 * @retval -EINVAL @p path is not an absolute path with a node name
 * @retval -ENOENT the parent does not exist
 * @retval -EEXIST the node exists
 * @retval -EBUSY the tree is finished
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_fdt_add_node(struct vmc_fdt *fdt, const char *path);

/**
 * Set property @p name of node @p path to @p len bytes at @p data
 * (replacing any previous value).  @p data may be NULL when @p len is 0.
 * @param fdt the tree
 * @param path the node's path
 * @param name the property's name
 * @param data the property's value, @p len bytes
 * @param len the length of @p data in bytes
 * @retval 0 success
 * @retval -EINVAL bad argument
 * @retval -ENOENT no such node
 * @retval -EBUSY the tree is finished
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_fdt_set_prop(struct vmc_fdt *fdt, const char *path, const char *name,
		     const void *data, size_t len);

/**
 * Set an empty property (a flag such as "interrupt-controller").
 * Errors as vmc_fdt_set_prop().
 * @param fdt the tree
 * @param path the node's path
 * @param name the property's name
 * @thread any
 * @since 0.1
 */
int vmc_fdt_set_empty(struct vmc_fdt *fdt, const char *path, const char *name);

/**
 * Set a property to one 32-bit cell.  Errors as vmc_fdt_set_prop().
 * @param fdt the tree
 * @param path the node's path
 * @param name the property's name
 * @param value the value, stored big-endian
 * @thread any
 * @since 0.1
 */
int vmc_fdt_set_u32(struct vmc_fdt *fdt, const char *path, const char *name,
		    uint32_t value);

/**
 * Set a property to one 64-bit value (two cells, high first).  Errors as
 * vmc_fdt_set_prop().
 * @param fdt the tree
 * @param path the node's path
 * @param name the property's name
 * @param value the value, stored big-endian
 * @thread any
 * @since 0.1
 */
int vmc_fdt_set_u64(struct vmc_fdt *fdt, const char *path, const char *name,
		    uint64_t value);

/**
 * Set a property to @p n 32-bit cells (stored big-endian).  Errors as
 * vmc_fdt_set_prop().
 * @param fdt the tree
 * @param path the node's path
 * @param name the property's name
 * @param cells @p n 32-bit cells
 * @param n the number of cells
 * @thread any
 * @since 0.1
 */
int vmc_fdt_set_cells(struct vmc_fdt *fdt, const char *path, const char *name,
		      const uint32_t *cells, size_t n);

/**
 * Set a property to a string.  Errors as vmc_fdt_set_prop().
 * @param fdt the tree
 * @param path the node's path
 * @param name the property's name
 * @param value the string
 * @thread any
 * @since 0.1
 */
int vmc_fdt_set_string(struct vmc_fdt *fdt, const char *path, const char *name,
		       const char *value);

/**
 * Set a property to a list of @p n strings (each NUL-terminated, as
 * "compatible" lists are).  Errors as vmc_fdt_set_prop().
 * @param fdt the tree
 * @param path the node's path
 * @param name the property's name
 * @param strings @p n strings
 * @param n the number of strings
 * @thread any
 * @since 0.1
 */
int vmc_fdt_set_stringlist(struct vmc_fdt *fdt, const char *path,
			   const char *name, const char *const *strings,
			   size_t n);

/**
 * Give node @p path a phandle: its existing one, or the next free number,
 * stored in its "phandle" property.
 * @param fdt the tree
 * @param path the node's path
 * @param[out] ret the phandle
 * @retval 0 success
 * @retval -EINVAL bad argument
 * @retval -ENOENT no such node
 * @retval -EBUSY the tree is finished and the node has no phandle
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_fdt_alloc_phandle(struct vmc_fdt *fdt, const char *path, uint32_t *ret);

/**
 * Add QEMU virt's root properties ("#address-cells" and "#size-cells" 2,
 * @p model, @p compatible) and the /soc simple bus.
 * @param fdt        the tree
 * @param model      the root "model", for example "riscv-virtio,qemu"
 * @param compatible the root "compatible", for example "riscv-virtio"
 * @retval 0 success; errors as vmc_fdt_set_prop() (-EEXIST: /soc exists)
 * @thread any
 * @since 0.1
 */
int vmc_fdt_add_board(struct vmc_fdt *fdt, const char *model,
		      const char *compatible);

/**
 * Add /cpus with @p harts RISC-V harts: "timebase-frequency", then for each
 * hart a node `cpu@N` (device_type "cpu", "riscv" compatible, reg N, status
 * "okay", "riscv,isa" @p isa, "mmu-type" @p mmu_type unless NULL) with an
 * interrupt-controller child ("riscv,cpu-intc", one interrupt cell), and
 * the cpu-map with one cluster.
 * @param fdt the tree
 * @param harts the number of harts
 * @param timebase_hz the "timebase-frequency" in Hz
 * @param isa the "riscv,isa" string of every hart
 * @param mmu_type the "mmu-type" of every hart, or NULL for none
 * @param[out] ret_intc_phandles @p harts phandles of the harts'
 *             interrupt controllers (what interrupts-extended refers to)
 * @retval 0 success
 * @retval -EINVAL @p harts 0, or a NULL argument other than @p mmu_type
 * @retval -EEXIST /cpus exists
 * @retval -EBUSY the tree is finished
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_fdt_add_riscv_cpus(struct vmc_fdt *fdt, unsigned int harts,
			   uint32_t timebase_hz, const char *isa,
			   const char *mmu_type, uint32_t *ret_intc_phandles);

/**
 * Add `/memory@BASE` (device_type "memory", reg = base, size in two cells
 * each).
 * @param fdt the tree
 * @param base the guest-physical address of the memory
 * @param size its size in bytes
 * @retval 0 success
 * @retval -EINVAL @p size 0
 * @retval -EEXIST the node exists
 * @retval -EBUSY the tree is finished
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_fdt_add_memory(struct vmc_fdt *fdt, uint64_t base, uint64_t size);

/**
 * Create /chosen if needed and set "stdout-path" and "bootargs" (each
 * skipped when NULL).
 * @param fdt the tree
 * @param stdout_path the "stdout-path", or NULL
 * @param bootargs the "bootargs", or NULL
 * @retval 0 success; errors as vmc_fdt_set_prop()
 * @thread any
 * @since 0.1
 */
int vmc_fdt_set_chosen(struct vmc_fdt *fdt, const char *stdout_path,
		       const char *bootargs);

/**
 * Add the CLINT's node `/soc/clint@BASE` ("sifive,clint0", "riscv,clint0";
 * reg; interrupts-extended with each hart's MSIP and MTIP).
 * @param clint            the CLINT
 * @param fdt              the tree
 * @param base             where the board maps the CLINT
 * @param intc_phandles    the interrupt-controller phandles of every hart
 *                         of the VM, indexed by vCPU (the CLINT's hart i
 *                         uses [hart_base + i])
 * @retval 0 success
 * @retval -EINVAL NULL argument
 * @retval -ENOENT no /soc node (see vmc_fdt_add_board())
 * @retval -EEXIST the node exists
 * @retval -EBUSY the tree is finished
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_clint_fdt_add(const struct vmc_clint *clint, struct vmc_fdt *fdt,
		      uint64_t base, const uint32_t *intc_phandles);

/**
 * Add the PLIC's node `/soc/plic@BASE` ("sifive,plic-1.0.0", "riscv,plic0";
 * reg; "riscv,ndev" = num_sources - 1; interrupts-extended with each hart's
 * MEIP and SEIP, in context order; a phandle).
 * @param plic the PLIC
 * @param fdt the tree
 * @param base where the board maps the PLIC
 * @param intc_phandles as for vmc_clint_fdt_add()
 * @param[out] ret_phandle the PLIC's phandle, for the interrupt-parent of
 *             devices; may be NULL
 * @retval 0 success; errors as vmc_clint_fdt_add()
 * @thread any
 * @since 0.1
 */
int vmc_plic_fdt_add(const struct vmc_plic *plic, struct vmc_fdt *fdt,
		     uint64_t base, const uint32_t *intc_phandles,
		     uint32_t *ret_phandle);

/**
 * Add the finisher's node `/soc/test@BASE` ("sifive,test1", "sifive,test0",
 * "syscon"; a phandle) and the /poweroff ("syscon-poweroff", value 0x5555)
 * and /reboot ("syscon-reboot", value 0x7777) nodes that point at it.
 * @param test the finisher
 * @param fdt the tree
 * @param base where the board maps the finisher
 * @retval 0 success; errors as vmc_clint_fdt_add()
 * @thread any
 * @since 0.1
 */
int vmc_sifive_test_fdt_add(const struct vmc_sifive_test *test,
			    struct vmc_fdt *fdt, uint64_t base);

/**
 * Add a UART node `/soc/serial@BASE` ("ns16550a"; reg of @p size bytes;
 * "clock-frequency" @p clock_hz; interrupt-parent and interrupts), and make
 * it /chosen's stdout-path when @p is_stdout.  The UART object is not
 * needed: a board passes the values it configured the UART with (QEMU's
 * virt board: 0x100 bytes, 3686400 Hz, PLIC source 10).
 * @param fdt        the tree
 * @param base       where the board maps the UART
 * @param size       the size of the UART's registers in bytes
 * @param clock_hz   the UART's input clock in Hz
 * @param irq_parent phandle of the interrupt controller (the PLIC)
 * @param irq        the source number at that controller
 * @param is_stdout  whether to make the UART /chosen's stdout-path
 * @retval 0 success; errors as vmc_clint_fdt_add()
 * @thread any
 * @since 0.1
 */
int vmc_fdt_add_ns16550(struct vmc_fdt *fdt, uint64_t base, uint64_t size,
			uint32_t clock_hz, uint32_t irq_parent, uint32_t irq,
			bool is_stdout);

VMC_END_DECLS

#endif
