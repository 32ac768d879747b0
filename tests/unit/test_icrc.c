// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ICRC: the test vectors of ROCEV2_WIRE.md C5, the seed, masking (masked
 * fields do not change the ICRC, every other byte does), streaming,
 * alignment, and that the packet is never written.
 */
#include <stdlib.h>

#include "rxe_wire.h"
#include "tap.h"

struct vec {
	const char *name;
	bool ipv6;
	const char *ip, *udp, *data;
	u32 expect;		/* ICRC value; wire bytes are its LE form */
};

static const struct vec vecs[] = {
	{
		"V1 IPv4 RC SEND_ONLY \"hello\"", false,
		"45000034123440004011a531c0a80101c0a80102",
		"c12312b700200000",
		"0430ffff0000001180000abc68656c6c6f00000006347e18",
		0x187e3406,
	},
	{
		"V2 IPv4 RC ACK", false,
		"45000030000140004011b768c0a80102c0a80101",
		"c45612b7001c0000",
		"1100ffff0000001200000abc1f000001e8c3fe8b",
		0x8bfec3e8,
	},
	{
		"V3 IPv4 RC RDMA_WRITE_ONLY", false,
		"45000044123540004011a520c0a80101c0a80102",
		"c12312b700300000",
		"0a00ffff000000118000001000007f00000010000000123400000008"
		"0001020304050607eebf0a17",
		0x170abfee,
	},
	{
		/* Not independently confirmed (doc C13); value recorded. */
		"V4 IPv6 RC SEND_ONLY \"hello\"", true,
		"600000000020114020010db8000000000000000000000001"
		"20010db8000000000000000000000002",
		"c12312b700200000",
		"0430ffff0000001180000abc68656c6c6f000000640137a2",
		0xa2370164,
	},
};

struct pkt {
	u8 ip[40];
	u8 udp[8];
	u8 data[256];
	size_t iplen, len;
	bool ipv6;
};

static void load(struct pkt *p, const struct vec *v)
{
	memset(p, 0, sizeof(*p));
	p->ipv6 = v->ipv6;
	p->iplen = tap_unhex(p->ip, sizeof(p->ip), v->ip);
	tap_unhex(p->udp, sizeof(p->udp), v->udp);
	p->len = tap_unhex(p->data, sizeof(p->data), v->data);
}

static u32 icrc_of(const struct pkt *p)
{
	return rxe_icrc_compute(p->ip, p->ipv6, p->udp, p->data,
				p->len - RXE_ICRC_BYTES);
}

/* Is byte @i of the IP header (bits @bits of it) masked in the ICRC? */
static u8 ip_masked_bits(bool ipv6, size_t i)
{
	if (ipv6) {
		if (i == 0)
			return 0x0f;
		if (i >= 1 && i <= 3)
			return 0xff;
		return i == 7 ? 0xff : 0;
	}
	return (i == 1 || i == 8 || i == 10 || i == 11) ? 0xff : 0;
}

/*
 * Flip every bit of every byte of one region in turn; a bit must change
 * the ICRC exactly when it is not masked.  Returns the number of bits
 * that behaved wrongly.
 */
static unsigned int flip_region(struct pkt *p, u8 *region, size_t n,
				u8 (*masked)(bool ipv6, size_t i), u32 ref,
				unsigned int *nmasked)
{
	unsigned int bad = 0;

	for (size_t i = 0; i < n; i++) {
		u8 m = masked(p->ipv6, i);

		for (int bit = 0; bit < 8; bit++) {
			u8 b = (u8)(1u << bit);
			bool same;

			region[i] ^= b;
			same = icrc_of(p) == ref;
			region[i] ^= b;
			if (m & b)
				(*nmasked)++;
			if (same != !!(m & b))
				bad++;
		}
		/* The whole byte at once, too. */
		region[i] ^= 0xff;
		if ((icrc_of(p) == ref) != (m == 0xff))
			bad++;
		region[i] ^= 0xff;
	}
	return bad;
}

static u8 udp_masked_bits(bool ipv6, size_t i)
{
	(void)ipv6;
	return (i == 6 || i == 7) ? 0xff : 0;
}

static u8 bth_masked_bits(bool ipv6, size_t i)
{
	(void)ipv6;
	return i == RXE_BTH_RESV8A ? 0xff : 0;
}

static void test_vectors(void)
{
	for (size_t k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++) {
		const struct vec *v = &vecs[k];
		struct pkt p;
		u32 got, wire;

		load(&p, v);
		got = icrc_of(&p);
		wire = rxe_icrc_get(p.data + p.len - RXE_ICRC_BYTES);
		tap_ok(got == v->expect && got == wire,
		       "%s: ICRC 0x%08x (wire %02x %02x %02x %02x)", v->name,
		       got, p.data[p.len - 4], p.data[p.len - 3],
		       p.data[p.len - 2], p.data[p.len - 1]);
		tap_ok(rxe_icrc_check(p.ip, p.ipv6, p.udp, p.data, p.len),
		       "%s: rxe_icrc_check accepts it", v->name);
	}
}

static void test_masking(const struct vec *v)
{
	struct pkt p;
	unsigned int bad, nm;
	u32 ref;

	load(&p, v);
	ref = icrc_of(&p);

	nm = 0;
	bad = flip_region(&p, p.ip, p.iplen, ip_masked_bits, ref, &nm);
	tap_ok(bad == 0 && nm == (p.ipv6 ? 4 + 3 * 8 + 8 : 4 * 8),
	       "%s: IP header: %u masked bits ignored, all others change the ICRC (%u wrong)",
	       v->name, nm, bad);

	nm = 0;
	bad = flip_region(&p, p.udp, sizeof(p.udp), udp_masked_bits, ref, &nm);
	tap_ok(bad == 0 && nm == 16,
	       "%s: UDP header: checksum ignored, ports and length covered (%u wrong)",
	       v->name, bad);

	nm = 0;
	bad = flip_region(&p, p.data, RXE_BTH_BYTES, bth_masked_bits, ref, &nm);
	tap_ok(bad == 0 && nm == 8,
	       "%s: BTH: byte 4 ignored, all other bytes covered (%u wrong)",
	       v->name, bad);

	nm = 0;
	bad = 0;
	for (size_t i = RXE_BTH_BYTES; i < p.len - RXE_ICRC_BYTES; i++) {
		for (int bit = 0; bit < 8; bit++) {
			p.data[i] ^= (u8)(1u << bit);
			if (icrc_of(&p) == ref)
				bad++;
			p.data[i] ^= (u8)(1u << bit);
		}
	}
	tap_ok(bad == 0,
	       "%s: every bit of headers, payload and pad is covered (%u wrong)",
	       v->name, bad);
}

/* The masked fields as the doc names them, changed to realistic values. */
static void test_masked_fields(void)
{
	struct pkt p;
	u32 ref;

	load(&p, &vecs[0]);
	ref = icrc_of(&p);
	p.ip[1] = 0x02;			/* TOS: ECT(0) */
	p.ip[8] = 1;			/* TTL after 63 hops */
	p.ip[10] = 0x12;		/* checksum */
	p.ip[11] = 0x34;
	p.udp[6] = 0xbe;		/* UDP checksum */
	p.udp[7] = 0xef;
	p.data[4] = 0xc0;		/* BTH F/B ECN bits */
	tap_ok(icrc_of(&p) == ref,
	       "IPv4: TOS, TTL, IP checksum, UDP checksum, BTH byte 4 together do not change the ICRC");
	p.ip[9] = 6;			/* protocol */
	tap_ok(icrc_of(&p) != ref, "IPv4: the protocol byte is covered");

	load(&p, &vecs[3]);
	ref = icrc_of(&p);
	p.ip[0] = 0x6b;			/* traffic class 0xb8 (EF) ... */
	p.ip[1] = 0x8a;			/* ... and flow label 0xabcde */
	p.ip[2] = 0xbc;
	p.ip[3] = 0xde;
	p.ip[7] = 1;			/* hop limit */
	p.udp[6] = 0x55;
	p.data[4] = 0x40;
	tap_ok(icrc_of(&p) == ref,
	       "IPv6: traffic class, flow label, hop limit, UDP checksum, BTH byte 4 do not change the ICRC");
	p.ip[0] = 0x4b;			/* version nibble */
	tap_ok(icrc_of(&p) != ref, "IPv6: the version nibble is covered");
}

static void test_seed_and_shim(void)
{
	const u8 ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const char *check = "123456789";

	tap_ok(~crc32_le(~0u, (const u8 *)check, 9) == 0xcbf43926,
	       "CRC-32 check value of \"123456789\" is 0xcbf43926");
	tap_ok(crc32_le(~0u, ff, sizeof(ff)) == RXE_ICRC_SEED,
	       "raw crc32_le register after 8 bytes of 0xff is 0x%08x",
	       crc32_le(~0u, ff, sizeof(ff)));
}

static void test_api(void)
{
	struct pkt p, before;
	u8 *shifted;
	u32 ref, reg;
	size_t n;
	bool same = true, nowrite;

	load(&p, &vecs[2]);
	n = p.len - RXE_ICRC_BYTES;
	ref = icrc_of(&p);

	/* Streaming: headers, then the rest in uneven pieces. */
	reg = rxe_icrc_headers(p.ip, false, p.udp, p.data);
	reg = rxe_icrc_update(reg, p.data + 12, 5);
	reg = rxe_icrc_update(reg, p.data + 17, 0);
	reg = rxe_icrc_update(reg, p.data + 17, n - 17);
	tap_ok(rxe_icrc_final(reg) == ref,
	       "headers + update in pieces + final equals compute");

	/* Any alignment of every input. */
	shifted = malloc(64 + 64 + 300);
	for (int off = 1; off < 8; off++) {
		u8 *ip = shifted + off, *udp = shifted + 64 + off;
		u8 *data = shifted + 128 + off;

		memcpy(ip, p.ip, p.iplen);
		memcpy(udp, p.udp, 8);
		memcpy(data, p.data, p.len);
		if (rxe_icrc_compute(ip, false, udp, data, n) != ref)
			same = false;
	}
	free(shifted);
	tap_ok(same, "misaligned headers and data give the same ICRC");

	/* The packet is never written, masked fields included. */
	load(&p, &vecs[3]);
	p.ip[1] = 0x77;
	p.ip[7] = 9;
	p.udp[6] = 0x12;
	p.data[4] = 0x80;
	before = p;
	(void)icrc_of(&p);
	(void)rxe_icrc_check(p.ip, true, p.udp, p.data, p.len);
	nowrite = memcmp(&before, &p, sizeof(p)) == 0;
	load(&p, &vecs[0]);
	p.ip[8] = 3;
	before = p;
	(void)icrc_of(&p);
	nowrite = nowrite && memcmp(&before, &p, sizeof(p)) == 0;
	tap_ok(nowrite, "compute and check leave the packet untouched");

	/* Check rejects damage and short packets. */
	load(&p, &vecs[0]);
	p.data[p.len - 1] ^= 1;
	tap_ok(!rxe_icrc_check(p.ip, false, p.udp, p.data, p.len),
	       "check rejects a wrong ICRC byte");
	p.data[p.len - 1] ^= 1;
	p.data[13] ^= 0x20;
	tap_ok(!rxe_icrc_check(p.ip, false, p.udp, p.data, p.len),
	       "check rejects a damaged payload");
	p.data[13] ^= 0x20;
	tap_ok(!rxe_icrc_check(p.ip, false, p.udp, p.data, 15) &&
	       !rxe_icrc_check(p.ip, false, p.udp, p.data, 0) &&
	       rxe_icrc_compute(p.ip, false, p.udp, p.data, 11) == 0,
	       "check rejects packets shorter than BTH + ICRC");

	/* rxe_icrc_put writes LE; round trip. */
	{
		u8 b[5] = { 0 };

		rxe_icrc_put(b + 1, 0x187e3406);
		tap_ok(b[0] == 0 && b[1] == 0x06 && b[2] == 0x34 &&
		       b[3] == 0x7e && b[4] == 0x18 &&
		       rxe_icrc_get(b + 1) == 0x187e3406,
		       "rxe_icrc_put writes least-significant byte first");
	}

	/* Build V1 from scratch: BTH via the accessors, ICRC via put. */
	{
		struct pkt q;
		u8 *d = p.data;

		load(&q, &vecs[0]);
		memset(d, 0xee, sizeof(p.data));
		rxe_bth_init(d, RXE_OP_RC_SEND_ONLY, false, rxe_pad_len(5),
			     0xffff, 0x11, true, 0xabc);
		memcpy(d + 12, "hello", 5);
		memset(d + 17, 0, rxe_pad_len(5));
		n = 12 + 5 + rxe_pad_len(5);
		rxe_icrc_put(d + n, rxe_icrc_compute(q.ip, false, q.udp, d, n));
		tap_ok(n + 4 == q.len && memcmp(d, q.data, q.len) == 0,
		       "V1 UDP payload rebuilt from the accessors is byte-identical");
	}
}

int main(void)
{
	test_seed_and_shim();
	test_vectors();
	tap_skip("the doc gives the value, not the packet bytes",
		 "ConnectX-4 Lx CNP capture, ICRC 0x2A00FD82");
	for (size_t k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++)
		test_masking(&vecs[k]);
	test_masked_fields();
	test_api();
	return tap_done();
}
