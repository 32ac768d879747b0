// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: ring allocation, resizing and the user mmap protocol.
 *
 * User rings are published through the core's per-context mmap entries:
 * the object hands user space {offset, size} (struct mminfo), user space
 * mmap()s the uverbs file at that offset, and rxe_mmap() finds the entry
 * and maps the vmalloc buffer.  The entry's refcount is held by the object
 * (dropped by rdma_user_mmap_entry_remove() at destroy or resize) and by
 * every VMA that maps it, so the buffer outlives whichever goes last.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <rdma/uverbs_ioctl.h>

#include "rxe.h"
#include "rxe_queue.h"

static void rxe_vma_open(struct vm_area_struct *vma)
{
	struct rxe_mmap *m = vma->vm_private_data;

	kref_get(&m->rdma_entry.ref);
}

static void rxe_vma_close(struct vm_area_struct *vma)
{
	struct rxe_mmap *m = vma->vm_private_data;

	rdma_user_mmap_entry_put(&m->rdma_entry);
}

static const struct vm_operations_struct rxe_vm_ops = {
	.open = rxe_vma_open,
	.close = rxe_vma_close,
};

/* ib_device_ops.mmap */
int rxe_mmap(struct ib_ucontext *ibuc, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *e;
	struct rxe_mmap *m;
	int err;

	/* Checks that the VMA covers exactly the entry; takes a reference. */
	e = rdma_user_mmap_entry_get(ibuc, vma);
	if (!e)
		return -EINVAL;
	m = container_of(e, struct rxe_mmap, rdma_entry);

	err = remap_vmalloc_range(vma, m->buf, 0);
	if (err) {
		rdma_user_mmap_entry_put(e);
		return err;
	}
	vma->vm_ops = &rxe_vm_ops;
	vma->vm_private_data = m;
	return 0;
}

/* ib_device_ops.mmap_free: the last reference to a user ring is gone. */
void rxe_mmap_free(struct rdma_user_mmap_entry *e)
{
	struct rxe_mmap *m = container_of(e, struct rxe_mmap, rdma_entry);

	vfree(m->buf);
	kfree(m);
}

static int rxe_queue_alloc(struct rxe_queue *q, struct ib_udata *udata,
			   u32 slots, u32 log2_elem)
{
	struct rxe_ucontext *uc;
	struct rxe_mmap *m;
	size_t size;
	int err;

	size = sizeof(struct rxe_queue_buf) + ((size_t)slots << log2_elem);
	q->mmap = NULL;
	if (!udata) {
		q->buf = vzalloc(size);
		return q->buf ? 0 : -ENOMEM;
	}

	uc = rdma_udata_to_drv_context(udata, struct rxe_ucontext, ibuc);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->size = PAGE_ALIGN(size);
	m->buf = vmalloc_user(m->size);
	if (!m->buf) {
		err = -ENOMEM;
		goto err_free;
	}
	err = rdma_user_mmap_entry_insert(&uc->ibuc, &m->rdma_entry, m->size);
	if (err)
		goto err_vfree;
	q->mmap = m;
	q->buf = m->buf;
	return 0;

err_vfree:
	vfree(m->buf);
err_free:
	kfree(m);
	return err;
}

static void rxe_queue_free(struct rxe_queue *q)
{
	if (q->mmap)
		rdma_user_mmap_entry_remove(&q->mmap->rdma_entry);
	else
		vfree(q->buf);
	q->buf = NULL;
	q->mmap = NULL;
}

static void rxe_queue_geometry(u32 entries, size_t elem_size, u32 *slots,
			       u32 *log2_elem)
{
	size_t slot = max_t(size_t, elem_size, cache_line_size());

	*log2_elem = order_base_2(slot);
	*slots = roundup_pow_of_two(entries + 1);
}

/**
 * rxe_queue_init() - allocate a ring
 * @rdev: device (for future accounting)
 * @q: the ring to set up
 * @udata: user data of the creating verb, or NULL for a kernel object
 * @role: which side produces and consumes
 * @num_entries: in: entries wanted; out: entries the ring really holds
 * @elem_size: bytes each entry needs
 *
 * Return: 0 or -ENOMEM.
 */
int rxe_queue_init(struct rxe_dev *rdev, struct rxe_queue *q,
		   struct ib_udata *udata, enum rxe_queue_role role,
		   u32 *num_entries, size_t elem_size)
{
	u32 slots, log2_elem;
	int err;

	rxe_queue_geometry(*num_entries, elem_size, &slots, &log2_elem);
	err = rxe_queue_alloc(q, udata, slots, log2_elem);
	if (err)
		return err;
	q->role = role;
	q->log2_elem = log2_elem;
	q->index_mask = slots - 1;
	q->prod = 0;
	q->cons = 0;
	q->buf->log2_elem_size = log2_elem;
	q->buf->index_mask = q->index_mask;
	*num_entries = q->index_mask;
	return 0;
}

/**
 * rxe_queue_cleanup() - release a ring (user mappings may outlive this)
 * @q: the ring
 */
void rxe_queue_cleanup(struct rxe_queue *q)
{
	if (q->buf)
		rxe_queue_free(q);
}

/**
 * rxe_queue_mminfo() - the {offset, size} user space must mmap
 * @q: a user ring
 * @mi: filled in
 */
void rxe_queue_mminfo(struct rxe_queue *q, struct mminfo *mi)
{
	memset(mi, 0, sizeof(*mi));
	if (!q->mmap)
		return;
	mi->offset = rdma_user_mmap_get_offset(&q->mmap->rdma_entry);
	mi->size = q->mmap->size;
}

/**
 * rxe_queue_copy_mminfo() - copy a ring's mminfo to a user pointer
 * @q: a user ring
 * @dst: user address
 *
 * Return: 0 or -EFAULT.
 */
int rxe_queue_copy_mminfo(struct rxe_queue *q, struct mminfo __user *dst)
{
	struct mminfo mi;

	rxe_queue_mminfo(q, &mi);
	return copy_to_user(dst, &mi, sizeof(mi)) ? -EFAULT : 0;
}

/**
 * rxe_queue_resize() - move a ring's entries into a ring of a new size
 * @rdev: device
 * @q: the ring; on success it describes the new buffer
 * @udata: user data of the verb (NULL for kernel objects)
 * @num_entries: in: entries wanted; out: entries the new ring holds
 * @elem_size: bytes each entry needs
 * @lock: taken (irqsave) while entries move, to hold off the kernel side
 *
 * Outstanding entries keep their order; the new consumer index is 0 and
 * the new producer index is the number of entries moved.
 *
 * Return: 0, -EINVAL if the live entries do not fit, or -ENOMEM.
 */
int rxe_queue_resize(struct rxe_dev *rdev, struct rxe_queue *q,
		     struct ib_udata *udata, u32 *num_entries,
		     size_t elem_size, spinlock_t *lock)
{
	struct rxe_queue nq = {};
	unsigned long flags;
	u32 n, i, cons, want = *num_entries;
	size_t slot;
	int err;

	err = rxe_queue_init(rdev, &nq, udata, q->role, &want, elem_size);
	if (err)
		return err;
	slot = min_t(size_t, 1UL << q->log2_elem, 1UL << nq.log2_elem);

	spin_lock_irqsave(lock, flags);
	n = rxe_queue_count(q);
	if (n > rxe_queue_capacity(&nq)) {
		spin_unlock_irqrestore(lock, flags);
		rxe_queue_cleanup(&nq);
		return -EINVAL;
	}
	cons = rxe_queue_cons(q);
	for (i = 0; i < n; i++)
		memcpy(rxe_queue_slot(&nq, i), rxe_queue_slot(q, cons + i),
		       slot);
	nq.prod = n;
	nq.cons = 0;
	nq.buf->producer_index = n;
	nq.buf->consumer_index = 0;
	swap(*q, nq);
	spin_unlock_irqrestore(lock, flags);

	rxe_queue_cleanup(&nq);
	*num_entries = want;
	return 0;
}
