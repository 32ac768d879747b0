// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: memory regions, memory windows and the key space they share.
 *
 * Keys.  Every MR and MW owns one slot ("index") of rxe_dev.keys.  Its
 * 32-bit key is (index << 8) | variant: the low byte is a variant that
 * changes when a key is re-issued (fast registration, window binding), so a
 * stale key held by a peer stops matching.  MRs report lkey == rkey.
 * Index 0 is never allocated, hence key 0 is never valid.
 *
 * Lookup and lifetime.  The data path finds objects with xa_load() under
 * rcu_read_lock() and takes a reference with kref_get_unless_zero(); it
 * never takes the xarray lock, so the writers below (all in process
 * context) may use the plain xa_* calls and lookups work in any context.
 * Destruction first unpublishes the slot, then drops the initial reference
 * and sleeps until the last lookup reference is gone (->released).
 * Readers that loaded the pointer before it was unpublished may still touch
 * the object inside their RCU section, so an MR is freed with kfree_rcu()
 * and an MW (freed by the IB core right after dealloc_mw) is only handed
 * back after synchronize_rcu().
 *
 * Immutability.  A user or DMA MR never changes after it is published:
 * rereg_user_mr builds a replacement MR object that takes over the same key
 * slot (see rxe_rereg_user_mr()), so the data path may read pd, access and
 * the translation of a user MR without locks.  Fast-registration MRs change
 * at IB_WR_REG_MR / invalidation time only, through rxe_mr_fast_reg() and
 * rxe_invalidate_key(), which publish the new state with release semantics.
 *
 * Virtual DMA.  The device is registered without a DMA device, so the DMA
 * addresses the core hands us (scatterlists mapped by kernel ULPs) are
 * kernel virtual addresses, and a DMA MR's iova is a kernel address.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <rdma/ib_umem.h>

#include "rxe.h"

#define RXE_KEY_INDEX_SHIFT	8
#define RXE_KEY_VARIANT_MASK	0xffu
#define RXE_KEY_INDEX_MAX	((1u << (32 - RXE_KEY_INDEX_SHIFT)) - 1)

/* How long dereg/dealloc waits for lookups to finish before complaining. */
#define RXE_DRAIN_WARN_JIFFIES	(10 * HZ)

/* Rights a window binding may grant; anything else in a bind is ignored. */
#define RXE_MW_ACCESS_MASK	(IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_WRITE | \
				 IB_ACCESS_REMOTE_ATOMIC | IB_ZERO_BASED)

/* Rights that need local write access to the memory underneath. */
#define RXE_ACCESS_NEEDS_LOCAL_WRITE \
	(IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_ATOMIC)

/*
 * xarray pointer tags must be 0, 1 or 3: an entry whose low bits are 2 is
 * an xarray-internal entry and would corrupt the tree.
 */
static_assert(RXE_KEY_TAG_MR != RXE_KEY_TAG_MW,
	      "MR and MW key tags must differ");
static_assert(RXE_KEY_TAG_MR == 1 || RXE_KEY_TAG_MR == 3,
	      "RXE_KEY_TAG_MR must be a legal xarray pointer tag (1 or 3)");
static_assert(RXE_KEY_TAG_MW == 1 || RXE_KEY_TAG_MW == 3,
	      "RXE_KEY_TAG_MW must be a legal xarray pointer tag (1 or 3)");

/**
 * struct rxe_mr_priv - driver-private part of every MR (all MRs are
 *	allocated here, so struct rxe_mr is always embedded in one of these)
 * @mr: the MR the rest of the driver sees.
 * @lock: serialises the state changes of the MR: @dead, @num_mw, and for
 *	fast-registration MRs @key, mr->state and the fields a registration
 *	sets.  Taken with irqsave: the transport may call in from any context.
 *	Never held across a sleep or together with an MW's lock.
 * @key: the key that currently names the MR.  For fast-reg MRs this is the
 *	key of the last IB_WR_REG_MR, not ibmr.lkey, which ULPs advance
 *	(ib_update_fast_reg_key()) before the registration executes.  Written
 *	under @lock, read locklessly by lookups.
 * @num_mw: memory windows bound to this MR; each holds an MR reference.
 *	Under @lock.
 * @dead: dereg or rereg has begun: no new window binding, no registration.
 *	Under @lock.
 * @moved: the translation (umem, pages) was handed to a replacement MR by
 *	rereg; dereg of this one must not free it.  Under @lock once the MR
 *	is published; rereg sets and clears it without the lock on the
 *	replacement, whose dereg (the only reader) cannot run before rereg
 *	returns: the core holds the uobject.
 * @map_pages: fast-reg only: the page list map_mr_sg builds.  It becomes
 *	the MR's translation only when an IB_WR_REG_MR executes, so mapping
 *	never changes a live registration.  Owned by the ULP between
 *	map_mr_sg and posting the registration.
 * @map_npages: entries used in @map_pages.
 * @map_page_shift: log2 of the block size of @map_pages.
 * @map_page_offset: offset of the first byte in the first block.
 * @rcu: frees the object after the last RCU reader that may have found it.
 */
struct rxe_mr_priv {
	struct rxe_mr mr;
	spinlock_t lock; /* see above */
	u32 key;
	u32 num_mw;
	bool dead;
	bool moved;
	void **map_pages;
	u32 map_npages;
	u32 map_page_shift;
	u32 map_page_offset;
	struct rcu_head rcu;
};

static inline struct rxe_mr_priv *to_mr_priv(struct rxe_mr *mr)
{
	return container_of(mr, struct rxe_mr_priv, mr);
}

static inline u32 rxe_key_index(u32 key)
{
	return key >> RXE_KEY_INDEX_SHIFT;
}

static u32 rxe_make_key(u32 index)
{
	return (index << RXE_KEY_INDEX_SHIFT) |
	       (get_random_u32() & RXE_KEY_VARIANT_MASK);
}

/* Reserve a free key slot; publish it later with rxe_key_publish(). */
static int rxe_key_reserve(struct rxe_dev *rdev, u32 *index)
{
	int err;

	err = xa_alloc_cyclic(&rdev->keys, index, NULL,
			      XA_LIMIT(1, RXE_KEY_INDEX_MAX), &rdev->next_key,
			      GFP_KERNEL);
	if (err == -EBUSY)
		return -ENOMEM;
	return err < 0 ? err : 0;
}

/* Make a fully initialised object visible to lookups. */
static int rxe_key_publish(struct rxe_dev *rdev, u32 index, void *obj,
			   unsigned int tag)
{
	/* The slot is reserved, so no allocation happens here. */
	return xa_err(xa_store(&rdev->keys, index, xa_tag_pointer(obj, tag),
			       GFP_KERNEL));
}

static void rxe_wait_drained(struct completion *released, const char *what,
			     u32 key)
{
	while (!wait_for_completion_timeout(released, RXE_DRAIN_WARN_JIFFIES))
		pr_warn("%s key 0x%08x still in use, waiting\n", what, key);
}

static bool rxe_obj_limit(struct rxe_dev *rdev, enum rxe_obj_kind kind,
			  int max)
{
	return atomic_read(&rdev->nobj[kind]) >= max;
}

/* ------------------------------------------------------------------ */
/* Memory regions: creation and destruction                            */
/* ------------------------------------------------------------------ */

static void rxe_mr_ref_release(struct kref *ref)
{
	struct rxe_mr *mr = container_of(ref, struct rxe_mr, ref);

	complete(&mr->released);
}

static struct rxe_mr_priv *rxe_mr_new(struct ib_pd *pd, enum rxe_mr_kind kind,
				      int access)
{
	struct rxe_mr_priv *p;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	spin_lock_init(&p->lock);
	kref_init(&p->mr.ref);
	init_completion(&p->mr.released);
	p->mr.kind = kind;
	p->mr.access = access;
	p->mr.state = kind == RXE_MR_FAST_REG ? RXE_KEY_FREE : RXE_KEY_VALID;
	/*
	 * The core sets these again once we return, but lookups may find the
	 * MR as soon as it is published, so they must be right before that.
	 */
	p->mr.ibmr.device = pd->device;
	p->mr.ibmr.pd = pd;
	return p;
}

/* Free the translation and the object; @p was never published or is gone. */
static void rxe_mr_free(struct rxe_mr_priv *p)
{
	struct rxe_mr *mr = &p->mr;

	if (!p->moved) {
		rxe_odp_mr_release(to_rdev(mr->ibmr.device), mr);
		ib_umem_release(mr->umem);
		kvfree(mr->pages);
	}
	kvfree(p->map_pages);
	kfree_rcu(p, rcu);
}

/* Give @p a fresh key slot and publish it. */
static int rxe_mr_add_key(struct rxe_dev *rdev, struct rxe_mr_priv *p)
{
	struct rxe_mr *mr = &p->mr;
	int err;

	err = rxe_key_reserve(rdev, &mr->index);
	if (err)
		return err;
	p->key = rxe_make_key(mr->index);
	mr->ibmr.lkey = p->key;
	mr->ibmr.rkey = p->key;
	err = rxe_key_publish(rdev, mr->index, mr, RXE_KEY_TAG_MR);
	if (err)
		xa_erase(&rdev->keys, mr->index);
	return err;
}

static int rxe_check_user_range(u64 start, u64 length, u64 iova)
{
	if (length > U64_MAX - start || length > U64_MAX - iova)
		return -EINVAL;
	/* ib_umem_get() takes unsigned long and size_t. */
	if ((unsigned long)start != start || (size_t)length != length)
		return -EINVAL;
	return 0;
}

/* Pin [start, start + length) of the caller's memory as @mr's translation. */
static int rxe_mr_pin(struct rxe_mr *mr, u64 start, u64 length, u64 iova,
		      int access)
{
	struct ib_device *ibdev = mr->ibmr.device;
	struct sg_page_iter it;
	struct ib_umem *umem;
	size_t npages, i = 0;
	void **pages;

	umem = ib_umem_get(ibdev, start, length, access);
	if (IS_ERR(umem))
		return PTR_ERR(umem);

	npages = ib_umem_num_pages(umem);
	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		ib_umem_release(umem);
		return -ENOMEM;
	}
	for_each_sgtable_page(&umem->sgt_append.sgt, &it, 0) {
		if (i == npages)
			break;
		pages[i++] = page_address(sg_page_iter_page(&it));
		if (!(i & 0xffff))
			cond_resched();
	}
	if (i != npages) {
		kvfree(pages);
		ib_umem_release(umem);
		return -EFAULT;
	}

	mr->umem = umem;
	mr->pages = pages;
	mr->npages = npages;
	mr->max_pages = npages;
	mr->page_shift = PAGE_SHIFT;
	/* Where the byte at @iova sits in pages[0]. */
	mr->page_offset = ib_umem_offset(umem);
	mr->iova = iova;
	mr->length = length;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	mr->ibmr.page_size = PAGE_SIZE;
	return 0;
}

static struct ib_mr *rxe_get_dma_mr(struct ib_pd *pd, int access)
{
	struct rxe_dev *rdev = to_rdev(pd->device);
	struct rxe_mr_priv *p;
	struct rxe_mr *mr;
	int err;

	if (rxe_obj_limit(rdev, RXE_OBJ_MR, rdev->attr.max_mr))
		return ERR_PTR(-ENOMEM);
	p = rxe_mr_new(pd, RXE_MR_DMA, access);
	if (!p)
		return ERR_PTR(-ENOMEM);
	mr = &p->mr;
	mr->iova = 0;
	mr->length = U64_MAX;
	mr->ibmr.iova = 0;
	mr->ibmr.length = U64_MAX;
	mr->ibmr.page_size = PAGE_SIZE;

	err = rxe_mr_add_key(rdev, p);
	if (err) {
		rxe_mr_free(p);
		return ERR_PTR(err);
	}
	rxe_obj_get(rdev, RXE_OBJ_MR);
	return &mr->ibmr;
}

/*
 * Register an on-demand-paging MR: nothing is pinned or charged to
 * RLIMIT_MEMLOCK; the ODP core faults pages in when the transport first
 * touches them.  The core lets IB_ACCESS_ON_DEMAND through only because
 * the device advertises IBK_ON_DEMAND_PAGING.
 */
static struct ib_mr *rxe_reg_odp_mr(struct ib_pd *pd, u64 start, u64 length,
				    u64 iova, int access)
{
	struct rxe_dev *rdev = to_rdev(pd->device);
	struct rxe_mr_priv *p;
	int err;

	if (rxe_obj_limit(rdev, RXE_OBJ_MR, rdev->attr.max_mr))
		return ERR_PTR(-ENOMEM);
	p = rxe_mr_new(pd, RXE_MR_ODP, access);
	if (!p)
		return ERR_PTR(-ENOMEM);
	err = rxe_odp_mr_init(&p->mr, start, length, iova);
	if (err)
		goto err_free;
	err = rxe_mr_add_key(rdev, p);
	if (err)
		goto err_free;
	rxe_odp_mr_publish(rdev, &p->mr);
	rxe_obj_get(rdev, RXE_OBJ_MR);
	return &p->mr.ibmr;

err_free:
	rxe_mr_free(p);
	return ERR_PTR(err);
}

static struct ib_mr *rxe_reg_user_mr(struct ib_pd *pd, u64 start, u64 length,
				     u64 iova, int access,
				     struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(pd->device);
	struct rxe_mr_priv *p;
	int err;

	/* Before the range checks: an implicit MR has length U64_MAX. */
	if (access & IB_ACCESS_ON_DEMAND)
		return rxe_reg_odp_mr(pd, start, length, iova, access);

	err = rxe_check_user_range(start, length, iova);
	if (err)
		return ERR_PTR(err);
	if (rxe_obj_limit(rdev, RXE_OBJ_MR, rdev->attr.max_mr))
		return ERR_PTR(-ENOMEM);

	p = rxe_mr_new(pd, RXE_MR_USER, access);
	if (!p)
		return ERR_PTR(-ENOMEM);
	/* ib_umem_get() refuses an empty page-aligned range (-EINVAL). */
	err = rxe_mr_pin(&p->mr, start, length, iova, access);
	if (err)
		goto err_free;
	err = rxe_mr_add_key(rdev, p);
	if (err)
		goto err_free;
	rxe_obj_get(rdev, RXE_OBJ_MR);
	return &p->mr.ibmr;

err_free:
	rxe_mr_free(p);
	return ERR_PTR(err);
}

/*
 * rereg_user_mr.  Rather than changing a live MR in place (the core's note
 * on ib_mr.pd asks drivers that read pd outside the uobject lock not to),
 * every successful rereg returns a new MR object that takes over the old
 * one's key slot with the same lkey/rkey.  The core then destroys the old
 * object (our dereg_mr runs synchronously inside the rereg command), which
 * waits for lookups still using the old view.  The translation is re-pinned
 * for IB_MR_REREG_TRANS, and also when new access needs write permission
 * the old pin did not have; otherwise it is handed over unchanged.  An
 * on-demand-paging MR (old or new) always gets a new ODP region.
 * Refused with -EBUSY while memory windows are bound to the MR.
 */
static struct ib_mr *rxe_rereg_user_mr(struct ib_mr *ibmr, int flags,
				       u64 start, u64 length, u64 iova,
				       int access, struct ib_pd *pd,
				       struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibmr->device);
	struct rxe_mr *old = to_rmr(ibmr);
	struct rxe_mr_priv *op = to_mr_priv(old);
	struct rxe_mr_priv *np;
	struct rxe_mr *mr;
	struct ib_pd *new_pd;
	unsigned long irqflags;
	int new_access, err;
	void *cur;
	bool repin, odp;

	if (old->kind != RXE_MR_USER && old->kind != RXE_MR_ODP)
		return ERR_PTR(-EINVAL);
	if (flags & ~IB_MR_REREG_SUPPORTED)
		return ERR_PTR(-EOPNOTSUPP);
	/* The core drops IB_MR_REREG_PD when the PD does not change. */
	if (!flags)
		return NULL;

	new_pd = (flags & IB_MR_REREG_PD) ? pd : ibmr->pd;
	new_access = (flags & IB_MR_REREG_ACCESS) ? access : old->access;
	odp = new_access & IB_ACCESS_ON_DEMAND;

	if (flags & IB_MR_REREG_TRANS) {
		if (!odp) {
			err = rxe_check_user_range(start, length, iova);
			if (err)
				return ERR_PTR(err);
		}
		repin = true;
	} else if (old->kind == RXE_MR_ODP) {
		start = old->odp_va;
		length = old->length;
		iova = old->iova;
		repin = true;
	} else {
		start = old->umem->address;
		length = old->umem->length;
		iova = old->iova;
		repin = odp || (ib_access_writable(new_access) &&
				!old->umem->writable);
	}

	/*
	 * An ODP MR always gets a fresh region (in the calling process, like
	 * a registration); its counters start again from zero and the old
	 * region's go to the device totals when the old object is freed.
	 */
	np = rxe_mr_new(new_pd, odp ? RXE_MR_ODP : RXE_MR_USER, new_access);
	if (!np)
		return ERR_PTR(-ENOMEM);
	mr = &np->mr;
	if (repin) {
		if (odp)
			err = rxe_odp_mr_init(mr, start, length, iova);
		else
			err = rxe_mr_pin(mr, start, length, iova, new_access);
		if (err)
			goto err_free;
	} else {
		/* Shared until the old MR is gone; then owned by @np. */
		mr->umem = old->umem;
		mr->pages = old->pages;
		mr->npages = old->npages;
		mr->max_pages = old->max_pages;
		mr->page_shift = old->page_shift;
		mr->page_offset = old->page_offset;
		mr->iova = old->iova;
		mr->length = old->length;
		mr->ibmr.iova = old->iova;
		mr->ibmr.length = old->length;
		mr->ibmr.page_size = old->ibmr.page_size;
		np->moved = true;	/* not ours to free until the swap */
	}
	mr->index = old->index;
	np->key = op->key;
	mr->ibmr.lkey = op->key;
	mr->ibmr.rkey = op->key;

	spin_lock_irqsave(&op->lock, irqflags);
	if (op->num_mw || op->dead) {
		spin_unlock_irqrestore(&op->lock, irqflags);
		err = -EBUSY;
		goto err_free;
	}
	op->dead = true;
	op->moved = !repin;
	spin_unlock_irqrestore(&op->lock, irqflags);

	cur = xa_cmpxchg(&rdev->keys, old->index,
			 xa_tag_pointer(old, RXE_KEY_TAG_MR),
			 xa_tag_pointer(mr, RXE_KEY_TAG_MR), GFP_KERNEL);
	if (WARN_ON_ONCE(cur != xa_tag_pointer(old, RXE_KEY_TAG_MR))) {
		/* Cannot happen while the core holds the MR's uobject. */
		spin_lock_irqsave(&op->lock, irqflags);
		op->dead = false;
		op->moved = false;
		spin_unlock_irqrestore(&op->lock, irqflags);
		err = xa_is_err(cur) ? xa_err(cur) : -EINVAL;
		goto err_free;
	}
	/* The translation now belongs to the replacement. */
	np->moved = false;
	if (odp)
		rxe_odp_mr_publish(rdev, mr);
	rxe_obj_get(rdev, RXE_OBJ_MR);
	return &mr->ibmr;

err_free:
	rxe_mr_free(np);
	return ERR_PTR(err);
}

/*
 * dereg_mr.  The IB core does not track memory windows bound to an MR, so
 * we do: an MR with bound windows is refused with -EBUSY, as the verbs
 * specification asks.  This cannot wedge process teardown: the uverbs
 * cleanup loop retries objects that failed to go away as long as others
 * make progress, and dealloc_mw always succeeds and drops its binding.
 */
static int rxe_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibmr->device);
	struct rxe_mr *mr = to_rmr(ibmr);
	struct rxe_mr_priv *p = to_mr_priv(mr);
	unsigned long irqflags;

	spin_lock_irqsave(&p->lock, irqflags);
	if (p->num_mw) {
		spin_unlock_irqrestore(&p->lock, irqflags);
		return -EBUSY;
	}
	p->dead = true;
	WRITE_ONCE(mr->state, RXE_KEY_INVALID);
	spin_unlock_irqrestore(&p->lock, irqflags);

	/* Free the slot unless a rereg replacement has taken it over. */
	xa_cmpxchg(&rdev->keys, mr->index, xa_tag_pointer(mr, RXE_KEY_TAG_MR),
		   NULL, GFP_KERNEL);

	kref_put(&mr->ref, rxe_mr_ref_release);
	rxe_wait_drained(&mr->released, "MR", p->key);

	rxe_obj_put(rdev, RXE_OBJ_MR);
	rxe_mr_free(p);
	return 0;
}

static struct ib_mr *rxe_alloc_mr(struct ib_pd *pd, enum ib_mr_type mr_type,
				  u32 max_num_sg)
{
	struct rxe_dev *rdev = to_rdev(pd->device);
	struct rxe_mr_priv *p;
	struct rxe_mr *mr;
	int err;

	if (mr_type != IB_MR_TYPE_MEM_REG)
		return ERR_PTR(-EINVAL);
	if (max_num_sg > RXE_MAX_FMR_PAGE_LIST_LEN)
		return ERR_PTR(-EINVAL);
	if (rxe_obj_limit(rdev, RXE_OBJ_MR, rdev->attr.max_mr))
		return ERR_PTR(-ENOMEM);

	p = rxe_mr_new(pd, RXE_MR_FAST_REG, 0);
	if (!p)
		return ERR_PTR(-ENOMEM);
	mr = &p->mr;
	mr->max_pages = max(max_num_sg, 1u);
	mr->pages = kvcalloc(mr->max_pages, sizeof(*mr->pages), GFP_KERNEL);
	p->map_pages = kvcalloc(mr->max_pages, sizeof(*p->map_pages),
				GFP_KERNEL);
	if (!mr->pages || !p->map_pages) {
		err = -ENOMEM;
		goto err_free;
	}
	mr->page_shift = PAGE_SHIFT;
	p->map_page_shift = PAGE_SHIFT;

	err = rxe_mr_add_key(rdev, p);
	if (err)
		goto err_free;
	rxe_obj_get(rdev, RXE_OBJ_MR);
	return &mr->ibmr;

err_free:
	rxe_mr_free(p);
	return ERR_PTR(err);
}

static int rxe_set_page(struct ib_mr *ibmr, u64 addr)
{
	struct rxe_mr *mr = to_rmr(ibmr);
	struct rxe_mr_priv *p = to_mr_priv(mr);

	if (p->map_npages >= mr->max_pages)
		return -ENOMEM;
	/* Virtual DMA: the "DMA address" is the block's kernel address. */
	p->map_pages[p->map_npages++] = (void *)(uintptr_t)addr;
	return 0;
}

static int rxe_map_mr_sg(struct ib_mr *ibmr, struct scatterlist *sg,
			 int sg_nents, unsigned int *sg_offset)
{
	struct rxe_mr *mr = to_rmr(ibmr);
	struct rxe_mr_priv *p = to_mr_priv(mr);
	unsigned int page_size = ibmr->page_size;
	int n;

	if (mr->kind != RXE_MR_FAST_REG)
		return -EINVAL;
	if (WARN_ON_ONCE(!ib_uses_virt_dma(ibmr->device)))
		return -EINVAL;
	if (!is_power_of_2(page_size) || !(page_size & RXE_PAGE_SIZE_CAP))
		return -EINVAL;

	p->map_npages = 0;
	p->map_page_shift = ilog2(page_size);
	n = ib_sg_to_pages(ibmr, sg, sg_nents, sg_offset, rxe_set_page);
	/* ib_sg_to_pages() set ibmr->iova to the first mapped byte. */
	p->map_page_offset = ibmr->iova & (page_size - 1);
	return n;
}

/* ------------------------------------------------------------------ */
/* Memory regions: data path                                           */
/* ------------------------------------------------------------------ */

/* The object in slot @key's index, if it carries @tag.  Under RCU. */
static void *rxe_key_load(struct rxe_dev *rdev, u32 key, unsigned int tag)
{
	void *entry = xa_load(&rdev->keys, rxe_key_index(key));

	if (!entry || xa_pointer_tag(entry) != tag)
		return NULL;
	return xa_untag_pointer(entry);
}

/**
 * rxe_mr_lookup() - find a valid memory region by key and take a reference
 * @rdev: device the key belongs to
 * @key: the full 32-bit lkey or rkey, including the variant byte
 * @pd: protection domain the access comes from (the QP's PD); must match
 * @access: IB_ACCESS_* rights the access needs, all of which the MR must
 *	grant (0 for a local read, IB_ACCESS_LOCAL_WRITE for a local write,
 *	IB_ACCESS_REMOTE_READ etc. for remote requests, IB_ACCESS_MW_BIND)
 * @remote: the key came from the wire (an rkey) rather than a local SGE.
 *	MRs use one key for both, so this only selects which is compared.
 *
 * This only matches MRs; rkeys that may name a memory window go through
 * rxe_mr_from_rkey().  The MR stays valid (its translation is not freed)
 * until rxe_mr_put(); hold the reference only while working on one request
 * or packet, since dereg_mr waits for it.
 *
 * Context: any; does not sleep.
 * Return: the MR with a reference held, or NULL if the key does not name a
 * valid MR of @pd granting @access.
 */
struct rxe_mr *rxe_mr_lookup(struct rxe_dev *rdev, u32 key, struct ib_pd *pd,
			     int access, bool remote)
{
	struct rxe_mr_priv *p;
	struct rxe_mr *mr;

	rcu_read_lock();
	mr = rxe_key_load(rdev, key, RXE_KEY_TAG_MR);
	if (mr && !kref_get_unless_zero(&mr->ref))
		mr = NULL;
	rcu_read_unlock();
	if (!mr)
		return NULL;

	p = to_mr_priv(mr);
	/* Pairs with the release in rxe_mr_fast_reg(): fields then state. */
	if (smp_load_acquire(&mr->state) != RXE_KEY_VALID ||
	    READ_ONCE(p->key) != key ||
	    READ_ONCE(mr->ibmr.pd) != pd ||
	    (access & ~READ_ONCE(mr->access))) {
		rxe_mr_put(mr);
		return NULL;
	}
	return mr;
}

/**
 * rxe_mr_put() - drop a reference taken by rxe_mr_lookup() or
 *	rxe_mr_from_rkey()
 * @mr: the memory region
 *
 * Context: any.
 */
void rxe_mr_put(struct rxe_mr *mr)
{
	kref_put(&mr->ref, rxe_mr_ref_release);
}

/**
 * rxe_mr_check_range() - check that [@iova, @iova + @len) lies in the MR
 * @mr: a memory region the caller holds a reference on
 * @iova: first address of the access
 * @len: its length in bytes (0 is allowed anywhere up to the end)
 *
 * Written so that no sum can wrap.
 *
 * Context: any.
 * Return: 0 if the range is inside the region, -EFAULT otherwise.
 */
int rxe_mr_check_range(struct rxe_mr *mr, u64 iova, u64 len)
{
	u64 start = READ_ONCE(mr->iova);
	u64 size = READ_ONCE(mr->length);

	if (iova < start || iova - start > size || len > size - (iova - start))
		return -EFAULT;
	return 0;
}

/*
 * Kernel address of @iova in a page-list MR and the bytes left in its
 * block (in @avail), or NULL if the translation does not cover it.
 * The caller has checked the range.
 */
static u8 *rxe_mr_block_va(const struct rxe_mr *mr, u64 iova, u64 *avail)
{
	u64 off = iova - mr->iova + mr->page_offset;
	u64 block = 1ULL << mr->page_shift;
	u64 idx = off >> mr->page_shift;
	u8 *base;

	if (idx >= mr->npages)
		return NULL;
	base = mr->pages[idx];
	if (!base)
		return NULL;
	off &= block - 1;
	*avail = block - off;
	return base + off;
}

/**
 * rxe_mr_copy() - copy between a kernel buffer and a memory region
 * @mr: a memory region the caller holds a reference on
 * @iova: first address in the region
 * @buf: the kernel buffer
 * @len: bytes to copy
 * @to_mr: true to copy @buf into the region, false to copy out of it
 *
 * Handles ranges that cross page (block) boundaries.  For a DMA MR the
 * iova is a kernel virtual address.  For an on-demand-paging MR the copy
 * goes through the ODP core, which faults missing pages in.
 *
 * Context: process context for ODP MRs (may sleep); otherwise any, and it
 * does not sleep.
 * Return: 0; -EFAULT if the range is not inside the region or not covered
 * by its translation, or an ODP page cannot be reached (nothing is
 * guaranteed about partial copies); -EAGAIN if an ODP page could not be
 * reached for now (try again later; nothing is guaranteed about partial
 * copies either, but a retry writes the same bytes).
 */
int rxe_mr_copy(struct rxe_mr *mr, u64 iova, void *buf, u64 len, bool to_mr)
{
	u8 *kbuf = buf;
	u64 avail, n;
	u8 *va;

	if (rxe_mr_check_range(mr, iova, len))
		return -EFAULT;
	if (!len)
		return 0;

	if (mr->kind == RXE_MR_ODP)
		return rxe_odp_copy(mr, iova, buf, len, to_mr);
	if (mr->kind == RXE_MR_DMA) {
		va = (u8 *)(uintptr_t)iova;
		if (to_mr)
			memcpy(va, kbuf, len);
		else
			memcpy(kbuf, va, len);
		return 0;
	}

	while (len) {
		va = rxe_mr_block_va(mr, iova, &avail);
		if (!va)
			return -EFAULT;
		n = min(len, avail);
		if (to_mr)
			memcpy(va, kbuf, n);
		else
			memcpy(kbuf, va, n);
		iova += n;
		kbuf += n;
		len -= n;
	}
	return 0;
}

/**
 * rxe_mr_atomic64() - execute an 8-byte atomic on a memory region
 * @mr: a memory region the caller holds a reference on
 * @iova: address of the target, 8-byte aligned (the caller checks)
 * @cmp_swap: compare-and-swap; else fetch-and-add
 * @compare: compare-and-swap: the value expected
 * @swap_add: the value stored (compare-and-swap) or added (wrapping)
 * @orig: out: the value before the operation
 *
 * The read-modify-write is a CPU atomic instruction on the page, so it is
 * atomic against other atomics of any QP and device, and against the CPU.
 * The kernel address is checked for alignment as well as the iova (as
 * stock rxe does): a misaligned locked instruction may cross a cache line
 * (a split lock, which hosts with split lock detection trap on).  Today
 * an aligned iova always means an aligned address (uverbs refuses an iova
 * whose offset in the page differs from the buffer's, and fast-reg iovas
 * are the mapped addresses, ULPs only rewriting high bits), so this is
 * defence in depth against a kernel consumer that changes the low bits.
 *
 * Context: process context for ODP MRs (may sleep); otherwise any.
 * Return: 0, -EINVAL (the target is misaligned), -EFAULT (not inside or
 * not reachable), or -EAGAIN (ODP page not reachable for now: nothing was
 * done, try again later).
 */
int rxe_mr_atomic64(struct rxe_mr *mr, u64 iova, bool cmp_swap, u64 compare,
		    u64 swap_add, u64 *orig)
{
	u64 *p, old, avail;

	if ((iova & 7) || rxe_mr_check_range(mr, iova, 8))
		return -EFAULT;
	if (mr->kind == RXE_MR_ODP)
		return rxe_odp_atomic64(mr, iova, cmp_swap, compare, swap_add,
					orig);
	if (mr->kind == RXE_MR_DMA) {
		p = (u64 *)(uintptr_t)iova;
	} else {
		p = (u64 *)rxe_mr_block_va(mr, iova, &avail);
		if (!p || avail < 8)
			return -EFAULT;
		if ((uintptr_t)p & 7)
			return -EINVAL;
	}
	if (cmp_swap) {
		*orig = cmpxchg64(p, compare, swap_add);
	} else {
		old = READ_ONCE(*p);
		while (!try_cmpxchg64(p, &old, old + swap_add))
			cpu_relax();
		*orig = old;
	}
	return 0;
}

/**
 * rxe_mr_fast_reg() - execute an IB_WR_REG_MR work request
 * @qp: the QP that posted it
 * @ibmr: the MR (from struct ib_reg_wr)
 * @key: the new lkey/rkey (from struct ib_reg_wr); only its variant byte
 *	may differ from the MR's current key
 * @access: the rights to grant (from struct ib_reg_wr)
 *
 * Makes the page list of the last map_mr_sg, with the MR's current iova
 * (ULPs may change the high bits or zero it after mapping) and length,
 * the live translation, and moves the MR from FREE to VALID.
 *
 * Context: any; does not sleep.
 * Return: 0, or -EINVAL if the MR is not a fast-reg MR of the QP's PD, is
 * not FREE, the key's index is wrong, the access is inconsistent or the
 * mapped pages do not cover the length.
 */
int rxe_mr_fast_reg(struct rxe_qp *qp, struct ib_mr *ibmr, u32 key, int access)
{
	struct rxe_mr *mr = to_rmr(ibmr);
	struct rxe_mr_priv *p = to_mr_priv(mr);
	unsigned long irqflags;
	u64 iova, length;
	int err = -EINVAL;

	if (mr->kind != RXE_MR_FAST_REG || rxe_key_index(key) != mr->index ||
	    READ_ONCE(ibmr->pd) != qp->ibqp.pd)
		return -EINVAL;
	if ((access & RXE_ACCESS_NEEDS_LOCAL_WRITE) &&
	    !(access & IB_ACCESS_LOCAL_WRITE))
		return -EINVAL;
	if (access & IB_ACCESS_ON_DEMAND)
		return -EINVAL;

	iova = READ_ONCE(ibmr->iova);
	length = READ_ONCE(ibmr->length);

	spin_lock_irqsave(&p->lock, irqflags);
	if (p->dead || mr->state != RXE_KEY_FREE)
		goto out;
	if ((u64)p->map_page_offset + length >
	    ((u64)p->map_npages << p->map_page_shift))
		goto out;
	memcpy(mr->pages, p->map_pages, p->map_npages * sizeof(*mr->pages));
	mr->npages = p->map_npages;
	mr->page_shift = p->map_page_shift;
	mr->page_offset = p->map_page_offset;
	mr->iova = iova;
	mr->length = length;
	WRITE_ONCE(mr->access, access);
	WRITE_ONCE(p->key, key);
	/* Publish the fields above before lookups may see VALID. */
	smp_store_release(&mr->state, RXE_KEY_VALID);
	err = 0;
out:
	spin_unlock_irqrestore(&p->lock, irqflags);
	return err;
}

/* Undo one window binding's hold on @mr. */
static void rxe_mr_unbind_mw(struct rxe_mr *mr)
{
	struct rxe_mr_priv *p = to_mr_priv(mr);
	unsigned long irqflags;

	spin_lock_irqsave(&p->lock, irqflags);
	WARN_ON_ONCE(!p->num_mw);
	p->num_mw--;
	spin_unlock_irqrestore(&p->lock, irqflags);
	rxe_mr_put(mr);
}

/* ------------------------------------------------------------------ */
/* Memory windows                                                       */
/* ------------------------------------------------------------------ */

static void rxe_mw_ref_release(struct kref *ref)
{
	struct rxe_mw *mw = container_of(ref, struct rxe_mw, ref);

	complete(&mw->released);
}

/*
 * Detach @mw from its MR; the caller holds mw->lock and must pass the
 * returned MR (if any) to rxe_mr_unbind_mw() after unlocking.
 */
static struct rxe_mr *rxe_mw_unbind_locked(struct rxe_mw *mw)
{
	struct rxe_mr *mr = mw->mr;

	mw->mr = NULL;
	mw->qp_serial = 0;
	mw->access = 0;
	mw->addr = 0;
	mw->length = 0;
	mw->state = RXE_KEY_FREE;
	return mr;
}

static int rxe_alloc_mw(struct ib_mw *ibmw, struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibmw->device);
	struct rxe_mw *mw = to_rmw(ibmw);
	int err;

	if (ibmw->type != IB_MW_TYPE_1 && ibmw->type != IB_MW_TYPE_2)
		return -EINVAL;
	if (rxe_obj_limit(rdev, RXE_OBJ_MW, rdev->attr.max_mw))
		return -ENOMEM;

	kref_init(&mw->ref);
	init_completion(&mw->released);
	spin_lock_init(&mw->lock);
	/* Unbound: a type 1 window can be bound, neither grants access. */
	mw->state = RXE_KEY_FREE;

	err = rxe_key_reserve(rdev, &mw->index);
	if (err)
		return err;
	ibmw->rkey = rxe_make_key(mw->index);
	err = rxe_key_publish(rdev, mw->index, mw, RXE_KEY_TAG_MW);
	if (err) {
		xa_erase(&rdev->keys, mw->index);
		return err;
	}
	rxe_obj_get(rdev, RXE_OBJ_MW);
	return 0;
}

static int rxe_dealloc_mw(struct ib_mw *ibmw)
{
	struct rxe_dev *rdev = to_rdev(ibmw->device);
	struct rxe_mw *mw = to_rmw(ibmw);
	unsigned long irqflags;
	struct rxe_mr *mr;

	xa_erase(&rdev->keys, mw->index);
	kref_put(&mw->ref, rxe_mw_ref_release);
	rxe_wait_drained(&mw->released, "MW", ibmw->rkey);

	spin_lock_irqsave(&mw->lock, irqflags);
	mr = rxe_mw_unbind_locked(mw);
	mw->state = RXE_KEY_INVALID;
	spin_unlock_irqrestore(&mw->lock, irqflags);
	if (mr)
		rxe_mr_unbind_mw(mr);

	/* The core frees @mw on return; let RCU readers that found it go. */
	synchronize_rcu();
	rxe_obj_put(rdev, RXE_OBJ_MW);
	return 0;
}

/**
 * rxe_mw_lookup() - find a memory window by rkey and take a reference
 * @rdev: device the key belongs to
 * @rkey: the window's full current rkey, including the variant byte
 * @pd: the PD of the QP using it; must be the window's PD
 *
 * Matches bound and unbound windows alike; binding state and rights are
 * checked by rxe_mw_bind(), rxe_invalidate_key() and rxe_mr_from_rkey().
 *
 * Context: any; does not sleep.
 * Return: the window with a reference held (release with rxe_mw_put()), or
 * NULL.
 */
struct rxe_mw *rxe_mw_lookup(struct rxe_dev *rdev, u32 rkey, struct ib_pd *pd)
{
	struct rxe_mw *mw;

	rcu_read_lock();
	mw = rxe_key_load(rdev, rkey, RXE_KEY_TAG_MW);
	if (mw && !kref_get_unless_zero(&mw->ref))
		mw = NULL;
	rcu_read_unlock();
	if (!mw)
		return NULL;

	if (READ_ONCE(mw->ibmw.rkey) != rkey || mw->ibmw.pd != pd) {
		rxe_mw_put(mw);
		return NULL;
	}
	return mw;
}

/**
 * rxe_mw_put() - drop a reference taken by rxe_mw_lookup()
 * @mw: the memory window
 *
 * Context: any.
 */
void rxe_mw_put(struct rxe_mw *mw)
{
	kref_put(&mw->ref, rxe_mw_ref_release);
}

/**
 * rxe_mw_bind() - execute a BIND_MW work request
 * @rdev: the device
 * @qp: the QP that posted it (RC or UC; the caller checks the QP type)
 * @mw_rkey: the window's current rkey (wr.mw.mw_rkey)
 * @new_rkey: the rkey it gets (wr.mw.rkey); same index, any variant byte
 * @mr_lkey: lkey of the MR to bind to (wr.mw.mr_lkey)
 * @addr: first address of the window in the MR (wr.mw.addr)
 * @length: window length (wr.mw.length)
 * @access: remote rights (wr.mw.access); bits other than remote
 *	read/write/atomic and zero-based are ignored
 *
 * Checks the window and the MR belong to the QP's PD, the MR grants
 * IB_ACCESS_MW_BIND (and local write if remote write or atomic is asked
 * for), the range lies in the MR, zero-based is only used with type 2, and
 * a type 2 window is not already bound.  A type 1 window may be rebound; a
 * type 1 bind of length 0 unbinds it.  On success the window holds a
 * reference on the MR until it is unbound, invalidated or deallocated, and
 * answers to @new_rkey.
 *
 * Context: any; does not sleep.
 * Return: 0; -EINVAL for a bad window, key, type or range; -EACCES when
 * the MR does not allow the binding.  Both complete the WQE with
 * IB_WC_MW_BIND_ERR.
 */
int rxe_mw_bind(struct rxe_dev *rdev, struct rxe_qp *qp, u32 mw_rkey,
		u32 new_rkey, u32 mr_lkey, u64 addr, u64 length, int access)
{
	struct ib_pd *pd = qp->ibqp.pd;
	struct rxe_mr *mr = NULL, *old;
	struct rxe_mr_priv *p;
	unsigned long irqflags;
	struct rxe_mw *mw;
	bool type2;
	int err;

	mw = rxe_mw_lookup(rdev, mw_rkey, pd);
	if (!mw)
		return -EINVAL;
	type2 = mw->ibmw.type == IB_MW_TYPE_2;
	access &= RXE_MW_ACCESS_MASK;

	err = -EINVAL;
	if (rxe_key_index(new_rkey) != mw->index)
		goto out_mw;
	if (!type2 && (access & IB_ZERO_BASED))
		goto out_mw;

	if (!type2 && !length) {
		spin_lock_irqsave(&mw->lock, irqflags);
		old = rxe_mw_unbind_locked(mw);
		WRITE_ONCE(mw->ibmw.rkey, new_rkey);
		spin_unlock_irqrestore(&mw->lock, irqflags);
		if (old)
			rxe_mr_unbind_mw(old);
		err = 0;
		goto out_mw;
	}

	err = -EACCES;
	mr = rxe_mr_lookup(rdev, mr_lkey, pd, IB_ACCESS_MW_BIND, false);
	if (!mr)
		goto out_mw;
	if ((access & RXE_ACCESS_NEEDS_LOCAL_WRITE) &&
	    !(READ_ONCE(mr->access) & IB_ACCESS_LOCAL_WRITE))
		goto out_mr;
	err = -EINVAL;
	if (rxe_mr_check_range(mr, addr, length))
		goto out_mr;

	/* Count the binding on the MR first, so dereg cannot slip past. */
	p = to_mr_priv(mr);
	spin_lock_irqsave(&p->lock, irqflags);
	if (p->dead) {
		spin_unlock_irqrestore(&p->lock, irqflags);
		goto out_mr;
	}
	p->num_mw++;
	spin_unlock_irqrestore(&p->lock, irqflags);

	spin_lock_irqsave(&mw->lock, irqflags);
	if (type2 && mw->state != RXE_KEY_FREE) {
		spin_unlock_irqrestore(&mw->lock, irqflags);
		rxe_mr_unbind_mw(mr);	/* drops the lookup reference too */
		mr = NULL;
		goto out_mw;
	}
	old = mw->mr;
	/* The lookup reference on @mr becomes the binding's reference. */
	mw->mr = mr;
	mw->qp_serial = type2 ? qp->serial : 0;
	mw->access = access;
	mw->addr = addr;
	mw->length = length;
	WRITE_ONCE(mw->ibmw.rkey, new_rkey);
	mw->state = RXE_KEY_VALID;
	spin_unlock_irqrestore(&mw->lock, irqflags);
	mr = NULL;
	if (old)
		rxe_mr_unbind_mw(old);
	err = 0;

out_mr:
	if (mr)
		rxe_mr_put(mr);
out_mw:
	rxe_mw_put(mw);
	return err;
}

/*
 * Resolve a window for a remote access; @mw was found under the RCU read
 * lock the caller still holds.  Returns the MR with a reference, or NULL.
 */
static struct rxe_mr *rxe_mw_resolve(struct rxe_mw *mw, struct rxe_qp *qp,
				     u32 rkey, u64 iova, u64 len, int access,
				     u64 *mr_iova)
{
	struct rxe_mr *mr = NULL;
	unsigned long irqflags;
	u64 off;

	spin_lock_irqsave(&mw->lock, irqflags);
	if (mw->state != RXE_KEY_VALID || mw->ibmw.rkey != rkey ||
	    (access & ~mw->access) || mw->ibmw.pd != qp->ibqp.pd)
		goto out;
	/* A type 2 window answers only on the QP it was bound through. */
	if (mw->ibmw.type == IB_MW_TYPE_2 && mw->qp_serial != qp->serial)
		goto out;
	if (mw->access & IB_ZERO_BASED) {
		off = iova;
	} else {
		if (iova < mw->addr)
			goto out;
		off = iova - mw->addr;
	}
	if (off > mw->length || len > mw->length - off)
		goto out;
	/* Pairs with the release in rxe_mr_fast_reg(). */
	if (smp_load_acquire(&mw->mr->state) != RXE_KEY_VALID)
		goto out;
	mr = mw->mr;
	kref_get(&mr->ref);	/* the binding holds one, so this is safe */
	*mr_iova = mw->addr + off;
out:
	spin_unlock_irqrestore(&mw->lock, irqflags);
	return mr;
}

/**
 * rxe_mr_from_rkey() - resolve the rkey of an incoming RDMA request
 * @rdev: the device
 * @qp: the QP the request arrived on
 * @rkey: rkey from the RETH/AtomicETH; may name an MR or a memory window
 * @iova: virtual address from the request
 * @len: bytes the request touches
 * @access: rights needed: IB_ACCESS_REMOTE_READ, _REMOTE_WRITE or
 *	_REMOTE_ATOMIC
 * @mr_iova: out: the address to use with the returned MR (differs from
 *	@iova for zero-based windows)
 *
 * For an MR: the MR must be valid, of the QP's PD and grant @access.  For a
 * window: it must be bound, of the QP's PD (type 2: bound through @qp) and
 * grant @access.  In both cases [@iova, @iova + @len) must lie inside.
 *
 * Context: any; does not sleep.
 * Return: the MR with a reference held (release with rxe_mr_put()), or
 * NULL, which the responder answers with a remote access error.
 */
struct rxe_mr *rxe_mr_from_rkey(struct rxe_dev *rdev, struct rxe_qp *qp,
				u32 rkey, u64 iova, u64 len, int access,
				u64 *mr_iova)
{
	struct rxe_mr *mr = NULL;
	struct rxe_mw *mw;

	rcu_read_lock();
	mw = rxe_key_load(rdev, rkey, RXE_KEY_TAG_MW);
	if (mw)
		mr = rxe_mw_resolve(mw, qp, rkey, iova, len, access, mr_iova);
	rcu_read_unlock();

	if (!mw) {
		mr = rxe_mr_lookup(rdev, rkey, qp->ibqp.pd, access, true);
		*mr_iova = iova;
	}
	if (mr && rxe_mr_check_range(mr, *mr_iova, len)) {
		rxe_mr_put(mr);
		mr = NULL;
	}
	return mr;
}

static int rxe_mr_invalidate(struct rxe_mr *mr, struct rxe_qp *qp, u32 key)
{
	struct rxe_mr_priv *p = to_mr_priv(mr);
	unsigned long irqflags;
	int err = -EINVAL;

	if (mr->kind != RXE_MR_FAST_REG || READ_ONCE(mr->ibmr.pd) != qp->ibqp.pd)
		return -EINVAL;
	spin_lock_irqsave(&p->lock, irqflags);
	if (!p->dead && p->key == key && mr->state != RXE_KEY_INVALID) {
		WRITE_ONCE(mr->state, RXE_KEY_FREE);
		err = 0;
	}
	spin_unlock_irqrestore(&p->lock, irqflags);
	return err;
}

static int rxe_mw_invalidate(struct rxe_mw *mw, struct rxe_qp *qp, u32 rkey,
			     bool remote)
{
	struct rxe_mr *mr = NULL;
	unsigned long irqflags;
	int err = -EINVAL;

	if (mw->ibmw.type != IB_MW_TYPE_2 || mw->ibmw.pd != qp->ibqp.pd)
		return -EINVAL;
	spin_lock_irqsave(&mw->lock, irqflags);
	if (mw->state == RXE_KEY_VALID && mw->ibmw.rkey == rkey &&
	    (!remote || mw->qp_serial == qp->serial)) {
		mr = rxe_mw_unbind_locked(mw);
		err = 0;
	}
	spin_unlock_irqrestore(&mw->lock, irqflags);
	if (mr)
		rxe_mr_unbind_mw(mr);
	return err;
}

/**
 * rxe_invalidate_key() - execute a LOCAL_INV, or the invalidation carried
 *	by an incoming SEND_WITH_INV
 * @rdev: the device
 * @qp: the QP that posted the LOCAL_INV or received the SEND_WITH_INV
 * @key: the key to invalidate (full 32 bits)
 * @remote: the key came from a SEND_WITH_INV
 *
 * A fast-registration MR of the QP's PD goes from VALID to FREE (already
 * FREE is accepted).  A bound type 2 window of the QP's PD is unbound and
 * drops its MR reference; for @remote it must have been bound through
 * @qp.  Other MRs and type 1 windows cannot be invalidated.
 *
 * Context: any; does not sleep.
 * Return: 0, or -EINVAL.
 */
int rxe_invalidate_key(struct rxe_dev *rdev, struct rxe_qp *qp, u32 key,
		       bool remote)
{
	struct rxe_mr *mr;
	struct rxe_mw *mw;
	int err = -EINVAL;

	rcu_read_lock();
	mr = rxe_key_load(rdev, key, RXE_KEY_TAG_MR);
	if (mr && !kref_get_unless_zero(&mr->ref))
		mr = NULL;
	rcu_read_unlock();
	if (mr) {
		err = rxe_mr_invalidate(mr, qp, key);
		rxe_mr_put(mr);
		return err;
	}

	mw = rxe_mw_lookup(rdev, key, qp->ibqp.pd);
	if (mw) {
		err = rxe_mw_invalidate(mw, qp, key, remote);
		rxe_mw_put(mw);
	}
	return err;
}

const struct ib_device_ops rxe_mr_ops = {
	.get_dma_mr = rxe_get_dma_mr,
	.reg_user_mr = rxe_reg_user_mr,
	.rereg_user_mr = rxe_rereg_user_mr,
	.dereg_mr = rxe_dereg_mr,
	.alloc_mr = rxe_alloc_mr,
	.map_mr_sg = rxe_map_mr_sg,
	.alloc_mw = rxe_alloc_mw,
	.dealloc_mw = rxe_dealloc_mw,

	INIT_RDMA_OBJ_SIZE(ib_mw, rxe_mw, ibmw),
};
