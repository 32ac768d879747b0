/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe-odp: work and completion rings.
 *
 * Every CQ, SQ, RQ and SRQ is a ring in the layout of struct rxe_queue_buf
 * (<rdma/rdma_user_rxe.h>): a 384-byte header with the producer and
 * consumer indices, then a power-of-two number of power-of-two sized
 * slots.  One slot always stays empty, so a ring of 2^n slots holds
 * 2^n - 1 entries.  A user object's ring is vmalloc_user() memory that
 * rdma-core's rxe provider maps; a kernel object's ring is plain vmalloc.
 *
 * Trust: the shared header can be scribbled on by user space at any time.
 * The kernel keeps its own copies of the geometry and of the index it
 * owns, masks every index it reads from the shared page, and publishes
 * its index with a release store after the slot contents.
 */
#ifndef RXE_ODP_QUEUE_H
#define RXE_ODP_QUEUE_H

#include <linux/types.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_user_rxe.h>

struct rxe_dev;

/**
 * struct rxe_mmap - a ring buffer that user space can map
 * @rdma_entry: the core's mmap entry; its refcount keeps @buf alive while
 *	the owning object or any mapping of it exists.
 * @buf: vmalloc_user() memory.
 * @size: bytes, a multiple of PAGE_SIZE.
 */
struct rxe_mmap {
	struct rdma_user_mmap_entry rdma_entry;
	void *buf;
	size_t size;
};

/* Which side writes each index of a ring. */
enum rxe_queue_role {
	RXE_Q_KERNEL_ONLY,	/* kernel produces and consumes */
	RXE_Q_USER_PRODUCES,	/* user SQ/RQ/SRQ: kernel consumes */
	RXE_Q_USER_CONSUMES,	/* user CQ: kernel produces */
};

/**
 * struct rxe_queue - kernel view of one ring
 * @buf: the ring (header + slots).
 * @mmap: the user mapping's entry, or NULL for a kernel ring.
 * @role: which indices user space writes.
 * @log2_elem: slot size is 1 << @log2_elem bytes.
 * @index_mask: slots - 1.
 * @prod: private producer index (authoritative unless user produces).
 * @cons: private consumer index (authoritative unless user consumes).
 *
 * Locking is the owner's: a CQ serialises producers with its lock; a
 * QP's SQ and RQ are consumed by its transport (under qp->run_mutex) and
 * by flushes, both under the ring's qp->sq_lock / qp->rq_lock.
 */
struct rxe_queue {
	struct rxe_queue_buf *buf;
	struct rxe_mmap *mmap;
	enum rxe_queue_role role;
	u32 log2_elem;
	u32 index_mask;
	u32 prod;
	u32 cons;
};

int rxe_queue_init(struct rxe_dev *rdev, struct rxe_queue *q,
		   struct ib_udata *udata, enum rxe_queue_role role,
		   u32 *num_entries, size_t elem_size);
void rxe_queue_cleanup(struct rxe_queue *q);
int rxe_queue_copy_mminfo(struct rxe_queue *q, struct mminfo __user *dst);
void rxe_queue_mminfo(struct rxe_queue *q, struct mminfo *mi);
int rxe_queue_resize(struct rxe_dev *rdev, struct rxe_queue *q,
		     struct ib_udata *udata, u32 *num_entries,
		     size_t elem_size, spinlock_t *lock);

static inline u32 rxe_queue_capacity(const struct rxe_queue *q)
{
	return q->index_mask;
}

/* Current producer index, masked, whoever owns it. */
static inline u32 rxe_queue_prod(const struct rxe_queue *q)
{
	if (q->role == RXE_Q_USER_PRODUCES)
		/* Pairs with the producer's release: slots are visible. */
		return smp_load_acquire(&q->buf->producer_index) &
		       q->index_mask;
	/* May be read without the owner's lock, as a snapshot. */
	return READ_ONCE(q->prod);
}

/* Current consumer index, masked, whoever owns it. */
static inline u32 rxe_queue_cons(const struct rxe_queue *q)
{
	if (q->role == RXE_Q_USER_CONSUMES)
		/* Pairs with the consumer's release: slots are free. */
		return smp_load_acquire(&q->buf->consumer_index) &
		       q->index_mask;
	return READ_ONCE(q->cons);
}

static inline u32 rxe_queue_count(const struct rxe_queue *q)
{
	return (rxe_queue_prod(q) - rxe_queue_cons(q)) & q->index_mask;
}

static inline bool rxe_queue_empty(const struct rxe_queue *q)
{
	return rxe_queue_prod(q) == rxe_queue_cons(q);
}

static inline bool rxe_queue_full(const struct rxe_queue *q)
{
	return ((rxe_queue_prod(q) + 1) & q->index_mask) == rxe_queue_cons(q);
}

static inline void *rxe_queue_slot(const struct rxe_queue *q, u32 index)
{
	return q->buf->data + ((size_t)(index & q->index_mask) << q->log2_elem);
}

/* Slot the kernel will fill next (kernel must be the producer). */
static inline void *rxe_queue_producer_slot(const struct rxe_queue *q)
{
	return rxe_queue_slot(q, q->prod);
}

/* Oldest entry (kernel must be the consumer). */
static inline void *rxe_queue_consumer_slot(const struct rxe_queue *q)
{
	return rxe_queue_slot(q, q->cons);
}

/* Publish one produced slot; its contents are visible before the index. */
static inline void rxe_queue_advance_prod(struct rxe_queue *q)
{
	WRITE_ONCE(q->prod, (q->prod + 1) & q->index_mask);
	/* Slot contents before the index; pairs with the reader's acquire. */
	smp_store_release(&q->buf->producer_index, q->prod);
}

/* Retire the oldest entry. */
static inline void rxe_queue_advance_cons(struct rxe_queue *q)
{
	WRITE_ONCE(q->cons, (q->cons + 1) & q->index_mask);
	/* Done reading the slot before it is handed back. */
	smp_store_release(&q->buf->consumer_index, q->cons);
}

#endif /* RXE_ODP_QUEUE_H */
