// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_odp_core: module glue, counters, debugfs, tracepoints.
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>

#include "odpc_internal.h"

#define CREATE_TRACE_POINTS
#include "odpc_trace.h"

unsigned int odpc_fault_max_retries = 32;
module_param_named(fault_max_retries, odpc_fault_max_retries, uint, 0644);
MODULE_PARM_DESC(fault_max_retries,
		 "Fault restarts caused by concurrent invalidations before giving up with -EAGAIN (default 32)");

unsigned int odpc_fault_around = 16;
module_param_named(fault_around, odpc_fault_around, uint, 0644);
MODULE_PARM_DESC(fault_around,
		 "Pages after a faulted access also recorded if already present (default 16)");

/* Global totals: per-CPU, summed by readers (approximate while changing). */
struct odpc_pcpu_stats {
	u64 c[ODPC_C_NR];
};

static DEFINE_PER_CPU(struct odpc_pcpu_stats, odpc_pcpu);
static atomic_t odpc_global_max_order = ATOMIC_INIT(0);

/* odpc_regions and odpc_nregions are protected by odpc_regions_lock. */
static DEFINE_MUTEX(odpc_regions_lock);
static LIST_HEAD(odpc_regions);
static u64 odpc_nregions;

static struct dentry *odpc_debugfs;

void odpc_count(struct odpc_region *r, enum odpc_counter c, u64 n)
{
	atomic64_add(n, &r->counters[c]);
	this_cpu_add(odpc_pcpu.c[c], n);
}

/* Called under r->lock. */
void odpc_note_order(struct odpc_region *r, unsigned int order)
{
	int old = atomic_read(&odpc_global_max_order);

	if (order > r->max_order)
		WRITE_ONCE(r->max_order, order);
	while ((int)order > old &&
	       !atomic_try_cmpxchg(&odpc_global_max_order, &old, order))
		;
}

void odpc_region_list_add(struct odpc_region *r)
{
	mutex_lock(&odpc_regions_lock);
	list_add_tail(&r->node, &odpc_regions);
	odpc_nregions++;
	mutex_unlock(&odpc_regions_lock);
}

void odpc_region_list_del(struct odpc_region *r)
{
	mutex_lock(&odpc_regions_lock);
	list_del(&r->node);
	odpc_nregions--;
	mutex_unlock(&odpc_regions_lock);
}

static void odpc_fill_stats(struct odpc_stats *out, const u64 *c)
{
	out->faults = c[ODPC_C_FAULTS];
	out->pages_faulted = c[ODPC_C_PAGES_FAULTED];
	out->huge_pages = c[ODPC_C_HUGE_PAGES];
	out->fault_retries = c[ODPC_C_FAULT_RETRIES];
	out->fault_errors = c[ODPC_C_FAULT_ERRORS];
	out->fault_ns = c[ODPC_C_FAULT_NS];
	out->invalidations = c[ODPC_C_INVALIDATIONS];
	out->pages_invalidated = c[ODPC_C_PAGES_INVALIDATED];
	out->pages_dirtied = c[ODPC_C_PAGES_DIRTIED];
	out->prefetches = c[ODPC_C_PREFETCHES];
}

/**
 * odpc_region_get_stats() - read the counters of one region
 * @region: the region
 * @out:    filled with the region's counters; for an implicit region the
 *          sums over its children, and @out->regions its number of children
 *
 * Lockless; each counter is read atomically, the set is not a snapshot.
 */
void odpc_region_get_stats(struct odpc_region *region, struct odpc_stats *out)
{
	u64 c[ODPC_C_NR];
	int i;

	for (i = 0; i < ODPC_C_NR; i++)
		c[i] = atomic64_read(&region->counters[i]);
	if (region->flags & ODPC_REGION_IMPLICIT) {
		odpc_implicit_sum(region, c, &out->max_order, &out->regions);
	} else {
		out->max_order = READ_ONCE(region->max_order);
		out->regions = 0;
	}
	odpc_fill_stats(out, c);
}
EXPORT_SYMBOL_GPL(odpc_region_get_stats);

/**
 * odpc_global_get_stats() - read the totals over all regions, ever
 * @out: filled with the sums of the per-CPU counters
 *
 * Counters of destroyed regions stay in the totals.  @out->regions is the
 * number of regions alive now.  May sleep.
 */
void odpc_global_get_stats(struct odpc_stats *out)
{
	u64 c[ODPC_C_NR] = { 0 };
	int cpu, i;

	for_each_possible_cpu(cpu) {
		const struct odpc_pcpu_stats *s = per_cpu_ptr(&odpc_pcpu, cpu);

		for (i = 0; i < ODPC_C_NR; i++)
			c[i] += READ_ONCE(s->c[i]);
	}
	odpc_fill_stats(out, c);
	out->max_order = atomic_read(&odpc_global_max_order);
	mutex_lock(&odpc_regions_lock);
	out->regions = odpc_nregions;
	mutex_unlock(&odpc_regions_lock);
}
EXPORT_SYMBOL_GPL(odpc_global_get_stats);

static void odpc_show_stats(struct seq_file *m, const struct odpc_stats *s)
{
	seq_printf(m, "faults %llu\n", s->faults);
	seq_printf(m, "pages_faulted %llu\n", s->pages_faulted);
	seq_printf(m, "huge_pages %llu\n", s->huge_pages);
	seq_printf(m, "max_order %llu\n", s->max_order);
	seq_printf(m, "fault_retries %llu\n", s->fault_retries);
	seq_printf(m, "fault_errors %llu\n", s->fault_errors);
	seq_printf(m, "fault_ns %llu\n", s->fault_ns);
	seq_printf(m, "invalidations %llu\n", s->invalidations);
	seq_printf(m, "pages_invalidated %llu\n", s->pages_invalidated);
	seq_printf(m, "pages_dirtied %llu\n", s->pages_dirtied);
	seq_printf(m, "prefetches %llu\n", s->prefetches);
}

static int odpc_stats_show(struct seq_file *m, void *unused)
{
	struct odpc_stats s;

	odpc_global_get_stats(&s);
	odpc_show_stats(m, &s);
	seq_printf(m, "regions %llu\n", s.regions);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(odpc_stats);

static int odpc_regions_show(struct seq_file *m, void *unused)
{
	struct odpc_region *r;
	struct odpc_stats s;

	mutex_lock(&odpc_regions_lock);
	list_for_each_entry(r, &odpc_regions, node) {
		odpc_region_get_stats(r, &s);
		seq_printf(m, "region %u start 0x%lx end 0x%lx pages %lu valid %lu flags 0x%x\n",
			   r->id, r->start, r->end, r->npages,
			   READ_ONCE(r->nvalid), r->flags);
		odpc_show_stats(m, &s);
	}
	mutex_unlock(&odpc_regions_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(odpc_regions);

static int __init odpc_init(void)
{
	odpc_debugfs = debugfs_create_dir("rxe_odp_core", NULL);
	debugfs_create_file("stats", 0444, odpc_debugfs, NULL,
			    &odpc_stats_fops);
	debugfs_create_file("regions", 0400, odpc_debugfs, NULL,
			    &odpc_regions_fops);
	return 0;
}

static void __exit odpc_exit(void)
{
	debugfs_remove_recursive(odpc_debugfs);
	/*
	 * Users hold module references while they own regions, so this is a
	 * user's bug; the harness fails a run on "rxe-odp: leak".
	 */
	if (!list_empty(&odpc_regions))
		pr_err("rxe-odp: leak: rxe_odp_core unloaded with %llu region(s) alive\n",
		       odpc_nregions);
}

module_init(odpc_init);
module_exit(odpc_exit);

MODULE_DESCRIPTION("NIC-agnostic on-demand paging core for rxe-odp");
MODULE_LICENSE("Dual BSD/GPL");
