// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module: allocates a few small objects while loading and
 * drops every pointer to them, then stays loaded.  On a kernel with kmemleak
 * the harness's scans after the case must report them;
 * tests/cases/005-harness-kmemleak.sh uses it to prove that tests/run fails a
 * case on a kmemleak report.  The init function is not __init, so that the
 * reported backtraces name it.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#define HARNESS_LEAK_COUNT	8
#define HARNESS_LEAK_SIZE	96

static int harness_leak_init(void)
{
	unsigned int i;
	char *p;

	/*
	 * Several objects, so that a stale copy of one pointer on a stack
	 * (which kmemleak treats as a reference) cannot hide them all.
	 */
	for (i = 0; i < HARNESS_LEAK_COUNT; i++) {
		p = kmalloc(HARNESS_LEAK_SIZE, GFP_KERNEL);
		if (!p)
			break;
		strscpy(p, "harness_leak: deliberately lost", HARNESS_LEAK_SIZE);
		/* Keep the compiler from dropping the stores; then forget p. */
		OPTIMIZER_HIDE_VAR(p);
	}
	pr_info("harness_leak: lost %u objects of %u bytes\n", i, HARNESS_LEAK_SIZE);
	return 0;
}
module_init(harness_leak_init);

static void __exit harness_leak_exit(void)
{
}
module_exit(harness_leak_exit);

MODULE_DESCRIPTION("rxe-odp test harness: deliberate memory leak on load");
MODULE_LICENSE("GPL");
