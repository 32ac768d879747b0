// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * odpc_selftest: test device for rxe_odp_core.
 *
 * /dev/odpc_selftest lets a test program create regions over its own
 * memory, copy through them, read the counters, and provoke races through
 * two test-only mechanisms:
 *  - a fault-path hook (odpc_region_set_test_hook()) that logs events or
 *    replaces a page of the range between hmm_range_fault() and the region
 *    lock, which forces the read_retry path;
 *  - an "invalidation window": a plain mmu_notifier registered on the
 *    caller's mm whose invalidate_range_start, once armed, sleeps until the
 *    test releases it.  The mmu notifier core calls interval notifiers
 *    before plain ones, so while it sleeps the region's invalidation has
 *    started and not ended: exactly the state in which a fault must block.
 * Events are logged with sequence numbers so the test asserts on order, not
 * on time.
 *
 * Every ioctl validates its input; nothing a test program passes can crash
 * the kernel or make the module WARN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "odp_core.h"
#include "odpc_selftest_uapi.h"

#define ST_MAX_WINDOW_MS	30000

struct st_ctx {
	/* @lock serialises region create/destroy/lookup and @mn setup. */
	struct mutex lock;
	struct xarray regions;		/* id -> struct st_region */

	/* The invalidation window (see the file comment). */
	struct mmu_notifier mn;
	struct mm_struct *mn_mm;	/* registered on, or NULL; @lock */
	spinlock_t win_lock;		/* @win_armed, @win_start, @win_end */
	bool win_armed;
	unsigned long win_start;
	unsigned long win_end;
	unsigned int win_timeout_ms;
	struct completion win_opened;
	struct completion win_release;

	/* Event log, @ev_lock; readers wait on @ev_wq. */
	spinlock_t ev_lock;
	u32 ev_seq;
	u32 ev_count;
	struct odpc_st_event ev[ODPC_ST_MAX_EVENTS];
	wait_queue_head_t ev_wq;
};

struct st_region {
	struct kref ref;
	struct st_ctx *ctx;
	struct odpc_region *r;
	struct mm_struct *mm;		/* creator's mm, only compared */
	atomic_t hook_mode;
	atomic_t hook_count;
	unsigned long hook_va;
};

static void st_event(struct st_ctx *ctx, u32 type, u64 arg)
{
	spin_lock(&ctx->ev_lock);
	if (ctx->ev_count < ODPC_ST_MAX_EVENTS) {
		struct odpc_st_event *e = &ctx->ev[ctx->ev_count++];

		e->seq = ++ctx->ev_seq;
		e->type = type;
		e->arg = arg;
	}
	spin_unlock(&ctx->ev_lock);
	wake_up_all(&ctx->ev_wq);
}

static bool st_event_seen(struct st_ctx *ctx, u32 type)
{
	bool seen = false;
	u32 i;

	spin_lock(&ctx->ev_lock);
	for (i = 0; i < ctx->ev_count; i++)
		if (ctx->ev[i].type == type)
			seen = true;
	spin_unlock(&ctx->ev_lock);
	return seen;
}

/* ---- the invalidation window -------------------------------------- */

static int st_win_start(struct mmu_notifier *mn,
			const struct mmu_notifier_range *range)
{
	struct st_ctx *ctx = container_of(mn, struct st_ctx, mn);
	bool hit;

	if (!mmu_notifier_range_blockable(range))
		return 0;

	spin_lock(&ctx->win_lock);
	hit = ctx->win_armed && range->start < ctx->win_end &&
	      range->end > ctx->win_start;
	if (hit)
		ctx->win_armed = false;
	spin_unlock(&ctx->win_lock);
	if (!hit)
		return 0;

	st_event(ctx, ODPC_EV_WINDOW_OPEN, range->event);
	complete_all(&ctx->win_opened);
	/* Bounded: a broken test must not wedge the mm forever. */
	if (!wait_for_completion_timeout(&ctx->win_release,
					 msecs_to_jiffies(ctx->win_timeout_ms)))
		st_event(ctx, ODPC_EV_WINDOW_TIMEOUT, 0);
	return 0;
}

static const struct mmu_notifier_ops st_win_ops = {
	.invalidate_range_start = st_win_start,
};

static int st_window_arm(struct st_ctx *ctx, const struct odpc_st_window *w)
{
	int ret = 0;

	if (!current->mm || !w->len || w->va + w->len < w->va ||
	    !w->timeout_ms || w->timeout_ms > ST_MAX_WINDOW_MS)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	if (!ctx->mn_mm) {
		ctx->mn.ops = &st_win_ops;
		ret = mmu_notifier_register(&ctx->mn, current->mm);
		if (ret)
			goto out;
		ctx->mn_mm = current->mm;
	} else if (ctx->mn_mm != current->mm) {
		ret = -EINVAL;
		goto out;
	}

	spin_lock(&ctx->win_lock);
	if (ctx->win_armed) {
		spin_unlock(&ctx->win_lock);
		ret = -EBUSY;
		goto out;
	}
	reinit_completion(&ctx->win_opened);
	reinit_completion(&ctx->win_release);
	ctx->win_start = w->va;
	ctx->win_end = w->va + w->len;
	ctx->win_timeout_ms = w->timeout_ms;
	ctx->win_armed = true;
	spin_unlock(&ctx->win_lock);
out:
	mutex_unlock(&ctx->lock);
	return ret;
}

static int st_window_wait(struct st_ctx *ctx, const struct odpc_st_window *w)
{
	unsigned long tmo;
	long t;

	if (!w->timeout_ms || w->timeout_ms > ST_MAX_WINDOW_MS)
		return -EINVAL;
	tmo = msecs_to_jiffies(w->timeout_ms);
	t = wait_for_completion_interruptible_timeout(&ctx->win_opened, tmo);
	if (t < 0)
		return t;
	return t ? 0 : -ETIMEDOUT;
}

static int st_wait_event(struct st_ctx *ctx, const struct odpc_st_window *w)
{
	long t;

	if (!w->wait_event || !w->timeout_ms ||
	    w->timeout_ms > ST_MAX_WINDOW_MS)
		return -EINVAL;
	t = wait_event_interruptible_timeout(ctx->ev_wq,
					     st_event_seen(ctx, w->wait_event),
					     msecs_to_jiffies(w->timeout_ms));
	if (t < 0)
		return t;
	return t ? 0 : -ETIMEDOUT;
}

static int st_window_release(struct st_ctx *ctx,
			     const struct odpc_st_window *w)
{
	unsigned long tmo;
	long t = 1;

	if (w->timeout_ms > ST_MAX_WINDOW_MS)
		return -EINVAL;
	tmo = msecs_to_jiffies(w->timeout_ms);
	if (w->wait_event)
		t = wait_event_interruptible_timeout(ctx->ev_wq,
						     st_event_seen(ctx, w->wait_event),
						     tmo);
	st_event(ctx, ODPC_EV_WINDOW_RELEASE, 0);
	complete_all(&ctx->win_release);
	if (t < 0)
		return t;
	return t ? 0 : -ETIMEDOUT;
}

/* ---- regions -------------------------------------------------------- */

static void st_region_free(struct kref *ref)
{
	struct st_region *sr = container_of(ref, struct st_region, ref);

	odpc_region_destroy(sr->r);
	kfree(sr);
}

static void st_region_put(struct st_region *sr)
{
	kref_put(&sr->ref, st_region_free);
}

static struct st_region *st_region_get(struct st_ctx *ctx, u32 id)
{
	struct st_region *sr;

	mutex_lock(&ctx->lock);
	sr = xa_load(&ctx->regions, id);
	if (sr)
		kref_get(&sr->ref);
	mutex_unlock(&ctx->lock);
	return sr;
}

static void st_hook(struct odpc_region *r, enum odpc_test_point pt,
		    void *priv)
{
	struct st_region *sr = priv;
	int mode = atomic_read(&sr->hook_mode);
	unsigned long addr;

	if (mode == ODPC_ST_HOOK_TRACE) {
		static const u32 type[] = {
			[ODPC_TP_BEFORE_READ_BEGIN] = ODPC_EV_READ_BEGIN,
			[ODPC_TP_AFTER_READ_BEGIN] = ODPC_EV_READ_BEGUN,
			[ODPC_TP_BEFORE_LOCK] = ODPC_EV_BEFORE_LOCK,
		};

		if (pt < ARRAY_SIZE(type))
			st_event(sr->ctx, type[pt], 0);
		return;
	}
	if (mode != ODPC_ST_HOOK_REMAP || pt != ODPC_TP_BEFORE_LOCK)
		return;
	/* Only from the creator's own thread: vm_mmap() acts on current. */
	if (current->mm != sr->mm || atomic_dec_if_positive(&sr->hook_count) < 0)
		return;
	addr = vm_mmap(NULL, sr->hook_va, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, 0);
	st_event(sr->ctx, ODPC_EV_REMAP, IS_ERR_VALUE(addr) ? addr : 0);
}

static int st_create(struct st_ctx *ctx, struct odpc_st_create __user *uarg)
{
	struct odpc_region_params p = {};
	struct odpc_st_create a;
	struct st_region *sr;
	u32 id;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(ODPC_ST_REGION_WRITE | ODPC_ST_REGION_IMPLICIT))
		return -EINVAL;

	sr = kzalloc(sizeof(*sr), GFP_KERNEL);
	if (!sr)
		return -ENOMEM;
	kref_init(&sr->ref);
	sr->ctx = ctx;
	sr->mm = current->mm;

	p.start = a.va;
	p.length = a.len;
	p.flags = (a.flags & ODPC_ST_REGION_WRITE) ? ODPC_REGION_WRITE : 0;
	if (a.flags & ODPC_ST_REGION_IMPLICIT)
		p.flags |= ODPC_REGION_IMPLICIT;
	p.priv = sr;
	sr->r = odpc_region_create(&p);
	if (IS_ERR(sr->r)) {
		ret = PTR_ERR(sr->r);
		goto err_free;
	}
	odpc_region_set_test_hook(sr->r, st_hook, sr);

	mutex_lock(&ctx->lock);
	ret = xa_alloc(&ctx->regions, &id, sr, xa_limit_31b, GFP_KERNEL);
	mutex_unlock(&ctx->lock);
	if (ret)
		goto err_destroy;

	if (put_user(id, &uarg->id)) {
		mutex_lock(&ctx->lock);
		xa_erase(&ctx->regions, id);
		mutex_unlock(&ctx->lock);
		ret = -EFAULT;
		goto err_destroy;
	}
	return 0;

err_destroy:
	odpc_region_destroy(sr->r);
err_free:
	kfree(sr);
	return ret;
}

static int st_destroy(struct st_ctx *ctx, u32 __user *uarg)
{
	struct st_region *sr;
	u32 id;

	if (get_user(id, uarg))
		return -EFAULT;
	mutex_lock(&ctx->lock);
	sr = xa_erase(&ctx->regions, id);
	mutex_unlock(&ctx->lock);
	if (!sr)
		return -ENOENT;
	st_region_put(sr);
	return 0;
}

static unsigned int st_flags(u32 f)
{
	return ((f & ODPC_ST_WRITE) ? ODPC_WRITE : 0) |
	       ((f & ODPC_ST_NOFAULT) ? ODPC_NOFAULT : 0);
}

static int st_copy(struct st_ctx *ctx, const struct odpc_st_copy __user *uarg)
{
	void __user *ubuf;
	struct odpc_st_copy a;
	struct st_region *sr;
	void *kbuf;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(ODPC_ST_WRITE | ODPC_ST_NOFAULT | ODPC_ST_TRACE) ||
	    a.len > ODPC_ST_MAX_COPY)
		return -EINVAL;
	ubuf = u64_to_user_ptr(a.buf);

	sr = st_region_get(ctx, a.id);
	if (!sr)
		return -ENOENT;
	kbuf = kvmalloc(a.len ? a.len : 1, GFP_KERNEL | __GFP_NOWARN);
	if (!kbuf) {
		ret = -ENOMEM;
		goto out_put;
	}
	/* User memory is never touched with a region lock held. */
	if ((a.flags & ODPC_ST_WRITE) && copy_from_user(kbuf, ubuf, a.len)) {
		ret = -EFAULT;
		goto out_free;
	}
	if (a.flags & ODPC_ST_TRACE)
		st_event(ctx, ODPC_EV_COPY_START, 0);
	ret = odpc_region_copy(sr->r, a.va, kbuf, a.len, st_flags(a.flags));
	if (a.flags & ODPC_ST_TRACE)
		st_event(ctx, ODPC_EV_COPY_DONE, (u64)-ret);
	if (!ret && !(a.flags & ODPC_ST_WRITE) &&
	    copy_to_user(ubuf, kbuf, a.len))
		ret = -EFAULT;
out_free:
	kvfree(kbuf);
out_put:
	st_region_put(sr);
	return ret;
}

static int st_prefetch(struct st_ctx *ctx,
		       const struct odpc_st_prefetch __user *uarg)
{
	struct odpc_st_prefetch a;
	struct st_region *sr;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(ODPC_ST_WRITE | ODPC_ST_NOFAULT))
		return -EINVAL;
	sr = st_region_get(ctx, a.id);
	if (!sr)
		return -ENOENT;
	ret = odpc_region_prefetch(sr->r, a.va, a.len, st_flags(a.flags));
	st_region_put(sr);
	return ret;
}

static int st_atomic(struct st_ctx *ctx, struct odpc_st_atomic __user *uarg)
{
	struct odpc_st_atomic a;
	struct st_region *sr;
	enum odpc_atomic_op op;
	u64 orig = 0;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.op == ODPC_ST_CMP_SWAP)
		op = ODPC_ATOMIC_CMP_SWAP;
	else if (a.op == ODPC_ST_FETCH_ADD)
		op = ODPC_ATOMIC_FETCH_ADD;
	else
		return -EINVAL;
	sr = st_region_get(ctx, a.id);
	if (!sr)
		return -ENOENT;
	ret = odpc_region_atomic64(sr->r, a.va, op, a.compare, a.swap_add,
				   &orig);
	st_region_put(sr);
	if (!ret && put_user(orig, &uarg->orig))
		ret = -EFAULT;
	return ret;
}

static int st_stats(struct st_ctx *ctx, struct odpc_st_stats __user *uarg)
{
	struct odpc_st_stats a;
	struct st_region *sr;
	struct odpc_stats s;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.id == ODPC_ST_GLOBAL) {
		odpc_global_get_stats(&s);
	} else {
		sr = st_region_get(ctx, a.id);
		if (!sr)
			return -ENOENT;
		odpc_region_get_stats(sr->r, &s);
		st_region_put(sr);
	}
	a.c.faults = s.faults;
	a.c.pages_faulted = s.pages_faulted;
	a.c.huge_pages = s.huge_pages;
	a.c.max_order = s.max_order;
	a.c.fault_retries = s.fault_retries;
	a.c.fault_errors = s.fault_errors;
	a.c.fault_ns = s.fault_ns;
	a.c.invalidations = s.invalidations;
	a.c.pages_invalidated = s.pages_invalidated;
	a.c.pages_dirtied = s.pages_dirtied;
	a.c.prefetches = s.prefetches;
	a.c.regions = s.regions;
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static int st_set_hook(struct st_ctx *ctx,
		       const struct odpc_st_hook __user *uarg)
{
	struct odpc_st_hook a;
	struct st_region *sr;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.mode > ODPC_ST_HOOK_REMAP || a.count > INT_MAX ||
	    (a.va & ~PAGE_MASK))
		return -EINVAL;
	sr = st_region_get(ctx, a.id);
	if (!sr)
		return -ENOENT;
	if (a.mode == ODPC_ST_HOOK_REMAP &&
	    (a.va < odpc_region_start(sr->r) ||
	     a.va - odpc_region_start(sr->r) >= odpc_region_length(sr->r))) {
		st_region_put(sr);
		return -EINVAL;
	}
	/* Mode last: the hook reads mode, then count and va. */
	atomic_set(&sr->hook_mode, ODPC_ST_HOOK_NONE);
	sr->hook_va = a.va;
	atomic_set(&sr->hook_count, a.count);
	smp_wmb();	/* pairs with the hook's reads after hook_mode */
	atomic_set(&sr->hook_mode, a.mode);
	st_region_put(sr);
	return 0;
}

static int st_events(struct st_ctx *ctx, struct odpc_st_events __user *uarg)
{
	struct odpc_st_events *a;
	int ret = 0;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	spin_lock(&ctx->ev_lock);
	a->count = ctx->ev_count;
	memcpy(a->ev, ctx->ev, sizeof(a->ev[0]) * ctx->ev_count);
	spin_unlock(&ctx->ev_lock);
	if (copy_to_user(uarg, a, sizeof(*a)))
		ret = -EFAULT;
	kfree(a);
	return ret;
}

static void st_events_reset(struct st_ctx *ctx)
{
	spin_lock(&ctx->ev_lock);
	ctx->ev_count = 0;
	ctx->ev_seq = 0;
	spin_unlock(&ctx->ev_lock);
}

/* Copy the range @iters times through a kernel buffer; report the time. */
static int st_bench(struct st_ctx *ctx, struct odpc_st_bench __user *uarg)
{
	struct odpc_st_bench a;
	struct st_region *sr;
	u64 t0, ns = 0;
	void *kbuf;
	u32 i;
	int ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(ODPC_ST_WRITE | ODPC_ST_NOFAULT) || !a.len ||
	    a.len > ODPC_ST_MAX_COPY || !a.iters || a.iters > 100000)
		return -EINVAL;
	sr = st_region_get(ctx, a.id);
	if (!sr)
		return -ENOENT;
	kbuf = kvzalloc(a.len, GFP_KERNEL | __GFP_NOWARN);
	if (!kbuf) {
		ret = -ENOMEM;
		goto out_put;
	}
	t0 = ktime_get_ns();
	for (i = 0; i < a.iters && !ret; i++) {
		ret = odpc_region_copy(sr->r, a.va, kbuf, a.len,
				       st_flags(a.flags));
		if (fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	ns = ktime_get_ns() - t0;
	kvfree(kbuf);
	if (!ret && put_user(ns, &uarg->ns))
		ret = -EFAULT;
out_put:
	st_region_put(sr);
	return ret;
}

/* PG_dirty of the page mapped at a user address (briefly pinned). */
static int st_page_dirty(struct odpc_st_page __user *uarg)
{
	struct odpc_st_page a;
	struct page *page;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	ret = get_user_pages_fast(a.va, 1, 0, &page);
	if (ret != 1)
		return ret < 0 ? ret : -EFAULT;
	a.dirty = PageDirty(compound_head(page));
	put_page(page);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long st_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct st_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct odpc_st_window w;

	switch (cmd) {
	case ODPC_ST_CREATE:
		return st_create(ctx, uarg);
	case ODPC_ST_DESTROY:
		return st_destroy(ctx, uarg);
	case ODPC_ST_COPY:
		return st_copy(ctx, uarg);
	case ODPC_ST_PREFETCH:
		return st_prefetch(ctx, uarg);
	case ODPC_ST_ATOMIC:
		return st_atomic(ctx, uarg);
	case ODPC_ST_STATS:
		return st_stats(ctx, uarg);
	case ODPC_ST_HOOK:
		return st_set_hook(ctx, uarg);
	case ODPC_ST_EVENTS:
		return st_events(ctx, uarg);
	case ODPC_ST_EVENTS_RESET:
		st_events_reset(ctx);
		return 0;
	case ODPC_ST_BENCH:
		return st_bench(ctx, uarg);
	case ODPC_ST_PAGE_DIRTY:
		return st_page_dirty(uarg);
	case ODPC_ST_WINDOW_ARM:
	case ODPC_ST_WINDOW_WAIT:
	case ODPC_ST_WINDOW_RELEASE:
	case ODPC_ST_WAIT_EVENT:
		if (copy_from_user(&w, uarg, sizeof(w)))
			return -EFAULT;
		if (cmd == ODPC_ST_WINDOW_ARM)
			return st_window_arm(ctx, &w);
		if (cmd == ODPC_ST_WINDOW_WAIT)
			return st_window_wait(ctx, &w);
		if (cmd == ODPC_ST_WAIT_EVENT)
			return st_wait_event(ctx, &w);
		return st_window_release(ctx, &w);
	default:
		return -ENOTTY;
	}
}

static int st_open(struct inode *inode, struct file *file)
{
	struct st_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	mutex_init(&ctx->lock);
	xa_init_flags(&ctx->regions, XA_FLAGS_ALLOC1);
	spin_lock_init(&ctx->win_lock);
	spin_lock_init(&ctx->ev_lock);
	init_completion(&ctx->win_opened);
	init_completion(&ctx->win_release);
	init_waitqueue_head(&ctx->ev_wq);
	file->private_data = ctx;
	return 0;
}

static int st_release(struct inode *inode, struct file *file)
{
	struct st_ctx *ctx = file->private_data;
	struct st_region *sr;
	unsigned long id;

	/* Nothing else can use ctx now: no ioctl is running. */
	spin_lock(&ctx->win_lock);
	ctx->win_armed = false;
	spin_unlock(&ctx->win_lock);
	complete_all(&ctx->win_release);

	xa_for_each(&ctx->regions, id, sr) {
		xa_erase(&ctx->regions, id);
		st_region_put(sr);
	}
	xa_destroy(&ctx->regions);

	/* Waits for a running st_win_start(); drops the mm reference. */
	if (ctx->mn_mm)
		mmu_notifier_unregister(&ctx->mn, ctx->mn_mm);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
	return 0;
}

static const struct file_operations st_fops = {
	.owner = THIS_MODULE,
	.open = st_open,
	.release = st_release,
	.unlocked_ioctl = st_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice st_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "odpc_selftest",
	.fops = &st_fops,
	.mode = 0600,
};

module_misc_device(st_misc);

MODULE_DESCRIPTION("Self-test device for rxe_odp_core");
MODULE_LICENSE("Dual BSD/GPL");
