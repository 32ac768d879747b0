// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module: wedges the whole guest.  Its init calls
 * stop_machine() with a callback that busy-waits for a long time (an hour by
 * default), so every CPU spins with interrupts off: no timer, no console, no
 * userspace, no in-guest timeout can run.  tests/cases/001-harness-hang.sh uses
 * it to prove that tests/run kills such a guest from the host and fails the
 * case.  (A task merely stuck in D state is handled inside the guest: its
 * timeout fires, blocked tasks are dumped and the guest powers off.)
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/stop_machine.h>

static unsigned int seconds = 3600;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "how long the machine stays frozen, in seconds");

static int harness_hang_spin(void *unused)
{
	unsigned int i;

	for (i = 0; i < seconds * 10; i++)
		mdelay(100);
	return 0;
}

static int harness_hang_init(void)
{
	pr_info("harness_hang: freezing every CPU for %u s\n", seconds);
	stop_machine(harness_hang_spin, NULL, NULL);
	return -EAGAIN;
}
module_init(harness_hang_init);

MODULE_DESCRIPTION("rxe-odp test harness: freezes the machine from module init");
MODULE_LICENSE("GPL");
