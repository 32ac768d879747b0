// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Wire format: the opcode table against ROCEV2_WIRE.md C4, the header
 * accessors (round trips, byte positions, neighbours untouched, any
 * alignment), AETH syndromes, the receive length check and the work
 * request to opcode mapping.
 */
#include "rxe_wire.h"
#include "tap.h"

/* ------------------------------------------------------------------ */
/* Opcode table, restated from the doc's table */

enum { D = 1, R, A, M, X, I, V };	/* DETH RETH AETH AtomicAck AtomicETH ImmDt IETH */

struct exp_op {
	u8 kind;		/* low five bits */
	const char *name;	/* doc name, without class */
	u8 hdrs[3];		/* in order, 0-terminated */
	u8 len;			/* doc's header length */
	u32 flags;		/* everything but headers and class */
};

#define REQ	RXE_OPF_REQ
#define RESP	RXE_OPF_RESP
#define PL	RXE_OPF_PAYLOAD
#define ST	RXE_OPF_START
#define MI	RXE_OPF_MIDDLE
#define EN	RXE_OPF_END
#define RWR	RXE_OPF_RWR
#define CMP	RXE_OPF_COMP
#define SND	RXE_OPF_SEND
#define WR	RXE_OPF_WRITE
#define RD	RXE_OPF_READ
#define AT	RXE_OPF_ATOMIC
#define AR	RXE_OPF_ACKREQ

/* The first 12 rows also exist for UC, without ACKREQ. */
static const struct exp_op rc_ops[] = {
	{ 0x00, "SEND_FIRST", { 0 }, 12, REQ | SND | PL | RWR | ST },
	{ 0x01, "SEND_MIDDLE", { 0 }, 12, REQ | SND | PL | MI },
	{ 0x02, "SEND_LAST", { 0 }, 12, REQ | SND | PL | CMP | EN | AR },
	{ 0x03, "SEND_LAST_WITH_IMMEDIATE", { I }, 16,
	  REQ | SND | PL | CMP | EN | AR },
	{ 0x04, "SEND_ONLY", { 0 }, 12,
	  REQ | SND | PL | RWR | CMP | ST | EN | AR },
	{ 0x05, "SEND_ONLY_WITH_IMMEDIATE", { I }, 16,
	  REQ | SND | PL | RWR | CMP | ST | EN | AR },
	{ 0x06, "RDMA_WRITE_FIRST", { R }, 28, REQ | WR | PL | ST },
	{ 0x07, "RDMA_WRITE_MIDDLE", { 0 }, 12, REQ | WR | PL | MI },
	{ 0x08, "RDMA_WRITE_LAST", { 0 }, 12, REQ | WR | PL | EN | AR },
	{ 0x09, "RDMA_WRITE_LAST_WITH_IMMEDIATE", { I }, 16,
	  REQ | WR | PL | RWR | CMP | EN | AR },
	{ 0x0a, "RDMA_WRITE_ONLY", { R }, 28, REQ | WR | PL | ST | EN | AR },
	{ 0x0b, "RDMA_WRITE_ONLY_WITH_IMMEDIATE", { R, I }, 32,
	  REQ | WR | PL | RWR | CMP | ST | EN | AR },
	{ 0x0c, "RDMA_READ_REQUEST", { R }, 28, REQ | RD | ST | EN | AR },
	{ 0x0d, "RDMA_READ_RESPONSE_FIRST", { A }, 16, RESP | RD | PL | ST },
	{ 0x0e, "RDMA_READ_RESPONSE_MIDDLE", { 0 }, 12, RESP | RD | PL | MI },
	{ 0x0f, "RDMA_READ_RESPONSE_LAST", { A }, 16, RESP | RD | PL | EN },
	{ 0x10, "RDMA_READ_RESPONSE_ONLY", { A }, 16,
	  RESP | RD | PL | ST | EN },
	{ 0x11, "ACKNOWLEDGE", { A }, 16, RESP | ST | EN },
	{ 0x12, "ATOMIC_ACKNOWLEDGE", { A, M }, 24, RESP | AT | ST | EN },
	{ 0x13, "COMPARE_SWAP", { X }, 40, REQ | AT | ST | EN | AR },
	{ 0x14, "FETCH_ADD", { X }, 40, REQ | AT | ST | EN | AR },
	{ 0x16, "SEND_LAST_WITH_INVALIDATE", { V }, 16,
	  REQ | SND | PL | CMP | EN | AR },
	{ 0x17, "SEND_ONLY_WITH_INVALIDATE", { V }, 16,
	  REQ | SND | PL | RWR | CMP | ST | EN | AR },
};

static const struct exp_op ud_ops[] = {
	{ 0x04, "SEND_ONLY", { D }, 20, REQ | SND | PL | RWR | CMP | ST | EN },
	{ 0x05, "SEND_ONLY_WITH_IMMEDIATE", { D, I }, 24,
	  REQ | SND | PL | RWR | CMP | ST | EN },
};

/* Test-local header facts: which enum rxe_hdr, how many bytes. */
static int hdr_index(u8 h)
{
	switch (h) {
	case D: return RXE_HDR_DETH;
	case R: return RXE_HDR_RETH;
	case A: return RXE_HDR_AETH;
	case M: return RXE_HDR_ATMACK;
	case X: return RXE_HDR_ATMETH;
	case I: return RXE_HDR_IMMDT;
	case V: return RXE_HDR_IETH;
	}
	return -1;
}

static unsigned int hdr_size(u8 h)
{
	static const unsigned int sz[] = {
		[D] = 8, [R] = 16, [A] = 4, [M] = 8, [X] = 28, [I] = 4, [V] = 4,
	};

	return sz[h];
}

static bool seen[256];

static void check_op(u8 op, const char *cls, const struct exp_op *e,
		     u32 cls_flag, bool keep_ackreq)
{
	const struct rxe_opcode_info *info = rxe_op_info(op);
	u32 want = (e->flags & (keep_ackreq ? ~0u : ~(u32)RXE_OPF_ACKREQ)) |
		   cls_flag;
	unsigned int off = 12, want_off[RXE_NUM_HDR] = { 0 };
	char name[64];
	bool offs_ok = true;

	for (int k = 0; k < 3 && e->hdrs[k]; k++) {
		want |= BIT(hdr_index(e->hdrs[k]));
		want_off[hdr_index(e->hdrs[k])] = off;
		off += hdr_size(e->hdrs[k]);
	}
	for (int h = 0; h < RXE_NUM_HDR; h++)
		if (rxe_op_hdr_off(op, h) != want_off[h])
			offs_ok = false;
	snprintf(name, sizeof(name), "%s_%s", cls, e->name);
	seen[op] = true;

	tap_ok(rxe_op_valid(op) && info->flags == want && off == e->len &&
	       rxe_op_hdr_len(op) == e->len && offs_ok &&
	       strcmp(rxe_op_name(op), name) == 0,
	       "0x%02x %s: length %u, header offsets, flags 0x%06x (want 0x%06x)",
	       op, name, rxe_op_hdr_len(op), info->flags, want);
}

static void test_opcode_table(void)
{
	const u8 invalid[] = { 0x15, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
			       0x1e, 0x1f, 0x2c, 0x36, 0x40, 0x44, 0x5f, 0x60,
			       0x63, 0x66, 0x80, 0x81, 0xe4, 0xff };
	unsigned int nvalid = 0, bad = 0, badinv = 0;

	for (size_t k = 0; k < sizeof(rc_ops) / sizeof(rc_ops[0]); k++)
		check_op(RXE_OP_CLASS_RC | rc_ops[k].kind, "RC", &rc_ops[k],
			 RXE_OPF_RC, true);
	for (size_t k = 0; k < 12; k++)
		check_op(RXE_OP_CLASS_UC | rc_ops[k].kind, "UC", &rc_ops[k],
			 RXE_OPF_UC, false);
	for (size_t k = 0; k < sizeof(ud_ops) / sizeof(ud_ops[0]); k++)
		check_op(RXE_OP_CLASS_UD | ud_ops[k].kind, "UD", &ud_ops[k],
			 RXE_OPF_UD, true);

	/* Everything else is invalid, and looks it. */
	for (int op = 0; op < 256; op++) {
		const struct rxe_opcode_info *info = rxe_op_info((u8)op);

		if (seen[op]) {
			nvalid++;
			continue;
		}
		if (rxe_op_valid((u8)op) || info->flags || info->length ||
		    info->name || rxe_op_hdr_len((u8)op) ||
		    strcmp(rxe_op_name((u8)op), "UNKNOWN"))
			bad++;
		for (int h = 0; h < RXE_NUM_HDR; h++)
			if (info->off[h])
				bad++;
	}
	tap_ok(nvalid == 37 && bad == 0,
	       "exactly the doc's 37 opcodes are valid; the other 219 have no flags, length or name");

	for (size_t k = 0; k < sizeof(invalid); k++)
		if (rxe_op_valid(invalid[k]) || rxe_op_hdr_len(invalid[k]))
			badinv++;
	tap_ok(badinv == 0 && RXE_OP_CNP == 0x81 && !rxe_op_valid(RXE_OP_CNP),
	       "0x15, 0x18-0x1f, RD 0x40-0x5f, CNP 0x81, 0xff and friends are invalid");

	/* Structural consistency of every valid entry. */
	bad = 0;
	for (int op = 0; op < 256; op++) {
		u32 f = rxe_op_flags((u8)op);
		int ncls = !!(f & RXE_OPF_RC) + !!(f & RXE_OPF_UC) +
			   !!(f & RXE_OPF_UD);
		u32 cls = op & 0xe0;

		if (!f)
			continue;
		if (!!(f & RXE_OPF_REQ) == !!(f & RXE_OPF_RESP) || ncls != 1)
			bad++;
		if ((cls == 0x00) != !!(f & RXE_OPF_RC) ||
		    (cls == 0x20) != !!(f & RXE_OPF_UC) ||
		    (cls == 0x60) != !!(f & RXE_OPF_UD))
			bad++;
		if (!(f & (RXE_OPF_START | RXE_OPF_MIDDLE | RXE_OPF_END)) ||
		    ((f & RXE_OPF_MIDDLE) &&
		     (f & (RXE_OPF_START | RXE_OPF_END))))
			bad++;
		if ((f & (RXE_OPF_RWR | RXE_OPF_COMP | RXE_OPF_ACKREQ)) &&
		    !(f & RXE_OPF_REQ))
			bad++;
		if ((f & RXE_OPF_ACKREQ) &&
		    (!(f & RXE_OPF_RC) || !(f & RXE_OPF_END)))
			bad++;
		if (rxe_op_hdr_len((u8)op) > 40 || !rxe_op_name((u8)op))
			bad++;
	}
	tap_ok(bad == 0,
	       "every valid entry: one direction, one class matching its bits, a position, consistent RWR/COMP/ACKREQ");

	tap_ok(rxe_op_class_ok(RXE_OP_RC_SEND_ONLY, RXE_OP_CLASS_RC) &&
	       !rxe_op_class_ok(RXE_OP_RC_SEND_ONLY, RXE_OP_CLASS_UC) &&
	       rxe_op_class_ok(RXE_OP_UC_WRITE_ONLY, RXE_OP_CLASS_UC) &&
	       !rxe_op_class_ok(RXE_OP_UC_WRITE_ONLY, RXE_OP_CLASS_RC) &&
	       rxe_op_class_ok(RXE_OP_UD_SEND_ONLY, RXE_OP_CLASS_UD) &&
	       !rxe_op_class_ok(RXE_OP_UD_SEND_ONLY, RXE_OP_CLASS_RC) &&
	       !rxe_op_class_ok(0x60, RXE_OP_CLASS_UD) &&
	       !rxe_op_class_ok(0x40, RXE_OP_CLASS_RD) &&
	       !rxe_op_class_ok(RXE_OP_CNP, RXE_OP_CLASS_CNP),
	       "rxe_op_class_ok matches opcode class to QP class");

	tap_ok(rxe_op_hdr_off(RXE_OP_RC_SEND_ONLY, RXE_NUM_HDR) == 0 &&
	       rxe_op_hdr_off(RXE_OP_RC_SEND_ONLY, (enum rxe_hdr)200) == 0,
	       "rxe_op_hdr_off is bounded in the header index");
}

/* ------------------------------------------------------------------ */
/* Header accessors */

#define BUF	64
#define FILL	0xa5

/* Count bytes of buf outside [from, to) that are no longer FILL. */
static unsigned int dirty_outside(const u8 *buf, int from, int to)
{
	unsigned int n = 0;

	for (int i = 0; i < BUF; i++)
		if ((i < from || i >= to) && buf[i] != FILL)
			n++;
	return n;
}

static bool bytes_are(const u8 *p, const char *hex)
{
	u8 want[32];
	size_t n = tap_unhex(want, sizeof(want), hex);

	return memcmp(p, want, n) == 0;
}

static bool is_be24(const u8 *p, u32 v)
{
	return p[0] == (u8)(v >> 16) && p[1] == (u8)(v >> 8) && p[2] == (u8)v;
}

static void test_bth(void)
{
	static const u32 e24[] = { 0, 1, 0x800000, 0x7fffff, 0xabcdef,
				   0xfffffe, 0xffffff };
	u8 buf[BUF], *b;
	bool okay = true;

	/* V1's BTH parsed. */
	tap_unhex(buf, BUF, "0430ffff0000001180000abc");
	tap_ok(rxe_bth_opcode(buf) == RXE_OP_RC_SEND_ONLY && !rxe_bth_se(buf) &&
	       !rxe_bth_mig(buf) && rxe_bth_pad(buf) == 3 &&
	       rxe_bth_tver(buf) == 0 && rxe_bth_pkey(buf) == 0xffff &&
	       rxe_bth_resv8a(buf) == 0 && rxe_bth_qpn(buf) == 0x11 &&
	       rxe_bth_ackreq(buf) && rxe_bth_psn(buf) == 0xabc,
	       "BTH of V1 parses: SEND_ONLY, pad 3, P_Key 0xffff, QP 0x11, AckReq, PSN 0xabc");

	/* Every field set then got, at odd offsets, neighbours untouched. */
	for (int at = 0; at < 8; at++) {
		for (size_t k = 0; k < sizeof(e24) / sizeof(e24[0]); k++) {
			u32 q = e24[k], s = e24[k] ^ 0x5a5a5a;

			memset(buf, FILL, BUF);
			b = buf + 8 + at;
			rxe_bth_set_qpn(b, q);
			rxe_bth_set_psn(b, s);
			okay &= rxe_bth_qpn(b) == q && rxe_bth_psn(b) == s &&
				is_be24(b + 5, q) && is_be24(b + 9, s) &&
				b[8] == FILL &&
				dirty_outside(buf, 8 + at + 5, 8 + at + 12) == 0;
		}
	}
	tap_ok(okay, "BTH QPN and PSN round-trip 0..0xffffff at any alignment, only their bytes written");

	memset(buf, 0, BUF);
	b = buf + 3;
	rxe_bth_set_psn(b, 0x1abcdef);
	rxe_bth_set_qpn(b, 0xff000001);
	tap_ok(rxe_bth_psn(b) == 0xabcdef && rxe_bth_qpn(b) == 0x000001 &&
	       bytes_are(b + 5, "000001") && bytes_are(b + 9, "abcdef") &&
	       buf[3 + 4] == 0 && buf[3 + 8] == 0,
	       "24-bit setters truncate and write big-endian");

	/* The one-byte flag fields do not disturb each other. */
	okay = true;
	for (int v = 0; v < 256; v++) {
		bool se = v & 1, mig = v & 2, ack = v & 4;
		u8 pad = (v >> 3) & 3, tver = (v >> 4) & 0xf;

		memset(buf, FILL, BUF);
		b = buf + 1;
		rxe_bth_set_se(b, se);
		rxe_bth_set_mig(b, mig);
		rxe_bth_set_pad(b, pad);
		rxe_bth_set_tver(b, tver);
		rxe_bth_set_ackreq(b, ack);
		rxe_bth_set_opcode(b, (u8)v);
		rxe_bth_set_pkey(b, (u16)(v * 257 + 1));
		rxe_bth_set_resv8a(b, (u8)~v);
		okay &= rxe_bth_se(b) == se && rxe_bth_mig(b) == mig &&
			rxe_bth_pad(b) == pad && rxe_bth_tver(b) == tver &&
			rxe_bth_ackreq(b) == ack && rxe_bth_opcode(b) == v &&
			rxe_bth_pkey(b) == (u16)(v * 257 + 1) &&
			rxe_bth_resv8a(b) == (u8)~v &&
			(b[8] & 0x7f) == (FILL & 0x7f) &&
			rxe_bth_qpn(b) == 0xa5a5a5 && rxe_bth_psn(b) == 0xa5a5a5 &&
			dirty_outside(buf, 1, 13) == 0;
		/* Byte 1 layout: SE 7, M 6, Pad 5:4, TVer 3:0. */
		okay &= b[1] == ((se << 7) | (mig << 6) | (pad << 4) | tver);
	}
	tap_ok(okay, "BTH SE, M, PadCnt, TVer, AckReq, opcode, P_Key, byte 4 round-trip independently");

	memset(buf, FILL, BUF);
	rxe_bth_init(buf + 5, RXE_OP_RC_SEND_ONLY, false, 3, 0xffff, 0x11, true,
		     0xabc);
	okay = bytes_are(buf + 5, "0430ffff0000001180000abc") &&
	       dirty_outside(buf, 5, 17) == 0;
	rxe_bth_init(buf + 5, 0xff, true, 7, 0x1234, 0x1ffffff, false,
		     0xfffffff);
	tap_ok(okay && bytes_are(buf + 5, "ffb0123400ffffff00ffffff"),
	       "rxe_bth_init writes V1's BTH exactly, zeroes M/TVer/reserved, masks pad and 24-bit fields");
}

static void test_ext_headers(void)
{
	static const u64 e64[] = { 0, 1, 0x00007f0000001000ull,
				   0x8000000000000000ull, 0x0123456789abcdefull,
				   ~0ull };
	u8 buf[BUF], *h;
	bool okay;

	/* RETH of V3. */
	tap_unhex(buf, BUF, "00007f00000010000000123400000008");
	tap_ok(rxe_reth_va(buf) == 0x00007f0000001000ull &&
	       rxe_reth_rkey(buf) == 0x1234 && rxe_reth_len(buf) == 8,
	       "RETH of V3 parses: VA 0x7f0000001000, R_Key 0x1234, length 8");

	okay = true;
	for (int at = 0; at < 8; at++) {
		for (size_t k = 0; k < sizeof(e64) / sizeof(e64[0]); k++) {
			u32 v32 = (u32)(e64[k] >> 7);

			memset(buf, FILL, BUF);
			h = buf + 8 + at;
			rxe_reth_set_va(h, e64[k]);
			rxe_reth_set_rkey(h, v32);
			rxe_reth_set_len(h, ~v32);
			okay &= rxe_reth_va(h) == e64[k] &&
				rxe_reth_rkey(h) == v32 &&
				rxe_reth_len(h) == ~v32 &&
				dirty_outside(buf, 8 + at, 8 + at + 16) == 0;
		}
	}
	tap_ok(okay, "RETH VA/R_Key/length round-trip at any alignment within 16 bytes");

	/* AtomicETH: 64-bit fields at offsets 12 and 20. */
	okay = true;
	for (int at = 0; at < 8; at++) {
		for (size_t k = 0; k < sizeof(e64) / sizeof(e64[0]); k++) {
			u64 s = e64[k], c = ~e64[k] ^ 0x1122334455667788ull;

			memset(buf, FILL, BUF);
			h = buf + 4 + at;
			rxe_atmeth_set_va(h, c);
			rxe_atmeth_set_rkey(h, (u32)s);
			rxe_atmeth_set_swap_add(h, s);
			rxe_atmeth_set_compare(h, c);
			okay &= rxe_atmeth_va(h) == c &&
				rxe_atmeth_rkey(h) == (u32)s &&
				rxe_atmeth_swap_add(h) == s &&
				rxe_atmeth_compare(h) == c &&
				dirty_outside(buf, 4 + at, 4 + at + 28) == 0;
		}
	}
	memset(buf, 0, BUF);
	rxe_atmeth_set_swap_add(buf + 1, 0x0102030405060708ull);
	rxe_atmeth_set_compare(buf + 1, 0x1112131415161718ull);
	tap_ok(okay && bytes_are(buf + 1 + 12, "01020304050607081112131415161718"),
	       "AtomicETH round-trips unaligned u64 swap/add and compare at offsets 12 and 20");

	okay = true;
	for (int at = 0; at < 8; at++) {
		for (size_t k = 0; k < sizeof(e64) / sizeof(e64[0]); k++) {
			memset(buf, FILL, BUF);
			rxe_atmack_set_orig(buf + at + 1, e64[k]);
			okay &= rxe_atmack_orig(buf + at + 1) == e64[k] &&
				dirty_outside(buf, at + 1, at + 9) == 0;
		}
	}
	tap_ok(okay, "AtomicAckETH original data round-trips at any alignment");

	/* AETH of V2, then edges. */
	tap_unhex(buf, BUF, "1f000001");
	okay = rxe_aeth_syn(buf) == RXE_AETH_ACK && rxe_aeth_msn(buf) == 1;
	memset(buf, FILL, BUF);
	rxe_aeth_set_syn(buf + 3, RXE_AETH_NAK_REM_ACCESS);
	rxe_aeth_set_msn(buf + 3, 0xffffff);
	okay &= rxe_aeth_syn(buf + 3) == 0x62 && rxe_aeth_msn(buf + 3) == 0xffffff &&
		dirty_outside(buf, 3, 7) == 0;
	rxe_aeth_set_msn(buf + 3, 0);
	okay &= rxe_aeth_msn(buf + 3) == 0 && rxe_aeth_syn(buf + 3) == 0x62;
	rxe_aeth_set_msn(buf + 3, 0x1000002);
	okay &= rxe_aeth_msn(buf + 3) == 2;
	tap_ok(okay, "AETH of V2 parses (0x1f, MSN 1); syndrome and MSN 0/0xffffff round-trip");

	/* DETH. */
	memset(buf, FILL, BUF);
	rxe_deth_set_qkey(buf + 1, RXE_GSI_QKEY);
	rxe_deth_set_sqp(buf + 1, 0xffffff);
	okay = rxe_deth_qkey(buf + 1) == 0x80010000 &&
	       rxe_deth_sqp(buf + 1) == 0xffffff &&
	       bytes_are(buf + 1, "8001000000ffffff") &&
	       dirty_outside(buf, 1, 9) == 0;
	rxe_deth_set_sqp(buf + 1, 0);
	rxe_deth_set_qkey(buf + 1, 0);
	tap_ok(okay && rxe_deth_sqp(buf + 1) == 0 && rxe_deth_qkey(buf + 1) == 0,
	       "DETH Q_Key (GSI 0x80010000) and source QP 0/0xffffff round-trip; reserved byte 0");

	/* ImmDt is opaque: bytes in, same bytes out. */
	{
		const u8 imm[4] = { 0xde, 0xad, 0xbe, 0xef };
		__be32 v;

		memcpy(&v, imm, 4);
		memset(buf, FILL, BUF);
		rxe_immdt_set_imm(buf + 3, v);
		okay = memcmp(buf + 3, imm, 4) == 0 &&
		       rxe_immdt_imm(buf + 3) == v &&
		       dirty_outside(buf, 3, 7) == 0;
		tap_ok(okay, "ImmDt copies its four bytes verbatim (no byte swap)");
	}

	memset(buf, FILL, BUF);
	rxe_ieth_set_rkey(buf + 2, 0x12345678);
	okay = bytes_are(buf + 2, "12345678") &&
	       rxe_ieth_rkey(buf + 2) == 0x12345678 &&
	       dirty_outside(buf, 2, 6) == 0;
	rxe_ieth_set_rkey(buf + 2, 0xffffffff);
	tap_ok(okay && rxe_ieth_rkey(buf + 2) == 0xffffffff,
	       "IETH R_Key is big-endian on the wire, host order in and out");
}

static void test_aeth_syndromes(void)
{
	bool okay = true;

	for (unsigned int c = 0; c < 64; c++) {
		u8 s = rxe_aeth_rnr_nak((u8)c);

		okay &= s == (0x20 | (c & 0x1f)) &&
			rxe_aeth_syn_type(s) == RXE_AETH_TYPE_RNR_NAK &&
			rxe_aeth_syn_value(s) == (c & 0x1f);
	}
	okay &= rxe_aeth_syn_type(RXE_AETH_ACK) == RXE_AETH_TYPE_ACK &&
		rxe_aeth_syn_value(RXE_AETH_ACK) == 0x1f;
	okay &= RXE_AETH_NAK_PSN_SEQ == 0x60 && RXE_AETH_NAK_INV_REQ == 0x61 &&
		RXE_AETH_NAK_REM_ACCESS == 0x62 && RXE_AETH_NAK_REM_OP == 0x63 &&
		RXE_AETH_NAK_INV_RD_REQ == 0x64;
	for (u8 s = 0x60; s <= 0x64; s++)
		okay &= rxe_aeth_syn_type(s) == RXE_AETH_TYPE_NAK &&
			rxe_aeth_syn_value(s) == s - 0x60;
	tap_ok(okay, "AETH syndromes: ACK 0x1f, RNR NAK 0x20|timer, NAK 0x60..0x64");
}

static void test_payload_len(void)
{
	u8 p[64];
	size_t n = tap_unhex(p, sizeof(p),
			     "0430ffff0000001180000abc68656c6c6f00000006347e18");

	tap_ok(rxe_wire_payload_len(p, n) == 5,
	       "V1: 24 bytes - 12 header - 3 pad - 4 ICRC = 5 bytes payload");
	tap_ok(rxe_wire_payload_len(p, 19) == 0 &&
	       rxe_wire_payload_len(p, 18) == -EINVAL,
	       "shorter than header + pad + ICRC is rejected");
	tap_ok(rxe_wire_payload_len(p, 11) == -EINVAL &&
	       rxe_wire_payload_len(p, 0) == -EINVAL,
	       "shorter than a BTH is rejected");
	p[1] |= 1;
	tap_ok(rxe_wire_payload_len(p, n) == -EINVAL, "TVer 1 is rejected");
	p[1] &= 0xf0;
	p[0] = 0x15;
	tap_ok(rxe_wire_payload_len(p, n) == -EINVAL, "unknown opcode is rejected");
	p[0] = RXE_OP_RC_CMP_SWAP;
	p[1] = 0;
	tap_ok(rxe_wire_payload_len(p, 44) == 0 &&
	       rxe_wire_payload_len(p, 43) == -EINVAL,
	       "atomic: 40 header bytes + ICRC exactly");
}

/* ------------------------------------------------------------------ */
/* Work request mapping.  WR opcode numbers are the verbs ABI's. */

enum { W_WRITE, W_WRITE_IMM, W_SEND, W_SEND_IMM, W_READ, W_CSWAP, W_FADD,
       W_LINV, W_BIND, W_SEND_INV };

static int wire(u32 wr, u8 cls, enum rxe_seg s)
{
	return rxe_wr_wire_opcode(wr, cls, s);
}

static void test_wr_mapping(void)
{
	static const struct {
		u32 wr;
		int f, m, l, o;		/* RC opcodes; -1 none */
		bool uc, ud;
	} t[] = {
		{ W_WRITE, 0x06, 0x07, 0x08, 0x0a, true, false },
		{ W_WRITE_IMM, 0x06, 0x07, 0x09, 0x0b, true, false },
		{ W_SEND, 0x00, 0x01, 0x02, 0x04, true, true },
		{ W_SEND_IMM, 0x00, 0x01, 0x03, 0x05, true, true },
		{ W_READ, -1, -1, -1, 0x0c, false, false },
		{ W_CSWAP, -1, -1, -1, 0x13, false, false },
		{ W_FADD, -1, -1, -1, 0x14, false, false },
		{ W_SEND_INV, 0x00, 0x01, 0x16, 0x17, false, false },
	};
	unsigned int bad_rc = 0, bad_uc = 0, bad_ud = 0, bad = 0;

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		int want[4] = { t[k].f, t[k].m, t[k].l, t[k].o };

		for (int s = 0; s < 4; s++) {
			int w = want[s] < 0 ? -EINVAL : want[s];

			if (wire(t[k].wr, RXE_OP_CLASS_RC, s) != w)
				bad_rc++;
			w = (want[s] < 0 || !t[k].uc) ? -EINVAL : 0x20 | want[s];
			if (wire(t[k].wr, RXE_OP_CLASS_UC, s) != w)
				bad_uc++;
			w = (!t[k].ud || s != RXE_SEG_ONLY) ? -EINVAL :
			    0x60 | want[s];
			if (wire(t[k].wr, RXE_OP_CLASS_UD, s) != w)
				bad_ud++;
		}
	}
	tap_ok(bad_rc == 0, "RC: WRITE/WRITE_IMM/SEND/SEND_IMM/READ/CSWAP/FADD/SEND_INV give the right FIRST/MIDDLE/LAST/ONLY opcodes");
	tap_ok(bad_uc == 0, "UC: sends and writes map to 0x20.., READ/atomics/SEND_INV rejected");
	tap_ok(bad_ud == 0, "UD: SEND -> 0x64, SEND_IMM -> 0x65, ONLY only; everything else rejected");

	tap_ok(wire(W_SEND, RXE_OP_CLASS_RC, rxe_seg_of(true, true)) == 0x04 &&
	       wire(W_SEND, RXE_OP_CLASS_RC, rxe_seg_of(true, false)) == 0x00 &&
	       wire(W_SEND, RXE_OP_CLASS_RC, rxe_seg_of(false, false)) == 0x01 &&
	       wire(W_SEND, RXE_OP_CLASS_RC, rxe_seg_of(false, true)) == 0x02,
	       "rxe_seg_of(first, last) picks ONLY/FIRST/MIDDLE/LAST");

	/* Out of range and local operations. */
	{
		static const u32 rej[] = { 10, 11, 12, 13, 14, 15, 16, 0x20,
					   0x21, 0xf0, 255, 256, 0x80000000u,
					   0xffffffffu };

		for (size_t k = 0; k < sizeof(rej) / sizeof(rej[0]); k++)
			for (int s = 0; s < 4; s++)
				if (rxe_wr_info(rej[k]) ||
				    wire(rej[k], RXE_OP_CLASS_RC, s) != -EINVAL)
					bad++;
		tap_ok(bad == 0, "WR opcodes 10..16, 0x20, 0xf0, 255, 256, 2^31, 2^32-1 are rejected");
	}

	bad = 0;
	for (int s = 0; s < 4; s++) {
		if (wire(W_LINV, RXE_OP_CLASS_RC, s) != -EINVAL ||
		    wire(W_BIND, RXE_OP_CLASS_RC, s) != -EINVAL)
			bad++;
	}
	tap_ok(bad == 0 && rxe_wr_info(W_LINV) &&
	       (rxe_wr_info(W_LINV)->flags & RXE_WRF_LOCAL) &&
	       rxe_wr_info(W_BIND) &&
	       (rxe_wr_info(W_BIND)->flags & RXE_WRF_LOCAL) &&
	       (rxe_wr_info(W_LINV)->flags & RXE_WRF_UD) &&
	       !(rxe_wr_info(W_BIND)->flags & RXE_WRF_UD),
	       "LOCAL_INV and BIND_MW are local operations without a wire opcode");

	bad = 0;
	for (u32 wr = 0; wr < 10; wr++) {
		static const u8 bogus[] = { 0x40, 0x80, 0x13, 0xe0, 0x01 };

		for (size_t c = 0; c < sizeof(bogus); c++)
			for (int s = 0; s < 4; s++)
				if (wire(wr, bogus[c], s) != -EINVAL)
					bad++;
		if (wire(wr, RXE_OP_CLASS_RC, (enum rxe_seg)4) != -EINVAL ||
		    wire(wr, RXE_OP_CLASS_RC, (enum rxe_seg)-1) != -EINVAL)
			bad++;
	}
	tap_ok(bad == 0, "RD/CNP/bogus transport classes and positions are rejected");

	bad = 0;
	for (u32 wr = 0; wr < 10; wr++) {
		const struct rxe_wr_info *i = rxe_wr_info(wr);
		u32 f = i ? i->flags : 0;
		int kinds = !!(f & RXE_WRF_SEND) + !!(f & RXE_WRF_WRITE) +
			    !!(f & RXE_WRF_READ) + !!(f & RXE_WRF_ATOMIC) +
			    !!(f & RXE_WRF_LOCAL);

		if (!i || !i->name || kinds != 1 || !(f & RXE_WRF_RC))
			bad++;
		if (!!(f & RXE_WRF_IMM) != (wr == W_WRITE_IMM || wr == W_SEND_IMM) ||
		    !!(f & RXE_WRF_INV) != (wr == W_SEND_INV) ||
		    !!(f & RXE_WRF_PAYLOAD) !=
		    !!(f & (RXE_WRF_SEND | RXE_WRF_WRITE)))
			bad++;
	}
	tap_ok(bad == 0, "WR opcodes 0..9 all described: one kind each, IMM/INV/PAYLOAD flags right");
}

int main(void)
{
	test_opcode_table();
	test_bth();
	test_ext_headers();
	test_aeth_syndromes();
	test_payload_len();
	test_wr_mapping();
	return tap_done();
}
