// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * PSN arithmetic, padding and the timer conversions of ROCEV2_WIRE.md
 * C6, C7 and C9.
 */
#include "rxe_wire.h"
#include "tap.h"

/* Reference model: a is after b iff (a - b) mod 2^24 is in [1, 2^23). */
static int ref_cmp(u32 a, u32 b)
{
	u32 d = (a - b) & 0xffffff;

	if (!d)
		return 0;
	return d < 0x800000 ? 1 : -1;
}

static u32 lcg(u32 *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s;
}

static void test_next_add(void)
{
	tap_ok(rxe_psn_next(0) == 1 && rxe_psn_next(0xabc) == 0xabd &&
	       rxe_psn_next(0xfffffe) == 0xffffff && rxe_psn_next(0xffffff) == 0,
	       "next PSN: 0xfffffe -> 0xffffff -> 0");
	tap_ok(rxe_psn_add(0xfffffe, 3) == 1 && rxe_psn_add(5, 0) == 5 &&
	       rxe_psn_add(0xffffff, 0xffffff) == 0xfffffe &&
	       rxe_psn_add(0, 0x1000000) == 0,
	       "PSN add wraps modulo 2^24");
}

static void test_msg_npsn(void)
{
	tap_ok(rxe_msg_npsn(0, 1024) == 1 && rxe_msg_npsn(1, 1024) == 1 &&
	       rxe_msg_npsn(1024, 1024) == 1 && rxe_msg_npsn(1025, 1024) == 2 &&
	       rxe_msg_npsn(65536, 1024) == 64 && rxe_msg_npsn(65537, 256) == 257,
	       "message PSNs: one per MTU-sized packet, one for an empty message");
	tap_ok(rxe_msg_npsn(0x80000000u, 256) == 0x800000 &&
	       rxe_msg_npsn(0xffffffffu, 4096) == 0x100000,
	       "message PSNs: 2 GiB and 4 GiB - 1 without overflow");
}

static void test_compare(void)
{
	unsigned int bad = 0;
	u32 seed = 12345;

	tap_ok(rxe_psn_before(0xfffffe, 0x000001) &&
	       rxe_psn_after(0x000001, 0xfffffe) &&
	       rxe_psn_cmp(0xfffffe, 0x000001) < 0 &&
	       rxe_psn_cmp(0x000001, 0xfffffe) > 0,
	       "0xfffffe is before 0x000001 across the wrap");
	tap_ok(rxe_psn_cmp(0xabc, 0xabc) == 0 && !rxe_psn_before(7, 7) &&
	       !rxe_psn_after(7, 7) && rxe_psn_cmp(0x1000005, 5) == 0 &&
	       rxe_psn_cmp(0xff000000, 0) == 0,
	       "equal PSNs compare 0, bits above 24 ignored");
	tap_ok(rxe_psn_diff(1, 0xfffffe) == 3 && rxe_psn_diff(0xfffffe, 1) == -3 &&
	       rxe_psn_diff(0x7fffff, 0) == 0x7fffff &&
	       rxe_psn_diff(0x800000, 0) == -0x800000 &&
	       rxe_psn_diff(0, 0x7fffff) == -0x7fffff &&
	       rxe_psn_diff(0x10, 0x10) == 0,
	       "signed PSN distance in [-2^23, 2^23)");
	tap_ok(rxe_psn_after(0x7fffff, 0) && rxe_psn_before(0x800000, 0) &&
	       rxe_psn_before(0x800001, 0),
	       "half-range boundary: +2^23-1 is after, +2^23 reads as before");

	for (int i = 0; i < 200000; i++) {
		u32 a = lcg(&seed), b = lcg(&seed);
		s32 c = rxe_psn_cmp(a, b);
		int sc = c > 0 ? 1 : c < 0 ? -1 : 0;

		if (sc != ref_cmp(a, b) ||
		    rxe_psn_before(a, b) != (ref_cmp(a, b) < 0) ||
		    rxe_psn_after(a, b) != (ref_cmp(a, b) > 0))
			bad++;
		if (rxe_psn_add(b, (u32)rxe_psn_diff(a, b)) != (a & 0xffffff))
			bad++;
	}
	tap_ok(bad == 0,
	       "200000 random pairs: compare agrees with the modular model, b + diff(a, b) == a");
}

static void test_window(void)
{
	tap_ok(rxe_psn_in_window(0xfffffe, 0xfffffe, 4) &&
	       rxe_psn_in_window(0xffffff, 0xfffffe, 4) &&
	       rxe_psn_in_window(0, 0xfffffe, 4) &&
	       rxe_psn_in_window(1, 0xfffffe, 4) &&
	       !rxe_psn_in_window(2, 0xfffffe, 4) &&
	       !rxe_psn_in_window(0xfffffd, 0xfffffe, 4),
	       "window of 4 from 0xfffffe holds 0xfffffe, 0xffffff, 0, 1 only");
	tap_ok(!rxe_psn_in_window(5, 5, 0) && rxe_psn_in_window(5, 5, 1) &&
	       !rxe_psn_in_window(6, 5, 1),
	       "empty and one-PSN windows");
	tap_ok(rxe_psn_in_window(128, 0, 129) && !rxe_psn_in_window(129, 0, 129) &&
	       rxe_psn_in_window(0x7f, 0xffffff80, 256),
	       "128-PSN requester window bounds; start bits above 24 ignored");
}

static void test_pad(void)
{
	static const u8 want[8] = { 0, 3, 2, 1, 0, 3, 2, 1 };
	bool okay = true;

	for (u32 n = 0; n < 8; n++)
		okay &= rxe_pad_len(n) == want[n];
	tap_ok(okay, "pad for payload lengths 0..7 is 0,3,2,1,0,3,2,1");
	tap_ok(rxe_pad_len(4096) == 0 && rxe_pad_len(4097) == 3 &&
	       rxe_pad_len(0xffffffff) == 1 && rxe_pad_len(0x800000) == 0,
	       "pad for large lengths");
}

static void test_rnr(void)
{
	bool okay = true;

	tap_ok(rxe_rnr_timer_usec(0) == 655360 && rxe_rnr_timer_usec(1) == 10 &&
	       rxe_rnr_timer_usec(2) == 20 && rxe_rnr_timer_usec(3) == 30 &&
	       rxe_rnr_timer_usec(7) == 120 && rxe_rnr_timer_usec(12) == 640 &&
	       rxe_rnr_timer_usec(14) == 1280 && rxe_rnr_timer_usec(18) == 5120 &&
	       rxe_rnr_timer_usec(24) == 40960 && rxe_rnr_timer_usec(31) == 491520,
	       "RNR timer spot checks: 0 = 655.36 ms, 1 = 10 us, 14 = 1.28 ms, 31 = 491.52 ms");
	tap_ok(rxe_rnr_timer_usec(25) == 61440,
	       "RNR timer code 25 = 61440 us (stock's table: 61410)");
	/* Odd codes from 3 double from 30 us, even codes from 4 from 40 us. */
	for (u8 c = 3; c < 32; c++) {
		u32 want = (c & 1) ? 30u << ((c - 3) / 2) : 40u << ((c - 4) / 2);

		okay &= rxe_rnr_timer_usec(c) == want;
		okay &= rxe_rnr_timer_usec(c) > rxe_rnr_timer_usec(c - 1);
	}
	okay &= rxe_rnr_timer_usec(32) == 655360 &&
		rxe_rnr_timer_usec(33) == 10 && rxe_rnr_timer_usec(255) == 491520;
	tap_ok(okay, "RNR timer: whole table increasing from code 1, code 0 longest, code masked to 5 bits");
}

static void test_ack_timeout(void)
{
	tap_ok(rxe_ack_timeout_ns(0) == 0, "ACK timeout 0 disables the timer");
	tap_ok(rxe_ack_timeout_ns(1) == 8192 && rxe_ack_timeout_ns(14) == 67108864 &&
	       rxe_ack_timeout_ns(19) == 2147483648ull &&
	       rxe_ack_timeout_ns(31) == 4096ull << 31,
	       "ACK timeout = 4096 ns << timeout (14 = 67.1 ms, 31 = 8796 s)");
	tap_ok(rxe_ack_timeout_ns(32) == 0 && rxe_ack_timeout_ns(33) == 8192,
	       "ACK timeout is masked to 5 bits");
}

int main(void)
{
	test_next_add();
	test_msg_npsn();
	test_compare();
	test_window();
	test_pad();
	test_rnr();
	test_ack_timeout();
	return tap_done();
}
