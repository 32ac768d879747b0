// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module: its init sleeps uninterruptibly for a long time
 * (an hour by default), so the insmod process sits in D state and ignores
 * SIGKILL, the way a task stuck in a driver deadlock would.
 * tests/cases/001-harness-hang.sh uses it to prove that tests/run kills a
 * wedged guest from the host and fails the case.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/delay.h>
#include <linux/errno.h>

static unsigned int seconds = 3600;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "how long module init blocks, in seconds");

static int harness_hang_init(void)
{
	unsigned int i;

	pr_info("harness_hang: blocking module init for %u s\n", seconds);
	for (i = 0; i < seconds; i++)
		msleep(1000);	/* uninterruptible: SIGKILL cannot end this */
	return -EAGAIN;
}
module_init(harness_hang_init);

MODULE_DESCRIPTION("rxe-odp test harness: module init that blocks in D state");
MODULE_LICENSE("GPL");
