// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of kernel-notifier/odpc_cache.h (entry encoding, range
 * checks), compiled in userspace under ASan/UBSan.  Prints TAP.
 */
#include <stdio.h>
#include <stdlib.h>

#include "odpc_cache.h"

static int n, failed;

static void ok(int cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
}

int main(void)
{
	const u64 task = 0x00007ffffffff000ull;
	unsigned long e, maxpfn = ~0UL >> ODPC_E_PFN_SHIFT;
	u64 s = 0, t = 0;

	printf("1..26\n");

	e = odpc_entry_make(0x12345, 0, 0);
	ok(odpc_entry_pfn(e) == 0x12345, "pfn round trip");
	ok(odpc_entry_usable(e, 0) && !odpc_entry_usable(e, 1),
	   "read-only entry serves reads only");
	e = odpc_entry_make(maxpfn, 1, 1);
	ok(odpc_entry_pfn(e) == maxpfn, "largest pfn round trip");
	ok(odpc_entry_usable(e, 1) && (e & ODPC_E_HUGE), "writable, huge");
	ok(!(e & ODPC_E_WRITTEN), "not written when made");
	ok(odpc_entry_pfn(e | ODPC_E_WRITTEN) == maxpfn,
	   "flags do not leak into the pfn");
	ok(!odpc_entry_usable(0, 0), "empty entry unusable");
	e = odpc_entry_make(0, 1, 0);
	ok(odpc_entry_usable(e, 1), "pfn 0 is still a valid entry");

	ok(odpc_range_align(0x1000, 0, task, &s, &t) == -EINVAL, "zero length");
	ok(odpc_range_align(~0ull - 10, 20, task, &s, &t) == -EINVAL, "wraps");
	ok(odpc_range_align(~0ull, 1, ~0ull, &s, &t) == -EINVAL,
	   "end 2^64 wraps to 0");
	ok(odpc_range_align(task - 1, 2, task, &s, &t) == -EINVAL,
	   "beyond limit");
	ok(odpc_range_align(task - 1, 1, task, &s, &t) == 0 &&
	   s == task - 4096 && t == task, "up to the limit");
	ok(odpc_range_align(1, 1ull << 62, task, &s, &t) == -EINVAL, "huge");
	ok(odpc_range_align(0x1234, 0x10, task, &s, &t) == 0 &&
	   s == 0x1000 && t == 0x2000, "aligned out");
	ok(odpc_range_align(0x1000, 0x1000, task, &s, &t) == 0 &&
	   s == 0x1000 && t == 0x2000, "aligned stays");
	ok(odpc_range_align(0xfff, 2, task, &s, &t) == 0 &&
	   s == 0 && t == 0x2000, "straddling a boundary");
	ok(odpc_range_align(0, 1, ~0ull, &s, &t) == -EINVAL,
	   "limit that would let rounding wrap is refused");

	ok(odpc_range_inside(0x1000, 0x3000, 0x1000, 0x2000), "whole");
	ok(!odpc_range_inside(0x1000, 0x3000, 0x1000, 0x2001), "one past");
	ok(!odpc_range_inside(0x1000, 0x3000, 0xfff, 1), "before");
	ok(odpc_range_inside(0x1000, 0x3000, 0x3000, 0), "empty at end");
	ok(!odpc_range_inside(0x1000, 0x3000, 0x3001, 0), "empty past end");
	ok(!odpc_range_inside(0x1000, 0x3000, 0x2000, ~0ull),
	   "length that wraps");
	ok(odpc_page_index(0x1000, 0x2fff) == 1, "page index");
	ok(odpc_page_index(0x1000, 0x1000) == 0, "page index 0");

	return failed ? 1 : 0;
}
