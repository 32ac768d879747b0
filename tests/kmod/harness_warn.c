// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module: emits one kernel WARNING while loading and then
 * refuses to load, so the guest is left as it was apart from the log entry.
 * tests/cases/000-harness-warn.sh uses it to prove that tests/run fails a case
 * whose kernel log carries a warning.
 */
#include <linux/module.h>
#include <linux/bug.h>
#include <linux/errno.h>

static int harness_warn_init(void)
{
	/* The condition is always true; the warning is the point. */
	WARN(1, "harness_warn: deliberate warning for the test harness self-test\n");
	return -EAGAIN;
}
module_init(harness_warn_init);

MODULE_DESCRIPTION("rxe-odp test harness: deliberate WARNING on load");
MODULE_LICENSE("GPL");
