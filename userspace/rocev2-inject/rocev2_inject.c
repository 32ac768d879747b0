// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rocev2-inject: malformed and hostile RoCEv2 packets against one rxe
 * device (run in the test guest by tests/cases/043-malformed-input.sh).
 *
 *   rocev2-inject -d DEV -a ADDR [-s SPOOF] [-t SECS] [-n STORM] [-S SEED]
 *		   [-k] GROUP...
 *
 * One process holds a PD, two CQs, an MR each for a and b (and for the
 * storm an on-demand-paged one of b's) and a loopback RC pair a <-> b
 * on DEV's RoCE v2 GID for ADDR (an IPv4 address of DEV's netdev), with
 * PSNs it chooses and tracks, and a plain UDP socket bound to ADDR (and one
 * bound to SPOOF, a second address of the netdev, with -s).  It builds
 * RoCEv2 UDP payloads itself (BTH, extension headers, payload, pad, ICRC)
 * and sends them to ADDR:4791, where the kernel hands them to the RoCE
 * UDP socket; for each group of packets it reads DEV's hw_counters before
 * and after and requires the exact change (every counter of the receive
 * path is compared, so a packet counted under the wrong reason fails too),
 * then proves the pair is still what it should be: QP states, and a real
 * SEND from a to b that lands in the receive posted for it, payload
 * compared, with no duplicate or out-of-sequence request counted (so b
 * still expects the PSN we track).
 *
 * Delivery: a datagram sent to one of the host's own addresses travels over
 * "lo", and an rxe receive hook that finds its device from the ingress
 * netdev drops it.  The caller redirects lo's egress UDP/4791 to DEV's
 * netdev's ingress (tc clsact + flower + mirred, see the case) and sets
 * accept_local there.  A preflight packet to a QPN that cannot exist must
 * come out as rcvd_no_qp +1 before any group runs; otherwise the program
 * says why and stops.
 *
 * ICRC: computed as ROCEV2_WIRE.md C5 says (and checked against its test
 * vectors V1-V3 at start): eight 0xff bytes, the IPv4 header with TOS, TTL
 * and checksum all ones, the UDP header with checksum all ones, the BTH
 * with byte 4 all ones, then the rest.  The kernel builds the IPv4 and UDP
 * headers; of their fields the ICRC covers version/IHL, total length, ID,
 * flags/fragment offset, protocol and the addresses, and the UDP ports and
 * length.  All follow from what we send except the IP ID: the socket uses
 * IP_PMTUDISC_DO and is never connected, so the kernel sets DF and an ID of
 * 0 (ip_select_ident() for a DF packet of an unconnected socket).  TOS and
 * TTL are masked, so the defaults do not matter.  SO_NO_CHECK sends the
 * zero UDP checksum of RoCEv2 (masked too).
 *
 * Groups (numbers as arguments; "all" is 1-11):
 *  1  unknown/reserved opcodes (the driver table's empty entries) at b's
 *     QPN and expected PSN, ICRC right: rcvd_bad_hdr +N, nothing else.
 *  2  too short for the opcode's headers, the pad and the ICRC (a WRITE
 *     FIRST without RETH, truncated RETH/AtomicETH/AETH/DETH, no room for
 *     the ICRC, 0, 1 and 10-byte datagrams): rcvd_bad_hdr +N.
 *  3  PadCnt larger than the bytes after the headers; TVer != 0:
 *     rcvd_bad_hdr +N.
 *  4  bad ICRC (bits flipped in the ICRC, payload and PSN after sealing;
 *     sealed over a wrong source port or address, without the masks or the
 *     LRH bytes, big-endian, zero): rcvd_bad_icrc +N.
 *  5  QPNs that do not exist (never allocated, 0, a QP just destroyed):
 *     rcvd_no_qp +N.
 *  6  transport class wrong for the QP (UD SEND with DETH and UC opcodes to
 *     RC b, RC SEND to a UD QP), QP state wrong (a request to a QP in INIT,
 *     a response to one in RTR): rcvd_bad_state +N; a wrong Q_Key to the
 *     UD QP and a foreign P_Key to b: rcvd_bad_key +N.
 *  7  RC SEND_ONLY to b far ahead of its expected PSN: out_of_seq_request
 *     +3, one PSN sequence NAK, b stays in RTS (the NAK asks a for a PSN
 *     it has not sent: a drops it, rcvd_unsent_psn +1; stock counts
 *     rcvd_seq_err); far behind (and just behind): duplicate_request +4,
 *     re-ACKed, nothing delivered: the receive posted before is the one the
 *     next real SEND lands in.  Then, while a SEND of a is outstanding (its
 *     request lost by the fault injection), ACKs, NAKs, an ATOMIC ACK and a
 *     READ response to a for PSNs a never sent: rcvd_unsent_psn +6, the
 *     SEND completes only after its resend reached b.  Last, with
 *     retry_cnt 2, three sequence NAKs for that outstanding SEND: the
 *     third finds no retry left (IBV_WC_RETRY_EXC_ERR, a in ERR).
 *  8  RC RDMA WRITE ONLY at b's expected PSN naming an R_Key that does not
 *     exist: b NAKs remote access and goes to ERR, no byte written
 *     anywhere.  With the driver's transmit fault injection (<debugfs>/
 *     rdma_rxe, ours) a really posted WRITE of a is lost on the way first,
 *     so the NAK lands on that WQE and its status shows the syndrome
 *     (IBV_WC_REM_ACCESS_ERR).  Then a and b are reset and reconnected.
 *  9  RC RDMA READ REQUEST on a valid R_Key with RETH length 0x80000000 (the
 *     IBA maximum; beyond this 64 KiB MR: remote access error) and
 *     0x80000001 (beyond the maximum: must be an invalid request NAK,
 *     0x61); b goes to ERR; b sends exactly one packet (the NAK: nothing
 *     streamed).  The syndrome is read as in group 8, from a READ of a's
 *     that was lost.  Then the same on a read-only ODP MR of 2 GiB + 1 MiB
 *     (zero pages, nothing pinned), where no range check stops the READ,
 *     in order and as a duplicate (the PSN of b's last SEND): at most one
 *     packet may answer either.  A b that streams is reset at once and
 *     must then answer the first SEND of its new connection within 5 s.
 * 10  (-s) from the second address: an RC SEND_ONLY at b's expected PSN,
 *     ICRC right: dropped and counted in rcvd_bad_addr, not delivered, not
 *     ACKed; a forged NAK (remote access) and a forged ACK to a, at the PSN
 *     of a SEND of a's that was lost: dropped (rcvd_bad_addr), the SEND
 *     stays outstanding and completes normally when resent.
 * 11  a storm of STORM (-n, default 3000) datagrams: random bytes of random
 *     length 0..1500, and packets with a valid ICRC and random opcodes,
 *     headers, pad, TVer, P_Key, payload aimed at b (PSNs near the expected
 *     one, R_Keys and addresses mostly b's, of an ordinary and of an
 *     on-demand-paged MR) and at a (responses, while a really has a READ
 *     and a SEND in flight to b); every 64 datagrams a and b are
 *     reconnected if one is in ERR.  Every datagram must be accounted for
 *     exactly once by the receive counters (their sum grows by STORM plus
 *     what the device itself sent), then a real SEND must still work.
 *
 * -k (lenient, for a driver without our counters, e.g. stock, as a
 * diagnostic): a counter the device does not have is not checked, and the
 * pair is not reset and reconnected between groups (stock 6.1 warns when
 * such QPs are destroyed; tests/cases/032-async-events.sh).  -t: longest
 * wait for a completion.  -S: PRNG seed (printed; default from the clock).
 *
 * Output: "ok: ..." / "FAIL: ..." / "skip: ..." per check, "== group N: ..."
 * before and "group N: PASS" / "group N: FAIL (k)" after each group,
 * "rocev2-inject: PASS" or "rocev2-inject: FAIL (N)" last.  Exit status 0
 * only if every check passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#define PORT		1
#define ROCE_UDP_PORT	4791
#define QKEY		0x11223344u
#define PSN_MASK	0xffffffu
#define MTU_BYTES	1024

/* Buffers: one MR each for a and b. */
#define BUF_LEN		65536
#define A_SEND		0		/* a's SEND/WRITE source */
#define A_READ		8192		/* a's READ destination, 4 KiB */
#define B_RECV		0		/* b's receive slots */
#define RECV_SLOT	256
#define NSLOTS		16
#define B_TARGET	16384		/* RDMA target in b's MR, 8 KiB */
#define B_TARGET_LEN	8192
#define SEND_LEN	200		/* a good SEND: one packet */
#define ODP_LEN		(1 << 20)	/* b's ODP MR, mostly never touched */

/* BTH opcodes used by name. */
#define OP_RC_SEND_ONLY		0x04
#define OP_RC_SEND_ONLY_IMM	0x05
#define OP_RC_WRITE_FIRST	0x06
#define OP_RC_WRITE_ONLY	0x0a
#define OP_RC_WRITE_ONLY_IMM	0x0b
#define OP_RC_READ_REQ		0x0c
#define OP_RC_READ_RESP_ONLY	0x10
#define OP_RC_ACK		0x11
#define OP_RC_ATOMIC_ACK	0x12
#define OP_RC_CMP_SWAP		0x13
#define OP_UC_SEND_ONLY		0x24
#define OP_UC_WRITE_ONLY	0x2a
#define OP_UD_SEND_ONLY		0x64
#define OP_UD_SEND_ONLY_IMM	0x65

#define SYN_ACK			0x1f
#define SYN_NAK_PSN_SEQ		0x60
#define SYN_NAK_REM_ACCESS	0x62

#define RXE_DBG		"/sys/kernel/debug/rdma_rxe"
#define NR(a)		(sizeof(a) / sizeof((a)[0]))

static const char *dev_name;
static struct in_addr my_addr, spoof_addr;
static bool have_spoof;
static int wait_secs = 10;
static int storm_n = 3000;
static bool lenient;
static uint64_t seed;
static int failures;
static int group_fail;

/* ------------------------------------------------------------------------ */
/* Output */

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* check(cond, what...): one line per check, counted when it fails. */
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	fputs(ok ? "ok: " : "FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok) {
		failures++;
		group_fail++;
	}
	return ok;
}

static void skip(const char *fmt, ...)
{
	va_list ap;

	fputs("skip: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void knob_off(void);

static void __attribute__((noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nrocev2-inject: FAIL (%d)\n", failures + 1);
	fflush(stdout);
	knob_off();
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(int ms)
{
	usleep(ms * 1000);
}

/* Dotted quad; four buffers in turn, so one printf can take several. */
static const char *ipstr(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static unsigned int n;
	char *b = buf[n++ % 4];

	inet_ntop(AF_INET, &a, b, INET_ADDRSTRLEN);
	return b;
}

/* xorshift64*: reproducible with -S. */
static uint64_t rnd64(void)
{
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd(void)
{
	return rnd64() >> 32;
}

static void rnd_fill(uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)rnd();
}

/* ------------------------------------------------------------------------ */
/* Big-endian fields */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = v >> 16;
	p[1] = v >> 8;
	p[2] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, (uint32_t)v);
}

/* ------------------------------------------------------------------------ */
/* CRC-32 (reflected, 0xedb88320) and the RoCEv2 ICRC */

static uint32_t crc_tab[256];

static void crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[i] = c;
	}
}

/* Run the raw register over @n bytes (no preset, no final inversion). */
static uint32_t crc_run(uint32_t reg, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		reg = crc_tab[(reg ^ *b++) & 0xff] ^ (reg >> 8);
	return reg;
}

/* Ways to get the ICRC wrong on purpose (group 4). */
#define Q_NO_LRH	1	/* leave out the eight 0xff bytes */
#define Q_NO_MASK	2	/* do not mask the variant fields */

/*
 * The ICRC over an IPv4 packet: @ip the 20-byte IPv4 header and @udp the
 * UDP header as the receiver sees them, @bth the UDP payload, @covered
 * bytes of it from the BTH to the end of the pad (at least 12).
 */
static uint32_t icrc4(const uint8_t *ip, const uint8_t *udp,
		      const uint8_t *bth, size_t covered, unsigned int quirks)
{
	static const uint8_t lrh[8] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	uint8_t h[20 + 8 + 12];
	uint32_t reg = 0xffffffffu;

	memcpy(h, ip, 20);
	memcpy(h + 20, udp, 8);
	memcpy(h + 28, bth, 12);
	if (!(quirks & Q_NO_MASK)) {
		h[1] = 0xff;			/* TOS */
		h[8] = 0xff;			/* TTL */
		h[10] = h[11] = 0xff;		/* header checksum */
		h[26] = h[27] = 0xff;		/* UDP checksum */
		h[28 + 4] = 0xff;		/* BTH byte 4: ECN, reserved */
	}
	if (!(quirks & Q_NO_LRH))
		reg = crc_run(reg, lrh, sizeof(lrh));
	reg = crc_run(reg, h, sizeof(h));
	reg = crc_run(reg, bth + 12, covered - 12);
	return ~reg;
}

static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * The IPv4 header the kernel puts on a datagram of @ulen UDP payload bytes
 * from our socket: no options, DF, ID @id (0 for us), checksum filled in.
 */
static void ip4_build(uint8_t *ip, struct in_addr src, struct in_addr dst,
		      size_t ulen, uint16_t id, uint8_t tos, uint8_t ttl)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[1] = tos;
	put16(ip + 2, 20 + 8 + ulen);
	put16(ip + 4, id);
	put16(ip + 6, 0x4000);
	ip[8] = ttl;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src.s_addr, 4);
	memcpy(ip + 16, &dst.s_addr, 4);
	put16(ip + 10, ip_csum(ip));
}

static void udp_build(uint8_t *u, uint16_t sport, size_t ulen)
{
	put16(u, sport);
	put16(u + 2, ROCE_UDP_PORT);
	put16(u + 4, 8 + ulen);
	put16(u + 6, 0);
}

/* ------------------------------------------------------------------------ */
/* Packets */

struct pk {
	uint8_t b[2048];
	size_t len;
};

/* A UDP socket we send from: its address and port enter the ICRC. */
struct src {
	int fd;
	struct in_addr addr;
	uint16_t port;
};

static struct src me, spoof;

static void pk_add(struct pk *k, const void *p, size_t n)
{
	if (k->len + n > sizeof(k->b) - 4)
		die("packet buffer overflow (%zu + %zu)", k->len, n);
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

static void pk_zeros(struct pk *k, size_t n)
{
	static const uint8_t z[4];

	while (n) {
		size_t m = n < sizeof(z) ? n : sizeof(z);

		pk_add(k, z, m);
		n -= m;
	}
}

/* BTH byte 1: SE, M, PadCnt, TVer. */
static uint8_t bth1(bool se, unsigned int pad, unsigned int tver)
{
	return (se ? 0x80 : 0) | (pad & 3) << 4 | (tver & 0xf);
}

static void pk_bth(struct pk *k, uint8_t op, uint8_t b1, uint16_t pkey,
		   uint32_t qpn, bool ackreq, uint32_t psn)
{
	uint8_t *p = k->b;

	p[0] = op;
	p[1] = b1;
	put16(p + 2, pkey);
	p[4] = 0;
	put24(p + 5, qpn);
	p[8] = ackreq ? 0x80 : 0;
	put24(p + 9, psn);
	k->len = 12;
}

static size_t reth(uint8_t *p, uint64_t va, uint32_t rkey, uint32_t len)
{
	put64(p, va);
	put32(p + 8, rkey);
	put32(p + 12, len);
	return 16;
}

static size_t aeth(uint8_t *p, uint8_t syn, uint32_t msn)
{
	p[0] = syn;
	put24(p + 1, msn);
	return 4;
}

static size_t deth(uint8_t *p, uint32_t qkey, uint32_t sqp)
{
	put32(p, qkey);
	p[4] = 0;
	put24(p + 5, sqp);
	return 8;
}

static size_t atmeth(uint8_t *p, uint64_t va, uint32_t rkey, uint64_t swap,
		     uint64_t cmp)
{
	put64(p, va);
	put32(p + 8, rkey);
	put64(p + 12, swap);
	put64(p + 20, cmp);
	return 28;
}

/*
 * A well-formed request or response up to the ICRC: BTH (PadCnt from the
 * payload length, TVer 0, P_Key 0xffff), @ext (the extension headers as
 * bytes), @pay, the pad.
 */
static void pk_msg(struct pk *k, uint8_t op, uint32_t qpn, uint32_t psn,
		   bool ackreq, const void *ext, size_t extlen,
		   const void *pay, size_t paylen)
{
	unsigned int pad = (0u - (unsigned int)paylen) & 3;

	pk_bth(k, op, bth1(false, pad, 0), 0xffff, qpn, ackreq, psn);
	if (extlen)
		pk_add(k, ext, extlen);
	if (paylen)
		pk_add(k, pay, paylen);
	pk_zeros(k, pad);
}

/* Append the ICRC of the packet as sent from @s (with @quirks). */
static void seal_q(struct pk *k, const struct src *s, unsigned int quirks)
{
	uint8_t ip[20], udp[8];
	size_t ulen = k->len + 4;
	uint32_t c;

	ip4_build(ip, s->addr, my_addr, ulen, 0, 0, 64);
	udp_build(udp, s->port, ulen);
	c = icrc4(ip, udp, k->b, k->len, quirks);
	/* Least-significant byte first. */
	k->b[k->len] = c;
	k->b[k->len + 1] = c >> 8;
	k->b[k->len + 2] = c >> 16;
	k->b[k->len + 3] = c >> 24;
	k->len += 4;
}

static void seal(struct pk *k, const struct src *s)
{
	seal_q(k, s, 0);
}

static void send_raw(const struct src *s, const void *buf, size_t len)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(ROCE_UDP_PORT),
		.sin_addr = my_addr,
	};
	ssize_t n;

	n = sendto(s->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
	if (n != (ssize_t)len)
		die("sendto %zu bytes: %s", len, n < 0 ? strerror(errno) : "short");
}

static void inject(const struct src *s, const struct pk *k)
{
	send_raw(s, k->b, k->len);
}

/* Seal @k as sent from @s and send it; returns 1 (packets sent). */
static int fire(struct pk *k, const struct src *s)
{
	seal(k, s);
	inject(s, k);
	return 1;
}

static void src_open(struct src *s, struct in_addr addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = addr };
	socklen_t sl = sizeof(sa);
	int one = 1, pmtu = IP_PMTUDISC_DO;

	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (s->fd < 0)
		die("socket: %s", strerror(errno));
	/* DF on, never fragmented: the kernel then sends IP ID 0. */
	if (setsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)))
		die("IP_MTU_DISCOVER: %s", strerror(errno));
	/* UDP checksum 0, as RoCEv2 sends it (masked in the ICRC anyway). */
	if (setsockopt(s->fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)))
		die("SO_NO_CHECK: %s", strerror(errno));
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind to %s: %s (is the address on the interface?)",
		    ipstr(addr), strerror(errno));
	if (getsockname(s->fd, (struct sockaddr *)&sa, &sl))
		die("getsockname: %s", strerror(errno));
	s->addr = addr;
	s->port = ntohs(sa.sin_port);
}

/*
 * Headers after the BTH of each opcode the IBA defines for RoCEv2 rxe
 * (ROCEV2_WIRE.md C4), as a mask in wire order; 0 for an opcode rxe does
 * not carry (RD, CNP, reserved).
 */
#define H_DETH		0x01
#define H_RETH		0x02
#define H_ATMETH	0x04
#define H_AETH		0x08
#define H_ATMACK	0x10
#define H_IMM		0x20
#define H_IETH		0x40
#define H_PAY		0x80

static unsigned int op_hdrs(uint8_t op)
{
	static const unsigned int kind[0x18] = {
		[0x00] = H_PAY, [0x01] = H_PAY, [0x02] = H_PAY,
		[0x03] = H_IMM | H_PAY, [0x04] = H_PAY,
		[0x05] = H_IMM | H_PAY, [0x06] = H_RETH | H_PAY,
		[0x07] = H_PAY, [0x08] = H_PAY, [0x09] = H_IMM | H_PAY,
		[0x0a] = H_RETH | H_PAY, [0x0b] = H_RETH | H_IMM | H_PAY,
		[0x0c] = H_RETH, [0x0d] = H_AETH | H_PAY, [0x0e] = H_PAY,
		[0x0f] = H_AETH | H_PAY, [0x10] = H_AETH | H_PAY,
		[0x11] = H_AETH, [0x12] = H_AETH | H_ATMACK,
		[0x13] = H_ATMETH, [0x14] = H_ATMETH,
		[0x16] = H_IETH | H_PAY, [0x17] = H_IETH | H_PAY,
	};
	uint8_t k = op & 0x1f;

	switch (op & 0xe0) {
	case 0x00:
		return k < 0x18 ? kind[k] : 0;
	case 0x20:
		return k <= 0x0b ? kind[k] : 0;
	case 0x60:
		return k == 0x04 ? H_DETH | H_PAY :
		       k == 0x05 ? H_DETH | H_IMM | H_PAY : 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------------ */
/* ICRC self-check against ROCEV2_WIRE.md C5 */

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;
	unsigned int v;

	while (hex[0] && hex[1] && sscanf(hex, "%2x", &v) == 1) {
		out[n++] = v;
		hex += 2;
	}
	return n;
}

static bool icrc_vector(const char *name, const char *iphex,
			const char *udphex, const char *datahex,
			const struct pk *built, struct in_addr src,
			struct in_addr dst, uint16_t id, uint16_t sport)
{
	uint8_t ip[20], udp[8], data[256], myip[20], myudp[8];
	size_t n = unhex(data, datahex);
	uint32_t want, got;
	bool ok = true;

	unhex(ip, iphex);
	unhex(udp, udphex);
	want = data[n - 4] | data[n - 3] << 8 | data[n - 2] << 16 |
	       (uint32_t)data[n - 1] << 24;
	got = icrc4(ip, udp, data, n - 4, 0);
	ok &= got == want;
	/* Our builders make the same bytes. */
	ip4_build(myip, src, dst, n, id, 0, 64);
	udp_build(myudp, sport, n);
	ok &= !memcmp(myip, ip, 20) && !memcmp(myudp, udp, 8);
	ok &= built->len == n - 4 && !memcmp(built->b, data, n - 4);
	return check(ok, "ICRC self-check %s: computed %08x, document %08x; IP, "
		     "UDP and BTH rebuilt byte-identical", name, got, want);
}

static void icrc_selfcheck(void)
{
	struct in_addr h1, h2;
	uint8_t ext[16], pay[8];
	struct pk k;
	int i;

	inet_pton(AF_INET, "192.168.1.1", &h1);
	inet_pton(AF_INET, "192.168.1.2", &h2);
	pk_msg(&k, OP_RC_SEND_ONLY, 0x11, 0xabc, true, NULL, 0, "hello", 5);
	icrc_vector("V1 (RC SEND_ONLY)",
		    "45000034123440004011a531c0a80101c0a80102",
		    "c12312b700200000",
		    "0430ffff0000001180000abc68656c6c6f00000006347e18",
		    &k, h1, h2, 0x1234, 0xc123);
	pk_msg(&k, OP_RC_ACK, 0x12, 0xabc, false, ext,
	       aeth(ext, SYN_ACK, 1), NULL, 0);
	icrc_vector("V2 (RC ACK)",
		    "45000030000140004011b768c0a80102c0a80101",
		    "c45612b7001c0000",
		    "1100ffff0000001200000abc1f000001e8c3fe8b",
		    &k, h2, h1, 1, 0xc456);
	for (i = 0; i < 8; i++)
		pay[i] = i;
	pk_msg(&k, OP_RC_WRITE_ONLY, 0x11, 0x10, true, ext,
	       reth(ext, 0x00007f0000001000ull, 0x1234, 8), pay, 8);
	icrc_vector("V3 (RC RDMA_WRITE_ONLY)",
		    "45000044123540004011a520c0a80101c0a80102",
		    "c12312b700300000",
		    "0a00ffff000000118000001000007f000000100000001234000000080001020304050607eebf0a17",
		    &k, h1, h2, 0x1235, 0xc123);
	if (failures)
		die("our ICRC does not match the document's vectors");
}

/* ------------------------------------------------------------------------ */
/* Counters */

enum {
	/* Where the receive path counts a packet: each exactly once. */
	C_BAD_HDR, C_BAD_ICRC, C_BAD_DGID, C_BAD_KEY, C_NO_QP, C_BAD_STATE,
	C_QFULL, C_BAD_ADDR, C_RCVD,
	C_NRX,
	/* Others we watch. */
	C_SENT = C_NRX, C_OOS, C_DUP, C_SEQERR, C_UNSENT, C_RETRYX,
	NCNT,
};

static const char *const cnt_name[NCNT] = {
	[C_BAD_HDR] = "rcvd_bad_hdr",
	[C_BAD_ICRC] = "rcvd_bad_icrc",
	[C_BAD_DGID] = "rcvd_bad_dgid",
	[C_BAD_KEY] = "rcvd_bad_key",
	[C_NO_QP] = "rcvd_no_qp",
	[C_BAD_STATE] = "rcvd_bad_state",
	[C_QFULL] = "rcvd_queue_full",
	[C_BAD_ADDR] = "rcvd_bad_addr",
	[C_RCVD] = "rcvd_pkts",
	[C_SENT] = "sent_pkts",
	[C_OOS] = "out_of_seq_request",
	[C_DUP] = "duplicate_request",
	[C_SEQERR] = "rcvd_seq_err",
	[C_UNSENT] = "rcvd_unsent_psn",
	[C_RETRYX] = "retry_exceeded_err",
};

struct snap {
	long v[NCNT];
};

static long read_num(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static bool write_num(const char *path, long v)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	if (fprintf(f, "%ld\n", v) < 0) {
		fclose(f);
		return false;
	}
	return fclose(f) == 0;
}

/* One of the device's hw_counters; -1 if it has none of that name. */
static long counter(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev_name,
		 name);
	return read_num(path);
}

static void snap(struct snap *s)
{
	int i;

	for (i = 0; i < NCNT; i++)
		s->v[i] = counter(cnt_name[i]);
}

/*
 * Snapshot the counters once the device is idle: sent_pkts and rcvd_pkts
 * unchanged over 300 ms, or @secs gone.  snap() reads one counter after
 * another, so a loopback packet on the wire while it runs can show in
 * sent_pkts and not yet in the receive counters read before it; totals
 * that compare the two need snapshots taken when nothing moves.
 */
static void snap_idle(struct snap *s, double secs)
{
	double end = now() + secs;
	struct snap prev;

	snap(s);
	do {
		msleep(300);
		prev = *s;
		snap(s);
	} while (now() < end && (s->v[C_RCVD] != prev.v[C_RCVD] ||
				 s->v[C_SENT] != prev.v[C_SENT]));
}

struct want {
	int c;
	long d;
};

#define END	{ -1, 0 }

/*
 * Wait until every counter in @w has grown by its amount, let things
 * settle, and require that every watched counter changed by exactly what
 * @w says (0 for those it does not name).
 */
static bool expect(const struct snap *s0, const char *what,
		   const struct want *w)
{
	long want[NCNT] = { 0 }, d;
	double end = now() + wait_secs;
	char msg[1024];
	size_t o = 0;
	struct snap s1;
	bool ok = true, reached, other = false;
	int i;

	for (; w->c >= 0; w++)
		want[w->c] += w->d;
	do {
		snap(&s1);
		reached = true;
		for (i = 0; i < NCNT; i++)
			if (s0->v[i] >= 0 && s1.v[i] >= 0 &&
			    s1.v[i] - s0->v[i] < want[i])
				reached = false;
		if (reached)
			break;
		msleep(10);
	} while (now() < end);
	/* Anything more that was coming would show by now. */
	msleep(150);
	snap(&s1);
	msg[0] = 0;
	for (i = 0; i < NCNT && o < sizeof(msg) - 100; i++) {
		if (s0->v[i] < 0 || s1.v[i] < 0) {
			if (!want[i])
				continue;
			if (!lenient)
				ok = false;
			o += snprintf(msg + o, sizeof(msg) - o,
				      "%s%s: no such counter (want %+ld%s)",
				      o ? ", " : "", cnt_name[i], want[i],
				      lenient ? ", not checked" : "");
			continue;
		}
		d = s1.v[i] - s0->v[i];
		if (d != want[i]) {
			ok = false;
			o += snprintf(msg + o, sizeof(msg) - o,
				      "%s%s %+ld (want %+ld)", o ? ", " : "",
				      cnt_name[i], d, want[i]);
		} else if (d) {
			o += snprintf(msg + o, sizeof(msg) - o, "%s%s %+ld",
				      o ? ", " : "", cnt_name[i], d);
		} else {
			other = true;
		}
	}
	return check(ok, "%s: %s%s", what, msg,
		     ok && other ? (o ? "; nothing else moved" :
				    "nothing moved") : "");
}

/* ------------------------------------------------------------------------ */
/* Transmit fault injection of our driver (<debugfs>/rdma_rxe) */

static bool knob;		/* present and used */
static bool knob_on;

static void knob_off(void)
{
	if (knob_on) {
		write_num(RXE_DBG "/xmit_drop_every", 0);
		knob_on = false;
	}
}

/* Lose every packet of BTH opcode @op the device sends from now on. */
static void lose(int op)
{
	if (!write_num(RXE_DBG "/xmit_drop_every", 0) ||
	    !write_num(RXE_DBG "/xmit_drop_opcode", op) ||
	    !write_num(RXE_DBG "/xmit_drop_every", 1))
		die("cannot set %s/xmit_drop_*: %s", RXE_DBG, strerror(errno));
	knob_on = true;
}

static long dropped(void)
{
	return read_num(RXE_DBG "/xmit_dropped");
}

/* Wait until the knob has lost more than @d0 packets. */
static bool wait_dropped(long d0)
{
	double end = now() + wait_secs;

	while (now() < end) {
		if (dropped() > d0)
			return true;
		msleep(5);
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* Verbs: a loopback RC pair a <-> b */

struct rig {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_qp *a, *b;
	struct ibv_mr *mr_a, *mr_b;
	struct ibv_mr *mr_odp;	/* b's on-demand-paged MR (storm), or NULL */
	uint8_t *buf_a, *buf_b, *buf_odp;
	int gidx;
	union ibv_gid gid;
	uint32_t psn_ab;	/* next PSN a sends = the one b expects */
	uint32_t psn_ba;
	unsigned int seq;	/* work request ids */
	unsigned int slot;	/* next receive slot of b */
	uint8_t retry_cnt;	/* of both QPs from the next connect; 0: 7 */
	uint8_t timeout;	/* likewise; 0: 17 */
};

static struct rig R;

static struct ibv_context *open_dev(void)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		die("ibv_get_device_list: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), dev_name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!ctx)
		die("cannot open device %s", dev_name);
	return ctx;
}

/* The RoCE v2 GID of @addr (::ffff:a.b.c.d); its index, -1 if none. */
static int gid_of_addr(struct ibv_context *ctx, struct in_addr addr,
		       union ibv_gid *gid)
{
	struct ibv_port_attr pa;
	struct ibv_gid_entry e;
	uint8_t want[16] = { [10] = 0xff, [11] = 0xff };
	int i;

	memcpy(want + 12, &addr.s_addr, 4);
	if (ibv_query_port(ctx, PORT, &pa))
		die("ibv_query_port: %s", strerror(errno));
	for (i = 0; i < pa.gid_tbl_len; i++) {
		if (ibv_query_gid_ex(ctx, PORT, i, &e, 0))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2 &&
		    !memcmp(e.gid.raw, want, 16)) {
			*gid = e.gid;
			return i;
		}
	}
	return -1;
}

static int qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr qi;
	struct ibv_qp_attr qa;

	memset(&qa, 0, sizeof(qa));
	if (ibv_query_qp(qp, &qa, IBV_QP_STATE, &qi))
		return -1;
	return qa.qp_state;
}

static const char *state_str(int st)
{
	static const char *const n[] = {
		"RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR",
	};

	return st >= 0 && st <= IBV_QPS_ERR ? n[st] : "?";
}

/*
 * Check that @qp is in @st.  ERR comes asynchronously (the transport runs
 * after the packet): wait up to wait_secs for it; other states are read
 * once.
 */
static bool state_is(struct ibv_qp *qp, int st, const char *what)
{
	double end = now() + wait_secs;
	int s;

	for (;;) {
		s = qp_state(qp);
		if (s == st || st != IBV_QPS_ERR || now() > end)
			break;
		msleep(5);
	}
	return check(s == st, "%s: QP %s in %s (want %s)", what,
		     qp == R.a ? "a" : qp == R.b ? "b" : "#", state_str(s),
		     state_str(st));
}

static struct ibv_qp *rc_qp(void)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = R.cq_a,
		.recv_cq = R.cq_a,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 32, .max_recv_wr = 32,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp *qp = ibv_create_qp(R.pd, &ia);

	if (!qp)
		die("ibv_create_qp(RC): %s", strerror(errno));
	return qp;
}

static void qp_modify(struct ibv_qp *qp, struct ibv_qp_attr *a, int mask,
		      const char *what)
{
	int err = ibv_modify_qp(qp, a, mask);

	if (err)
		die("modify QP %u to %s: %s", qp->qp_num, what, strerror(err));
}

static void qp_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = PORT,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC,
	};

	qp_modify(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
		  IBV_QP_ACCESS_FLAGS, "INIT");
}

static void qp_rtr(struct ibv_qp *qp, uint32_t dqpn, uint32_t rq_psn)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = IBV_MTU_1024,
		.dest_qp_num = dqpn,
		.rq_psn = rq_psn,
		.max_dest_rd_atomic = 4,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.port_num = PORT,
			.grh = {
				.dgid = R.gid,
				.sgid_index = R.gidx,
				.hop_limit = 64,
			},
		},
	};

	qp_modify(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
		  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
		  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER, "RTR");
}

/*
 * ACK timeout 17 (0.54 s): a SEND lost on purpose is resent soon after the
 * knob is off, and not before a forged packet had its chance.  Retries 7
 * (for ever).  R.timeout and R.retry_cnt override them.
 */
static void qp_rts(struct ibv_qp *qp, uint32_t sq_psn)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTS,
		.timeout = R.timeout ? R.timeout : 17,
		.retry_cnt = R.retry_cnt ? R.retry_cnt : 7,
		.rnr_retry = 7,
		.sq_psn = sq_psn,
		.max_rd_atomic = 4,
	};

	qp_modify(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT |
		  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC,
		  "RTS");
}

static void qp_reset(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };

	qp_modify(qp, &a, IBV_QP_STATE, "RESET");
}

static int drain(struct ibv_cq *cq)
{
	struct ibv_wc wc[16];
	int n, total = 0;

	while ((n = ibv_poll_cq(cq, 16, wc)) > 0)
		total += n;
	if (n < 0)
		die("ibv_poll_cq: %d", n);
	return total;
}

/*
 * Reset a and b, drop whatever completions they left and connect them
 * again: a sends from @psn_ab, which b expects; b from @psn_ba.
 */
static void pair_connect(uint32_t psn_ab, uint32_t psn_ba)
{
	if (qp_state(R.a) != IBV_QPS_RESET)
		qp_reset(R.a);
	if (qp_state(R.b) != IBV_QPS_RESET)
		qp_reset(R.b);
	drain(R.cq_a);
	drain(R.cq_b);
	qp_init(R.a);
	qp_init(R.b);
	qp_rtr(R.a, R.b->qp_num, psn_ba);
	qp_rtr(R.b, R.a->qp_num, psn_ab);
	qp_rts(R.a, psn_ab);
	qp_rts(R.b, psn_ba);
	R.psn_ab = psn_ab & PSN_MASK;
	R.psn_ba = psn_ba & PSN_MASK;
}

/* Connect again with new PSNs (sometimes close to the 24-bit wrap). */
static void pair_reconnect(const char *why)
{
	uint32_t p = rnd() & PSN_MASK, q = rnd() & PSN_MASK;

	if (rnd() % 4 == 0)
		p = (PSN_MASK - (rnd() % 4)) & PSN_MASK;
	pair_connect(p, q);
	say("pair reset and connected again (%s): a sends from PSN 0x%06x, "
	    "b from 0x%06x", why, R.psn_ab, R.psn_ba);
}

/* Post a receive on b into the next slot; returns its wr_id. */
static uint64_t post_recv_b(void)
{
	unsigned int slot = R.slot++ % NSLOTS;
	uint64_t id = (uint64_t)++R.seq << 8 | slot;
	struct ibv_sge sge = {
		.addr = (uintptr_t)R.buf_b + B_RECV + slot * RECV_SLOT,
		.length = RECV_SLOT,
		.lkey = R.mr_b->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = id, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int err;

	memset(R.buf_b + B_RECV + slot * RECV_SLOT, 0, RECV_SLOT);
	err = ibv_post_recv(R.b, &wr, &bad);
	if (err)
		die("ibv_post_recv on b: %s", strerror(err));
	return id;
}

static uint8_t *recv_slot(uint64_t id)
{
	return R.buf_b + B_RECV + (id & 0xff) * RECV_SLOT;
}

static void fill_pat(uint8_t *p, size_t len, unsigned int seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 31 + i * 7 + 3);
}

/* Post a signalled work request on a from its send area; returns wr_id. */
static uint64_t post_a(enum ibv_wr_opcode op, uint32_t len, uint64_t raddr,
		       uint32_t rkey, uint32_t local_off)
{
	uint64_t id = (uint64_t)++R.seq << 8 | 0xaa;
	struct ibv_sge sge = {
		.addr = (uintptr_t)R.buf_a + local_off,
		.length = len,
		.lkey = R.mr_a->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_send_wr *bad;
	int err;

	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	err = ibv_post_send(R.a, &wr, &bad);
	if (err)
		die("ibv_post_send on a: %s", strerror(err));
	return id;
}

/* The next completion of @cq within @secs seconds. */
static bool poll_one(struct ibv_cq *cq, struct ibv_wc *wc, double secs)
{
	double end = now() + secs;
	int r;

	for (;;) {
		r = ibv_poll_cq(cq, 1, wc);
		if (r < 0)
			die("ibv_poll_cq: %d", r);
		if (r == 1)
			return true;
		if (now() > end)
			return false;
		msleep(1);
	}
}

/* Completions that turn up on @cq within @ms; the first one in @wc. */
static int quiet(struct ibv_cq *cq, struct ibv_wc *wc, int ms)
{
	double end = now() + ms / 1000.0;
	struct ibv_wc w;
	int n = 0;

	while (now() < end) {
		while (ibv_poll_cq(cq, 1, &w) == 1)
			if (n++ == 0)
				*wc = w;
		msleep(2);
	}
	return n;
}

static const char *wc_str(const struct ibv_wc *wc)
{
	static char s[96];

	snprintf(s, sizeof(s), "wr_id %#" PRIx64 " %s, %u bytes", wc->wr_id,
		 ibv_wc_status_str(wc->status), wc->byte_len);
	return s;
}

/*
 * A real SEND from a must land in b's receive @rid: both completions
 * successful, length and payload right; it and its ACK are two packets
 * each way and count no duplicate or out-of-sequence request (so b was
 * expecting exactly the PSN we track).
 */
static bool send_check(const char *what, uint64_t rid)
{
	unsigned int seq = R.seq + 1;
	struct ibv_wc wc;
	struct snap s0;
	char ctx[160];
	bool ok;

	if (qp_state(R.a) != IBV_QPS_RTS || qp_state(R.b) != IBV_QPS_RTS)
		return check(false, "%s: a real SEND a -> b: not tried, a in %s, "
			     "b in %s", what, state_str(qp_state(R.a)),
			     state_str(qp_state(R.b)));
	fill_pat(R.buf_a + A_SEND, SEND_LEN, seq);
	snap(&s0);
	post_a(IBV_WR_SEND, SEND_LEN, 0, 0, A_SEND);
	ok = poll_one(R.cq_b, &wc, wait_secs);
	if (!ok) {
		check(false, "%s: a real SEND a -> b: no receive completion "
		      "within %d s", what, wait_secs);
	} else {
		check(wc.status == IBV_WC_SUCCESS && wc.wr_id == rid &&
		      wc.byte_len == SEND_LEN &&
		      !memcmp(recv_slot(rid), R.buf_a + A_SEND, SEND_LEN),
		      "%s: a real SEND a -> b (PSN 0x%06x) lands in the "
		      "receive posted for it (%#" PRIx64 "), payload compared "
		      "(got %s%s)", what, R.psn_ab, rid, wc_str(&wc),
		      wc.wr_id == rid && wc.status == IBV_WC_SUCCESS &&
		      memcmp(recv_slot(rid), R.buf_a + A_SEND, SEND_LEN) ?
		      ", payload differs" : "");
		ok = poll_one(R.cq_a, &wc, wait_secs);
		check(ok && wc.status == IBV_WC_SUCCESS,
		      "%s: the SEND completes successfully on a (%s)", what,
		      ok ? wc_str(&wc) : "no completion");
	}
	R.psn_ab = (R.psn_ab + 1) & PSN_MASK;
	snprintf(ctx, sizeof(ctx), "%s: the good SEND and its ACK", what);
	expect(&s0, ctx, (struct want[]){ { C_RCVD, 2 }, { C_SENT, 2 }, END });
	return ok;
}

static bool healthy(const char *what)
{
	return send_check(what, post_recv_b());
}

/* The rkey of an MR that existed a moment ago. */
static uint32_t dead_rkey(void)
{
	static uint8_t scratch[4096];
	struct ibv_mr *mr;
	uint32_t rkey;

	mr = ibv_reg_mr(R.pd, scratch, sizeof(scratch),
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			IBV_ACCESS_REMOTE_READ);
	if (!mr)
		die("ibv_reg_mr: %s", strerror(errno));
	rkey = mr->rkey;
	if (ibv_dereg_mr(mr))
		die("ibv_dereg_mr: %s", strerror(errno));
	return rkey;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void setup(void)
{
	int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		  IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;

	R.ctx = open_dev();
	R.gidx = gid_of_addr(R.ctx, my_addr, &R.gid);
	if (R.gidx < 0)
		die("%s has no RoCE v2 GID for %s", dev_name,
		    ipstr(my_addr));
	R.pd = ibv_alloc_pd(R.ctx);
	R.cq_a = ibv_create_cq(R.ctx, 256, NULL, NULL, 0);
	R.cq_b = ibv_create_cq(R.ctx, 256, NULL, NULL, 0);
	if (!R.pd || !R.cq_a || !R.cq_b)
		die("PD/CQ: %s", strerror(errno));
	R.buf_a = aligned_alloc(4096, BUF_LEN);
	R.buf_b = aligned_alloc(4096, BUF_LEN);
	if (!R.buf_a || !R.buf_b)
		die("out of memory");
	memset(R.buf_a, 0, BUF_LEN);
	memset(R.buf_b, 0, BUF_LEN);
	R.mr_a = ibv_reg_mr(R.pd, R.buf_a, BUF_LEN, acc);
	R.mr_b = ibv_reg_mr(R.pd, R.buf_b, BUF_LEN, acc);
	if (!R.mr_a || !R.mr_b)
		die("ibv_reg_mr: %s", strerror(errno));
	R.buf_odp = aligned_alloc(4096, ODP_LEN);
	if (R.buf_odp)
		R.mr_odp = ibv_reg_mr(R.pd, R.buf_odp, ODP_LEN,
				      acc | IBV_ACCESS_ON_DEMAND);
	R.a = rc_qp();
	{
		struct ibv_qp_init_attr ia = {
			.send_cq = R.cq_b,
			.recv_cq = R.cq_b,
			.qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = 32, .max_recv_wr = 32,
				 .max_send_sge = 1, .max_recv_sge = 1 },
		};

		R.b = ibv_create_qp(R.pd, &ia);
		if (!R.b)
			die("ibv_create_qp(RC): %s", strerror(errno));
	}
	/* Start just below the 24-bit wrap: the first SENDs cross it. */
	pair_connect(0xfffffe, 0x123456);
	say("%s: GID index %d (%s), QP a %u, QP b %u; a sends from PSN "
	    "0x%06x, b from 0x%06x; injecting from %s:%u%s%s", dev_name,
	    R.gidx, ipstr(my_addr), R.a->qp_num, R.b->qp_num, R.psn_ab,
	    R.psn_ba, ipstr(me.addr), me.port,
	    knob ? "; transmit fault injection: yes" : "",
	    lenient ? "; lenient about missing counters" : "");
	if (have_spoof)
		say("second source address %s:%u", ipstr(spoof.addr),
		    spoof.port);
	say("b's ODP MR for the storm: %s", R.mr_odp ? "yes" :
	    "none (device refused IBV_ACCESS_ON_DEMAND)");
}

/*
 * A packet to a QPN that cannot exist must come out as rcvd_no_qp: that
 * proves the datagrams reach the device's receive path and that our ICRC
 * matches what the kernel put on them.
 */
static void preflight(void)
{
	struct snap s0, s1;
	struct pk k;
	double end;

	snap(&s0);
	if (s0.v[C_RCVD] < 0)
		die("no hw_counters for %s", dev_name);
	pk_msg(&k, OP_RC_SEND_ONLY, 0xfffffe, 0, true, NULL, 0, "preflight",
	       9);
	seal(&k, &me);
	inject(&me, &k);
	end = now() + wait_secs;
	do {
		msleep(10);
		snap(&s1);
	} while (now() < end && s1.v[C_NO_QP] == s0.v[C_NO_QP] &&
		 s1.v[C_BAD_ICRC] == s0.v[C_BAD_ICRC] &&
		 s1.v[C_BAD_HDR] == s0.v[C_BAD_HDR]);
	if (s1.v[C_BAD_HDR] > s0.v[C_BAD_HDR])
		die("preflight: the device counts a well-formed packet as a bad "
		    "header");
	if (s1.v[C_BAD_ICRC] > s0.v[C_BAD_ICRC])
		die("preflight: the device counts our packet as a bad ICRC: the "
		    "IPv4/UDP header the kernel built is not the one our ICRC "
		    "covers (IP ID not 0?)");
	if (s0.v[C_NO_QP] >= 0 && s1.v[C_NO_QP] == s0.v[C_NO_QP])
		die("preflight: a packet to QPN 0xfffffe moved no counter of %s "
		    "within %d s: it did not reach the device's receive path "
		    "(a datagram to one of our own addresses goes over lo; "
		    "redirect lo's UDP/4791 egress to %s's netdev ingress, "
		    "with accept_local there)", dev_name, wait_secs, dev_name);
	if (s0.v[C_NO_QP] < 0) {
		/* Lenient: a driver without rcvd_no_qp; nothing to prove it. */
		skip("preflight: no rcvd_no_qp counter; delivery not proven");
		return;
	}
	expect(&s0, "preflight: a packet to QPN 0xfffffe reaches the receive "
	       "path, ICRC accepted",
	       (struct want[]){ { C_NO_QP, 1 }, END });
}

/* ------------------------------------------------------------------------ */
/* The groups */

static void g_opcodes(void)
{
	static const uint8_t ops[] = {
		0x15, 0x18, 0x1f, 0x2c, 0x3f, 0x40, 0x5f, 0x66, 0x80, 0x81,
		0xc0, 0xff,
	};
	uint8_t pay[16];
	char what[160];
	struct snap s0;
	struct pk k;
	uint64_t rid;
	size_t i;

	memcpy(pay, "UNKNOWN-OPCODE!!", 16);
	rid = post_recv_b();
	snap(&s0);
	for (i = 0; i < sizeof(ops); i++) {
		if (op_hdrs(ops[i]))
			die("internal: opcode 0x%02x is a known one", ops[i]);
		pk_msg(&k, ops[i], R.b->qp_num, R.psn_ab, true, NULL, 0, pay,
		       sizeof(pay));
		seal(&k, &me);
		inject(&me, &k);
	}
	snprintf(what, sizeof(what), "%zu packets to b with opcodes 0x15 0x18 "
		 "0x1f 0x2c 0x3f 0x40 0x5f 0x66 0x80 0x81 0xc0 0xff, ICRC right",
		 sizeof(ops));
	expect(&s0, what, (struct want[]){ { C_BAD_HDR, sizeof(ops) }, END });
	state_is(R.b, IBV_QPS_RTS, "after them");
	send_check("after them", rid);
}

static void g_short(void)
{
	uint8_t ext[32], raw[16];
	struct snap s0;
	struct pk k;
	int n = 0;

	memset(ext, 0x5a, sizeof(ext));
	snap(&s0);
	/* WRITE FIRST without its RETH: BTH and ICRC only. */
	pk_bth(&k, OP_RC_WRITE_FIRST, 0, 0xffff, R.b->qp_num, false, R.psn_ab);
	n += fire(&k, &me);
	/* WRITE ONLY with half a RETH. */
	pk_bth(&k, OP_RC_WRITE_ONLY, 0, 0xffff, R.b->qp_num, true, R.psn_ab);
	pk_add(&k, ext, 8);
	n += fire(&k, &me);
	/* READ REQUEST one byte short of its RETH. */
	pk_bth(&k, OP_RC_READ_REQ, 0, 0xffff, R.b->qp_num, true, R.psn_ab);
	pk_add(&k, ext, 15);
	n += fire(&k, &me);
	/* COMPARE SWAP one byte short of its AtomicETH. */
	pk_bth(&k, OP_RC_CMP_SWAP, 0, 0xffff, R.b->qp_num, true, R.psn_ab);
	pk_add(&k, ext, 27);
	n += fire(&k, &me);
	/* WRITE ONLY with immediate: RETH but ImmDt 3 bytes of 4. */
	pk_bth(&k, OP_RC_WRITE_ONLY_IMM, 0, 0xffff, R.b->qp_num, true,
	       R.psn_ab);
	pk_add(&k, ext, 16 + 3);
	n += fire(&k, &me);
	/* ACK to a without its AETH. */
	pk_bth(&k, OP_RC_ACK, 0, 0xffff, R.a->qp_num, false, R.psn_ab);
	n += fire(&k, &me);
	/* UD SEND ONLY with half a DETH. */
	pk_bth(&k, OP_UD_SEND_ONLY, 0, 0xffff, R.b->qp_num, false, 0);
	pk_add(&k, ext, 4);
	n += fire(&k, &me);
	/* SEND ONLY: a BTH and no room for the ICRC. */
	pk_bth(&k, OP_RC_SEND_ONLY, 0, 0xffff, R.b->qp_num, true, R.psn_ab);
	inject(&me, &k);
	n++;
	/* Three bytes of ICRC. */
	pk_msg(&k, OP_RC_SEND_ONLY, R.b->qp_num, R.psn_ab, true, NULL, 0,
	       NULL, 0);
	seal(&k, &me);
	send_raw(&me, k.b, k.len - 1);
	n++;
	/* Shorter than a BTH: 10, 1 and 0 bytes. */
	memcpy(raw, k.b, sizeof(raw));
	send_raw(&me, raw, 10);
	send_raw(&me, raw, 1);
	send_raw(&me, raw, 0);
	n += 3;
	expect(&s0, "12 packets too short for their opcode's headers, pad and "
	       "ICRC (WRITE FIRST without RETH, RETH 8/16, RETH 15/16, "
	       "AtomicETH 27/28, ImmDt 3/4, ACK without AETH, DETH 4/8, no "
	       "ICRC, ICRC 3/4, 10-, 1- and 0-byte datagrams)",
	       (struct want[]){ { C_BAD_HDR, n }, END });
	state_is(R.b, IBV_QPS_RTS, "after them");
	state_is(R.a, IBV_QPS_RTS, "after them");
	healthy("after them");
}

static void g_pad_tver(void)
{
	uint8_t ext[16], pay[8];
	struct snap s0;
	struct pk k;
	uint64_t rid;
	int n = 0;

	memcpy(pay, "PADTVER!", 8);
	rid = post_recv_b();
	snap(&s0);
	/* PadCnt 3, nothing after the BTH. */
	pk_bth(&k, OP_RC_SEND_ONLY, bth1(false, 3, 0), 0xffff, R.b->qp_num,
	       true, R.psn_ab);
	n += fire(&k, &me);
	/* PadCnt 3, two bytes. */
	pk_bth(&k, OP_RC_SEND_ONLY, bth1(false, 3, 0), 0xffff, R.b->qp_num,
	       true, R.psn_ab);
	pk_add(&k, pay, 2);
	n += fire(&k, &me);
	/* PadCnt 2, one byte. */
	pk_bth(&k, OP_RC_SEND_ONLY, bth1(true, 2, 0), 0xffff, R.b->qp_num,
	       true, R.psn_ab);
	pk_add(&k, pay, 1);
	n += fire(&k, &me);
	/* SEND ONLY with immediate, PadCnt 1, no payload. */
	pk_bth(&k, OP_RC_SEND_ONLY_IMM, bth1(false, 1, 0), 0xffff,
	       R.b->qp_num, true, R.psn_ab);
	pk_add(&k, pay, 4);
	n += fire(&k, &me);
	/* WRITE ONLY of 0 bytes with PadCnt 3. */
	pk_bth(&k, OP_RC_WRITE_ONLY, bth1(false, 3, 0), 0xffff, R.b->qp_num,
	       true, R.psn_ab);
	pk_add(&k, ext, reth(ext, (uintptr_t)R.buf_b + B_TARGET,
			     R.mr_b->rkey, 0));
	n += fire(&k, &me);
	/* TVer 1 and 15 on a good SEND; TVer 2 on an ACK to a. */
	pk_bth(&k, OP_RC_SEND_ONLY, bth1(false, 0, 1), 0xffff, R.b->qp_num,
	       true, R.psn_ab);
	pk_add(&k, pay, 8);
	n += fire(&k, &me);
	pk_bth(&k, OP_RC_SEND_ONLY, bth1(false, 0, 15), 0xffff, R.b->qp_num,
	       true, R.psn_ab);
	pk_add(&k, pay, 8);
	n += fire(&k, &me);
	pk_bth(&k, OP_RC_ACK, bth1(false, 0, 2), 0xffff, R.a->qp_num, false,
	       R.psn_ab);
	pk_add(&k, ext, aeth(ext, SYN_NAK_REM_ACCESS, 0));
	n += fire(&k, &me);
	expect(&s0, "5 packets whose PadCnt exceeds the bytes after their "
	       "headers and 3 with TVer 1, 15, 2",
	       (struct want[]){ { C_BAD_HDR, n }, END });
	state_is(R.b, IBV_QPS_RTS, "after them");
	state_is(R.a, IBV_QPS_RTS, "after them");
	send_check("after them", rid);
}

static void g_icrc(void)
{
	uint8_t pay[32];
	struct snap s0;
	struct src alt;
	struct pk k;
	uint64_t rid;
	unsigned int i;
	uint8_t t;

	memcpy(pay, "THIS-ONE-HAS-A-BAD-ICRC.........", 32);
	rid = post_recv_b();
	snap(&s0);
	for (i = 0; i < 10; i++) {
		pk_msg(&k, OP_RC_SEND_ONLY, R.b->qp_num, R.psn_ab, true, NULL,
		       0, pay, sizeof(pay));
		alt = me;
		if (i == 4)
			alt.port++;
		if (i == 5)
			alt.addr.s_addr = htonl(ntohl(alt.addr.s_addr) + 1);
		seal_q(&k, &alt, i == 6 ? Q_NO_MASK : i == 7 ? Q_NO_LRH : 0);
		switch (i) {
		case 0:
			k.b[k.len - 4] ^= 1;
			break;
		case 1:
			k.b[k.len - 1] ^= 0x80;
			break;
		case 2:
			k.b[12 + 5] ^= 0x10;
			break;
		case 3:
			k.b[11] ^= 1;
			break;
		case 8:
			t = k.b[k.len - 4];
			k.b[k.len - 4] = k.b[k.len - 1];
			k.b[k.len - 1] = t;
			t = k.b[k.len - 3];
			k.b[k.len - 3] = k.b[k.len - 2];
			k.b[k.len - 2] = t;
			break;
		case 9:
			memset(k.b + k.len - 4, 0, 4);
			break;
		}
		inject(&me, &k);
	}
	expect(&s0, "10 SENDs to b at its expected PSN with a bad ICRC (bit "
	       "flips in ICRC, payload, PSN; sealed over a wrong port or "
	       "address, unmasked, without LRH; big-endian; zero)",
	       (struct want[]){ { C_BAD_ICRC, 10 }, END });
	state_is(R.b, IBV_QPS_RTS, "after them");
	send_check("after them", rid);
}

static void g_no_qp(void)
{
	static const uint32_t qpns[] = { 0xfffffe, 0xfffffe, 0, 0, 0xf, 0x2 };
	uint8_t ext[16];
	struct ibv_qp *c;
	struct snap s0;
	struct pk k;
	uint32_t dead;
	size_t i;
	int n = 0;

	c = rc_qp();
	dead = c->qp_num;
	if (ibv_destroy_qp(c))
		die("ibv_destroy_qp: %s", strerror(errno));
	snap(&s0);
	for (i = 0; i < sizeof(qpns) / sizeof(qpns[0]); i++) {
		pk_msg(&k, OP_RC_SEND_ONLY, qpns[i], R.psn_ab, true, NULL, 0,
		       "NO-SUCH-QP", 10);
		n += fire(&k, &me);
	}
	/* A request, a response and a READ to the QP just destroyed. */
	pk_msg(&k, OP_RC_SEND_ONLY, dead, 0, true, NULL, 0, "DEAD-QP", 7);
	n += fire(&k, &me);
	pk_msg(&k, OP_RC_ACK, dead, 0, false, ext,
	       aeth(ext, SYN_NAK_REM_ACCESS, 0), NULL, 0);
	n += fire(&k, &me);
	pk_msg(&k, OP_RC_READ_REQ, dead, 0, true, ext,
	       reth(ext, (uintptr_t)R.buf_b, R.mr_b->rkey, 64), NULL, 0);
	n += fire(&k, &me);
	pk_msg(&k, OP_UD_SEND_ONLY, dead, 0, false, ext,
	       deth(ext, QKEY, R.a->qp_num), "UD", 2);
	n += fire(&k, &me);
	expect(&s0, "10 packets to QPNs that do not exist (0xfffffe, 0, 2, "
	       "0xf, and a QP destroyed just before)",
	       (struct want[]){ { C_NO_QP, n }, END });
	state_is(R.b, IBV_QPS_RTS, "after them");
	healthy("after them");
}

static struct ibv_qp *ud_qp(void)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = R.cq_a,
		.recv_cq = R.cq_a,
		.qp_type = IBV_QPT_UD,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = PORT,
		.qkey = QKEY,
	};
	struct ibv_qp *qp = ibv_create_qp(R.pd, &ia);

	if (!qp)
		die("ibv_create_qp(UD): %s", strerror(errno));
	qp_modify(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
		  IBV_QP_QKEY, "INIT");
	a.qp_state = IBV_QPS_RTR;
	qp_modify(qp, &a, IBV_QP_STATE, "RTR");
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0;
	qp_modify(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN, "RTS");
	return qp;
}

static void g_class(void)
{
	uint8_t ext[32], pay[16];
	struct ibv_qp *u, *c;
	struct snap s0;
	struct pk k;
	uint64_t rid;
	size_t e;
	int n = 0;

	memcpy(pay, "WRONG-CLASS-----", 16);
	u = ud_qp();
	c = rc_qp();
	qp_init(c);
	rid = post_recv_b();
	snap(&s0);
	/* UD SEND ONLY (with DETH) and with immediate, to RC QP b. */
	pk_msg(&k, OP_UD_SEND_ONLY, R.b->qp_num, R.psn_ab, false, ext,
	       deth(ext, QKEY, R.a->qp_num), pay, 16);
	n += fire(&k, &me);
	e = deth(ext, QKEY, R.a->qp_num);
	memcpy(ext + e, "IMMD", 4);
	pk_msg(&k, OP_UD_SEND_ONLY_IMM, R.b->qp_num, R.psn_ab, false, ext,
	       e + 4, pay, 16);
	n += fire(&k, &me);
	/* UC SEND ONLY and UC WRITE ONLY to RC QP b. */
	pk_msg(&k, OP_UC_SEND_ONLY, R.b->qp_num, R.psn_ab, false, NULL, 0,
	       pay, 16);
	n += fire(&k, &me);
	pk_msg(&k, OP_UC_WRITE_ONLY, R.b->qp_num, R.psn_ab, false, ext,
	       reth(ext, (uintptr_t)R.buf_b + B_TARGET, R.mr_b->rkey, 16),
	       pay, 16);
	n += fire(&k, &me);
	/* RC SEND ONLY to the UD QP. */
	pk_msg(&k, OP_RC_SEND_ONLY, u->qp_num, 0, true, NULL, 0, pay, 16);
	n += fire(&k, &me);
	/* RC SEND ONLY to an RC QP in INIT. */
	pk_msg(&k, OP_RC_SEND_ONLY, c->qp_num, 0, true, NULL, 0, pay, 16);
	n += fire(&k, &me);
	expect(&s0, "6 packets of the wrong transport class or for a QP in the "
	       "wrong state (UD SEND, UD SEND with immediate, UC SEND, UC "
	       "WRITE to RC b; RC SEND to a UD QP; RC SEND to an RC QP in INIT)",
	       (struct want[]){ { C_BAD_STATE, n }, END });
	/* A response to an RC QP in RTR (responses need RTS). */
	qp_rtr(c, R.a->qp_num, 0);
	snap(&s0);
	pk_msg(&k, OP_RC_ACK, c->qp_num, 0, false, ext, aeth(ext, SYN_ACK, 0),
	       NULL, 0);
	seal(&k, &me);
	inject(&me, &k);
	expect(&s0, "an ACK to an RC QP in RTR",
	       (struct want[]){ { C_BAD_STATE, 1 }, END });
	/* Keys: a wrong Q_Key to the UD QP, a foreign P_Key to b. */
	snap(&s0);
	pk_msg(&k, OP_UD_SEND_ONLY, u->qp_num, 0, false, ext,
	       deth(ext, QKEY ^ 1, R.a->qp_num), pay, 16);
	seal(&k, &me);
	inject(&me, &k);
	pk_msg(&k, OP_RC_SEND_ONLY, R.b->qp_num, R.psn_ab, true, NULL, 0, pay,
	       16);
	put16(k.b + 2, 0x1234);
	seal(&k, &me);
	inject(&me, &k);
	expect(&s0, "a UD SEND with the wrong Q_Key, an RC SEND to b with P_Key "
	       "0x1234", (struct want[]){ { C_BAD_KEY, 2 }, END });
	if (ibv_destroy_qp(u) || ibv_destroy_qp(c))
		die("ibv_destroy_qp: %s", strerror(errno));
	drain(R.cq_a);
	state_is(R.b, IBV_QPS_RTS, "after them");
	send_check("after them", rid);
}

static void psn_unsent(void);
static void psn_seq_retries(void);

static void g_psn(void)
{
	static const uint32_t ahead[] = { 0x10, 0x1000, 0x7ffff0 };
	static const uint32_t behind[] = { 1, 0x1000, 0x7ffff0 };
	struct ibv_wc wc;
	struct snap s0;
	struct pk k;
	uint64_t rid;
	size_t i;
	int n;

	rid = post_recv_b();
	snap(&s0);
	for (i = 0; i < 3; i++) {
		pk_msg(&k, OP_RC_SEND_ONLY, R.b->qp_num,
		       (R.psn_ab + ahead[i]) & PSN_MASK, true, NULL, 0,
		       "FROM-THE-FUTURE", 15);
		seal(&k, &me);
		inject(&me, &k);
	}
	/*
	 * The NAK asks a for PSN R.psn_ab, which a has not sent yet: ours
	 * drops it as a response to nothing sent, stock counts a sequence
	 * error (and has nothing to resend).
	 */
	expect(&s0, "3 SENDs to b 0x10, 0x1000, 0x7ffff0 PSNs ahead of the "
	       "expected one: out of sequence, one sequence NAK to a (for a "
	       "PSN a has not sent)",
	       (struct want[]){ { C_RCVD, 3 + 1 }, { C_OOS, 3 }, { C_SENT, 1 },
				{ s0.v[C_UNSENT] >= 0 ? C_UNSENT : C_SEQERR, 1 },
				END });
	n = quiet(R.cq_b, &wc, 200);
	check(n == 0, "nothing delivered to b (%d completions%s%s)", n,
	      n ? ": " : "", n ? wc_str(&wc) : "");
	state_is(R.b, IBV_QPS_RTS, "after them");
	state_is(R.a, IBV_QPS_RTS, "after them");
	send_check("after them", rid);

	rid = post_recv_b();
	snap(&s0);
	for (i = 0; i < 3; i++) {
		pk_msg(&k, OP_RC_SEND_ONLY, R.b->qp_num,
		       (R.psn_ab - behind[i]) & PSN_MASK, true, NULL, 0,
		       "FROM-THE-PAST", 13);
		seal(&k, &me);
		inject(&me, &k);
	}
	pk_msg(&k, OP_RC_SEND_ONLY, R.b->qp_num, (R.psn_ab - 2) & PSN_MASK,
	       false, NULL, 0, "FROM-THE-PAST", 13);
	seal(&k, &me);
	inject(&me, &k);
	expect(&s0, "4 SENDs to b 1, 0x1000, 0x7ffff0 and (no AckReq) 2 PSNs "
	       "behind: duplicates, the 3 with AckReq re-ACKed",
	       (struct want[]){ { C_RCVD, 4 + 3 }, { C_DUP, 4 }, { C_SENT, 3 },
				END });
	n = quiet(R.cq_b, &wc, 200);
	check(n == 0, "no receive consumed by them (%d completions%s%s)", n,
	      n ? ": " : "", n ? wc_str(&wc) : "");
	state_is(R.b, IBV_QPS_RTS, "after them");
	send_check("after them (in the receive posted before them)", rid);
	if (group_fail)
		pair_reconnect("after a failed check");
	psn_unsent();
	psn_seq_retries();
}

/*
 * Groups 8, 9: let a post @op (of @len bytes at b's target) and lose its
 * request on the way, so that a NAK for its PSN completes it with the
 * syndrome's status.  Returns false without the knob.
 */
static bool victim(enum ibv_wr_opcode op, int bth_op, uint32_t len,
		   uint32_t local_off)
{
	long d0;

	if (!knob)
		return false;
	lose(bth_op);
	d0 = dropped();
	post_a(op, len, (uintptr_t)R.buf_b + B_TARGET, R.mr_b->rkey,
	       local_off);
	if (!check(wait_dropped(d0), "a's %s request (PSN 0x%06x) was sent "
		   "and lost on the way (xmit_dropped %ld -> %ld)",
		   bth_op == OP_RC_READ_REQ ? "READ" : bth_op ==
		   OP_RC_WRITE_ONLY ? "WRITE" : "SEND", R.psn_ab, d0,
		   dropped()))
		die("the transmit fault injection did not lose the packet");
	return true;
}

/*
 * a's SEND victim (PSN @psn, b's receive @rid posted for it) got responses
 * that must not complete it: it is still outstanding, and a's resend after
 * its ACK timeout lands at b and completes on a.  Without a victim (@v
 * false: no knob) a stays in RTS and a real SEND lands in @rid.
 */
static void victim_resent(bool v, uint64_t rid, uint32_t psn,
			  const char *what)
{
	struct ibv_wc wc;
	bool got;
	int n;

	if (!v) {
		state_is(R.a, IBV_QPS_RTS, what);
		send_check(what, rid);
		return;
	}
	n = quiet(R.cq_a, &wc, 300);
	knob_off();
	if (!check(n == 0, "a's SEND at that PSN is still outstanding (%d "
		   "completions%s%s)", n, n ? ": " : "", n ? wc_str(&wc) : "") ||
	    !state_is(R.a, IBV_QPS_RTS, what))
		return;
	/* a resends after its ACK timeout (0.54 s). */
	got = poll_one(R.cq_b, &wc, wait_secs);
	check(got && wc.status == IBV_WC_SUCCESS && wc.wr_id == rid &&
	      wc.byte_len == SEND_LEN &&
	      !memcmp(recv_slot(rid), R.buf_a + A_SEND, SEND_LEN),
	      "a's SEND, resent, lands in b's receive %#" PRIx64
	      ", payload compared (%s)", rid, got ? wc_str(&wc) : "no completion");
	got = poll_one(R.cq_a, &wc, wait_secs);
	check(got && wc.status == IBV_WC_SUCCESS && (wc.wr_id & 0xff) == 0xaa,
	      "and completes successfully on a (%s)",
	      got ? wc_str(&wc) : "no completion");
	R.psn_ab = (psn + 1) & PSN_MASK;
	healthy(what);
}

/*
 * Group 7, last part: responses to a for PSNs a never sent, while a's SEND
 * at R.psn_ab is outstanding (its request lost).  The first of them is for
 * the very next PSN.  An ACK there would retire the SEND although b never
 * got it; each is dropped and counted in rcvd_unsent_psn.  Without the
 * transmit fault injection (stock) nothing is outstanding.
 */
static void psn_unsent(void)
{
	static const struct {
		uint8_t op, syn;
		uint32_t ahead;
		const char *name;
	} r[] = {
		{ OP_RC_ACK, SYN_ACK, 1, "ACK" },
		{ OP_RC_ACK, SYN_ACK, 0x10, "ACK" },
		{ OP_RC_ACK, SYN_NAK_REM_ACCESS, 0x1000, "NAK remote access" },
		{ OP_RC_ACK, SYN_NAK_PSN_SEQ, 0x7ffff0, "NAK PSN sequence" },
		{ OP_RC_ATOMIC_ACK, SYN_ACK, 2, "ATOMIC ACK" },
		{ OP_RC_READ_RESP_ONLY, SYN_ACK, 3, "READ RESPONSE ONLY" },
	};
	uint8_t ext[12], pay[64];
	char what[600];
	struct snap s0;
	struct pk k;
	uint64_t rid;
	uint32_t psn;
	size_t i, o = 0, el;
	bool v;

	rid = post_recv_b();
	fill_pat(R.buf_a + A_SEND, SEND_LEN, 11);
	v = victim(IBV_WR_SEND, OP_RC_SEND_ONLY, SEND_LEN, A_SEND);
	psn = R.psn_ab;
	memset(pay, 0x5a, sizeof(pay));
	snap(&s0);
	for (i = 0; i < NR(r); i++) {
		el = aeth(ext, r[i].syn, 1);
		if (r[i].op == OP_RC_ATOMIC_ACK) {
			memset(ext + el, 0x77, 8);
			el += 8;
		}
		pk_msg(&k, r[i].op, R.a->qp_num, (psn + r[i].ahead) & PSN_MASK,
		       false, ext, el, pay,
		       r[i].op == OP_RC_READ_RESP_ONLY ? sizeof(pay) : 0);
		seal(&k, &me);
		inject(&me, &k);
		o += snprintf(what + o, sizeof(what) - o, "%s%s +%#x",
			      i ? ", " : "", r[i].name, r[i].ahead);
	}
	snprintf(what + o, sizeof(what) - o, " PSNs after a's %s 0x%06x: "
		 "dropped, counted", v ? "lost SEND at" : "next PSN", psn);
	expect(&s0, what, (struct want[]){ { C_RCVD, NR(r) },
				{ C_UNSENT, NR(r) }, END });
	victim_resent(v, rid, psn, "after them");
}

/*
 * Group 7, end: a PSN sequence NAK costs a retry, as a timeout does.  With
 * retry_cnt 2 and a's SEND outstanding (its request and every resend lost
 * by the fault injection), three sequence NAKs for its PSN: the first two
 * are resent (and lost), the third finds no retry left and completes the
 * SEND with a retry-exceeded error, a to ERR.  The ACK timeout is 4.3 s
 * here, so that no timeout (completer_retry_err) uses up the retries
 * instead.  Ours only (the knob).
 */
static void psn_seq_retries(void)
{
	struct ibv_wc wc;
	struct snap s0;
	uint8_t ext[4];
	struct pk k;
	long d0, t0, resent, timeouts;
	uint32_t psn;
	bool got;
	int i;

	if (!knob) {
		skip("sequence NAKs against retry_cnt need the transmit fault "
		     "injection");
		return;
	}
	R.retry_cnt = 2;
	R.timeout = 20;
	pair_reconnect("with retry_cnt 2, ACK timeout 4.3 s");
	fill_pat(R.buf_a + A_SEND, SEND_LEN, 12);
	victim(IBV_WR_SEND, OP_RC_SEND_ONLY, SEND_LEN, A_SEND);
	psn = R.psn_ab;
	d0 = dropped();
	t0 = counter("completer_retry_err");
	snap(&s0);
	for (i = 0; i < 3; i++) {
		pk_msg(&k, OP_RC_ACK, R.a->qp_num, psn, false, ext,
		       aeth(ext, SYN_NAK_PSN_SEQ, 0), NULL, 0);
		seal(&k, &me);
		inject(&me, &k);
	}
	expect(&s0, "3 sequence NAKs to a for its lost SEND at its PSN, "
	       "retry_cnt 2: the third exceeds the retries",
	       (struct want[]){ { C_RCVD, 3 }, { C_SEQERR, 3 },
				{ C_RETRYX, 1 }, END });
	got = poll_one(R.cq_a, &wc, wait_secs);
	check(got && wc.status == IBV_WC_RETRY_EXC_ERR &&
	      (wc.wr_id & 0xff) == 0xaa,
	      "a's SEND completes with a retry-exceeded error (%s)",
	      got ? wc_str(&wc) : "no completion");
	/* Two NAKs handled before the requester ran share one resend. */
	resent = dropped() - d0;
	check(resent >= 1 && resent <= 2, "the first two NAKs had it resent "
	      "(and lost): xmit_dropped %+ld (want +1 or +2)", resent);
	timeouts = counter("completer_retry_err") - t0;
	check(timeouts == 0, "no ACK timeout meanwhile: completer_retry_err "
	      "%+ld (want +0)", timeouts);
	state_is(R.a, IBV_QPS_ERR, "after the third NAK");
	knob_off();
	R.retry_cnt = 0;
	R.timeout = 0;
	pair_reconnect("for the next group");
	healthy("connected again");
}

/* a's victim WQE completes with @want (a NAK reached it); a in ERR. */
static void victim_done(enum ibv_wc_status want, const char *nak)
{
	struct ibv_wc wc;
	bool got = poll_one(R.cq_a, &wc, wait_secs);

	knob_off();
	check(got && wc.status == want && (wc.wr_id & 0xff) == 0xaa,
	      "b's NAK reached a's WQE: completed with %s (want %s: %s)",
	      got ? ibv_wc_status_str(wc.status) : "nothing",
	      ibv_wc_status_str(want), nak);
	state_is(R.a, IBV_QPS_ERR, "after the NAK");
}

static void g_bad_rkey(void)
{
	uint8_t ext[16], pay[64];
	struct snap s0;
	struct pk k;
	uint32_t dead = dead_rkey();
	bool v;

	memset(R.buf_b + B_TARGET, 0, B_TARGET_LEN);
	memset(pay, 0, sizeof(pay));
	snprintf((char *)pay, sizeof(pay), "FORGED-WRITE-BAD-RKEY-%08x", dead);
	fill_pat(R.buf_a + A_SEND, 64, 8);
	v = victim(IBV_WR_RDMA_WRITE, OP_RC_WRITE_ONLY, 64, A_SEND);
	snap(&s0);
	pk_msg(&k, OP_RC_WRITE_ONLY, R.b->qp_num, R.psn_ab, true, ext,
	       reth(ext, (uintptr_t)R.buf_b + B_TARGET, dead, sizeof(pay)),
	       pay, sizeof(pay));
	seal(&k, &me);
	inject(&me, &k);
	expect(&s0, "an RDMA WRITE ONLY to b at its expected PSN with an R_Key "
	       "that does not exist, and b's NAK",
	       (struct want[]){ { C_RCVD, 1 + 1 }, { C_SENT, 1 }, END });
	state_is(R.b, IBV_QPS_ERR, "after it");
	if (v)
		victim_done(IBV_WC_REM_ACCESS_ERR, "NAK remote access error");
	else
		skip("NAK syndrome not seen: no transmit fault injection");
	check(all_zero(R.buf_b + B_TARGET, B_TARGET_LEN) &&
	      !contains(R.buf_a, BUF_LEN, "FORGED-WRITE") &&
	      !contains(R.buf_b, BUF_LEN, "FORGED-WRITE"),
	      "no byte written: b's target untouched, the forged payload "
	      "nowhere in a's or b's memory");
	pair_reconnect("after group 8");
	healthy("after reconnecting");
}

/* b's response packets since @s0; more than one means a READ streamed. */
static long sent_since(const struct snap *s0)
{
	struct snap s1;

	snap(&s1);
	return s1.v[C_SENT] - s0->v[C_SENT];
}

/*
 * b streamed read responses (@n so far): reset the pair to stop it, then
 * time how soon b answers a SEND of its new connection.  A reset QP has
 * to start afresh at once, not after finishing the old READ unseen.
 */
static void stop_stream(long n)
{
	struct ibv_wc wc;
	uint64_t rid;
	double t0, t;
	bool got;

	check(false, "b streamed read responses (%ld packets so far): "
	      "resetting it", n);
	knob_off();
	pair_reconnect("to stop the stream");
	rid = post_recv_b();
	fill_pat(R.buf_a + A_SEND, SEND_LEN, 99);
	t0 = now();
	post_a(IBV_WR_SEND, SEND_LEN, 0, 0, A_SEND);
	got = poll_one(R.cq_b, &wc, 60);
	t = now() - t0;
	check(got && wc.status == IBV_WC_SUCCESS && wc.wr_id == rid && t < 5,
	      "b, reset in the middle of that READ and connected again, "
	      "answers the first SEND of its new connection within 5 s (%s "
	      "after %.1f s)", got ? wc_str(&wc) : "nothing", t);
	pair_reconnect("after the stream");
	healthy("after reconnecting");
}

/*
 * An RDMA READ REQUEST to b at its expected PSN for @len bytes at @va under
 * R_Key @rkey (valid): exactly one response, a NAK whose syndrome gives a
 * victim WQE of a's the status @want; b in ERR.  A b that streams read
 * responses instead is reset at once.
 */
static void read_probe(uint32_t rkey, uint64_t va, uint32_t len,
		       enum ibv_wc_status want, const char *where,
		       const char *nak)
{
	uint8_t ext[16];
	char what[300];
	struct snap s0;
	struct pk k;
	long n;
	bool v;

	memset(R.buf_a + A_READ, 0, 4096);
	v = victim(IBV_WR_RDMA_READ, OP_RC_READ_REQ, 64, A_READ);
	snap(&s0);
	pk_msg(&k, OP_RC_READ_REQ, R.b->qp_num, R.psn_ab, true, ext,
	       reth(ext, va, rkey, len), NULL, 0);
	seal(&k, &me);
	inject(&me, &k);
	snprintf(what, sizeof(what), "an RDMA READ REQUEST to b at its "
		 "expected PSN, valid R_Key %s, RETH length 0x%08x: one NAK, "
		 "nothing streamed", where, len);
	expect(&s0, what,
	       (struct want[]){ { C_RCVD, 1 + 1 }, { C_SENT, 1 }, END });
	n = sent_since(&s0);
	if (n > 1) {
		stop_stream(n);
		return;
	}
	state_is(R.b, IBV_QPS_ERR, "after it");
	if (v)
		victim_done(want, nak);
	else
		skip("NAK syndrome not seen: no transmit fault injection");
	check(all_zero(R.buf_a + A_READ, 4096),
	      "a's READ buffer untouched (no read response placed)");
	snprintf(what, sizeof(what), "after the READ of 0x%08x", len);
	pair_reconnect(what);
	healthy("after reconnecting");
}

/*
 * The same oversized READ at a PSN b has already executed (a SEND's): a
 * duplicate that matches no READ b ever executed.  Replaying it would be
 * streaming 2 GiB; at most one packet (a NAK) may answer it.
 */
static void dup_read_probe(uint32_t rkey, uint64_t va, uint32_t len)
{
	uint8_t ext[16];
	struct snap s0, s1;
	struct pk k;
	double end;
	long n;

	snap(&s0);
	pk_msg(&k, OP_RC_READ_REQ, R.b->qp_num, (R.psn_ab - 1) & PSN_MASK,
	       true, ext, reth(ext, va, rkey, len), NULL, 0);
	seal(&k, &me);
	inject(&me, &k);
	end = now() + wait_secs;
	do {
		msleep(20);
		snap(&s1);
	} while (now() < end && s1.v[C_DUP] == s0.v[C_DUP]);
	msleep(500);
	n = sent_since(&s0);
	snap(&s1);
	if (n > 1) {
		check(false, "the same READ (0x%08x bytes, ODP MR) at the PSN "
		      "of b's last SEND, a duplicate matching no READ: "
		      "duplicate_request %+ld, %ld packets sent (want at most "
		      "1)", len, s1.v[C_DUP] - s0.v[C_DUP], n);
		stop_stream(n);
		return;
	}
	check(s1.v[C_DUP] - s0.v[C_DUP] == 1 && n <= 1,
	      "the same READ (0x%08x bytes, ODP MR) at the PSN of b's last "
	      "SEND, a duplicate matching no READ: duplicate_request %+ld, "
	      "%ld packets sent (want +1 and at most 1: nothing streamed); "
	      "b in %s", len, s1.v[C_DUP] - s0.v[C_DUP], n,
	      state_str(qp_state(R.b)));
	if (qp_state(R.b) != IBV_QPS_RTS) {
		pair_reconnect("b not in RTS");
		healthy("after reconnecting");
	} else {
		healthy("after it");
	}
}

/*
 * A read-only ODP MR of 2 GiB + 1 MiB over anonymous memory that is never
 * written: READs of it fault in the shared zero page, nothing is pinned or
 * allocated, and a READ of more than 2^31 bytes passes its range check.
 */
#define BIG_LEN		(0x80000000ull + (1 << 20))

static void g_huge_read(void)
{
	struct ibv_mr *big;
	void *mem;

	read_probe(R.mr_b->rkey, (uintptr_t)R.buf_b + B_TARGET, 0x80000000u,
		   IBV_WC_REM_ACCESS_ERR, "of a 64 KiB MR",
		   "2^31 is a legal length; beyond this MR: NAK remote access "
		   "error");
	read_probe(R.mr_b->rkey, (uintptr_t)R.buf_b + B_TARGET, 0x80000001u,
		   IBV_WC_REM_INV_REQ_ERR, "of a 64 KiB MR",
		   "beyond IBA's 2^31 maximum message: NAK invalid request");
	mem = mmap(NULL, BIG_LEN, PROT_READ,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	big = mem == MAP_FAILED ? NULL :
	      ibv_reg_mr(R.pd, mem, BIG_LEN,
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_ON_DEMAND);
	if (!big) {
		skip("no read-only ODP MR of 2 GiB + 1 MiB (%s): the READs "
		     "that only range checks stop are not tried",
		     strerror(errno));
		if (mem != MAP_FAILED)
			munmap(mem, BIG_LEN);
		return;
	}
	read_probe(big->rkey, (uintptr_t)mem, 0x80000001u,
		   IBV_WC_REM_INV_REQ_ERR, "of a 2 GiB + 1 MiB read-only ODP MR",
		   "beyond IBA's 2^31 maximum message: NAK invalid request");
	dup_read_probe(big->rkey, (uintptr_t)mem, 0x80000001u);
	if (ibv_dereg_mr(big))
		die("ibv_dereg_mr: %s", strerror(errno));
	munmap(mem, BIG_LEN);
}

/*
 * From the second address: a response with syndrome @syn for the PSN of a
 * SEND of a's that was lost (so the response could complete it).
 */
static void spoof_resp(uint8_t syn, const char *name)
{
	uint8_t ext[4];
	char what[200];
	struct snap s0;
	struct pk k;
	uint64_t rid;
	uint32_t psn;
	bool v;

	rid = post_recv_b();
	fill_pat(R.buf_a + A_SEND, SEND_LEN, 10);
	v = victim(IBV_WR_SEND, OP_RC_SEND_ONLY, SEND_LEN, A_SEND);
	psn = R.psn_ab;
	snap(&s0);
	pk_msg(&k, OP_RC_ACK, R.a->qp_num, psn, false, ext,
	       aeth(ext, syn, 1), NULL, 0);
	seal(&k, &spoof);
	inject(&spoof, &k);
	snprintf(what, sizeof(what), "%s (syndrome 0x%02x) to a from %s for "
		 "PSN 0x%06x, ICRC right", name, syn, ipstr(spoof.addr),
		 psn);
	expect(&s0, what, (struct want[]){ { C_BAD_ADDR, 1 }, END });
	victim_resent(v, rid, psn, "after it");
}

static void g_spoof(void)
{
	char what[200];
	struct ibv_wc wc;
	struct snap s0;
	struct pk k;
	uint64_t rid;
	int n;

	if (!have_spoof) {
		skip("group 10 needs a second source address (-s)");
		return;
	}
	rid = post_recv_b();
	snap(&s0);
	pk_msg(&k, OP_RC_SEND_ONLY, R.b->qp_num, R.psn_ab, true, NULL, 0,
	       "SPOOFED-SEND-FROM-ANOTHER-ADDRESS", 33);
	seal(&k, &spoof);
	inject(&spoof, &k);
	snprintf(what, sizeof(what), "an RC SEND ONLY to b at its expected PSN "
		 "from %s (b's peer is %s), ICRC right: dropped, counted, not "
		 "ACKed", ipstr(spoof.addr), ipstr(me.addr));
	expect(&s0, what, (struct want[]){ { C_BAD_ADDR, 1 }, END });
	n = quiet(R.cq_b, &wc, 300);
	if (check(n == 0, "not delivered to b (%d completions%s%s%s)", n,
		  n ? ": " : "", n ? wc_str(&wc) : "",
		  n && wc.wr_id == rid && contains(recv_slot(rid), RECV_SLOT,
						   "SPOOFED") ?
		  ", the spoofed payload" : "") &&
	    state_is(R.b, IBV_QPS_RTS, "after it"))
		send_check("after it (in the receive posted before it)", rid);
	if (group_fail)
		pair_reconnect("after a failed check");
	spoof_resp(SYN_NAK_REM_ACCESS, "a forged NAK remote access error");
	if (group_fail)
		pair_reconnect("after a failed check");
	spoof_resp(SYN_ACK, "a forged ACK");
}

/* ------------------------------------------------------------------------ */
/* Group 11: the storm */

static uint32_t pick_rkey(void)
{
	switch (rnd() % 10) {
	case 0:
		return R.mr_a->rkey;
	case 1: case 2:
		return rnd();
	case 3: case 4:
		return R.mr_odp ? R.mr_odp->rkey : rnd();
	default:
		return R.mr_b->rkey;
	}
}

static uint64_t pick_va(uint32_t align)
{
	uint64_t t = (uintptr_t)R.buf_b + B_TARGET, v;

	switch (rnd() % 8) {
	case 0:
		return rnd64();
	case 1:
		v = (uintptr_t)R.buf_b + rnd() % (BUF_LEN + 64);
		break;
	case 2: case 3:
		if (R.mr_odp) {
			v = (uintptr_t)R.buf_odp + rnd() % (ODP_LEN + 64);
			break;
		}
		/* fall through */
	default:
		v = t + rnd() % B_TARGET_LEN;
		break;
	}
	return v & ~(uint64_t)(align - 1);
}

static uint32_t near_psn(void)
{
	if (rnd() % 16 == 0)
		return rnd() & PSN_MASK;
	return (R.psn_ab + rnd() % 24 - 6) & PSN_MASK;
}

/* A packet with a valid ICRC, headers as opcode @op has them, fields random. */
static void storm_pkt(struct pk *k, uint8_t op, uint32_t qpn)
{
	unsigned int h = op_hdrs(op), pad;
	uint8_t ext[64], pay[1400];
	size_t e = 0, plen = 0;

	if (h & H_PAY)
		plen = rnd() % 4 ? rnd() % 80 : rnd() % 1300;
	if (h & H_DETH)
		e += deth(ext + e, rnd() % 2 ? QKEY : rnd(), rnd() & PSN_MASK);
	if (h & H_RETH)
		e += reth(ext + e, pick_va(1), pick_rkey(),
			  rnd() % 2 ? (uint32_t)plen :
			  rnd() % 2 ? rnd() % 70000 : rnd());
	if (h & H_ATMETH)
		e += atmeth(ext + e, pick_va(rnd() % 4 ? 8 : 1), pick_rkey(),
			    rnd64(), rnd64());
	if (h & H_AETH) {
		static const uint8_t syn[] = {
			0x1f, 0x00, 0x20, 0x2c, 0x60, 0x61, 0x62, 0x63, 0x64,
			0x40, 0xff,
		};

		e += aeth(ext + e, rnd() % 3 ? syn[rnd() % sizeof(syn)] :
			  (uint8_t)rnd(), rnd() & PSN_MASK);
	}
	if (h & H_ATMACK) {
		put64(ext + e, rnd64());
		e += 8;
	}
	if (h & H_IMM) {
		put32(ext + e, rnd());
		e += 4;
	}
	if (h & H_IETH) {
		put32(ext + e, pick_rkey());
		e += 4;
	}
	if (!h) {
		/* Unknown opcode: random bytes where headers would be. */
		e = rnd() % 40;
		rnd_fill(ext, e);
		plen = rnd() % 64;
	}
	rnd_fill(pay, plen);
	pk_msg(k, op, qpn, near_psn(), rnd() % 2, ext, e, pay, plen);
	if (rnd() % 2)
		k->b[1] |= 0x80;		/* SE */
	if (rnd() % 32 == 0) {			/* PadCnt off */
		pad = rnd() % 4;
		k->b[1] = (k->b[1] & ~0x30) | pad << 4;
	}
	if (rnd() % 32 == 0)
		k->b[1] |= 1 + rnd() % 15;	/* TVer */
	if (rnd() % 32 == 0)
		put16(k->b + 2, rnd());		/* P_Key */
	if (rnd() % 16 == 0)
		k->b[4] = rnd();		/* byte 4 is masked anyway */
	seal(k, &me);
	if (rnd() % 16 == 0)			/* and some with a bit off */
		k->b[rnd() % k->len] ^= 1 << (rnd() % 8);
}

static const uint8_t req_ops[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x13, 0x14, 0x16, 0x17, 0x04, 0x04, 0x0a, 0x0c, 0x24, 0x2a, 0x64,
};

static const uint8_t resp_ops[] = { 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12 };

struct storm {
	int posted;		/* receives on b */
	int busy;		/* work requests on a */
	int resets, recvs, sends;
};

/*
 * Keep b's receive queue at NSLOTS and a READ and a SEND of a's in flight
 * (so forged responses find real WQEs); reconnect the pair if it broke.
 */
static void storm_upkeep(struct storm *st)
{
	struct ibv_wc wc[32];
	int n;

	/* b posts no sends: every completion there is one of its receives. */
	while ((n = ibv_poll_cq(R.cq_b, 32, wc)) > 0) {
		st->recvs += n;
		st->posted -= n;
	}
	while ((n = ibv_poll_cq(R.cq_a, 32, wc)) > 0) {
		st->sends += n;
		st->busy -= n;
	}
	if (qp_state(R.a) != IBV_QPS_RTS || qp_state(R.b) != IBV_QPS_RTS) {
		uint32_t p = rnd() & PSN_MASK;

		pair_connect(p, rnd() & PSN_MASK);
		st->resets++;
		st->posted = 0;
		st->busy = 0;
	}
	while (st->posted < NSLOTS) {
		post_recv_b();
		st->posted++;
	}
	while (st->busy < 2) {
		if (st->busy % 2)
			post_a(IBV_WR_SEND, 64, 0, 0, A_SEND);
		else
			post_a(IBV_WR_RDMA_READ, 256,
			       (uintptr_t)R.buf_b + B_TARGET, R.mr_b->rkey,
			       A_READ);
		st->busy++;
	}
}

static void g_storm(void)
{
	struct ibv_qp_attr err = { .qp_state = IBV_QPS_ERR };
	struct storm st = { 0 };
	struct snap s0, s1;
	long acc = 0, sent;
	int i, kinds[5] = { 0 };
	double t0 = now();
	uint8_t junk[1500];
	struct pk k;
	unsigned int kind, len;
	char msg[600];
	size_t o = 0;

	pair_reconnect("before the storm");
	/* Idle now (the pair was just reset); upkeep's traffic counts too. */
	snap_idle(&s0, wait_secs);
	storm_upkeep(&st);
	for (i = 0; i < storm_n; i++) {
		kind = rnd() % 8;
		if (kind <= 1) {
			len = rnd() % 1501;
			rnd_fill(junk, len);
			send_raw(&me, junk, len);
			kinds[0]++;
		} else if (kind == 2) {
			uint32_t q = rnd() % 3 ? R.b->qp_num :
				     rnd() % 2 ? R.a->qp_num : rnd() & PSN_MASK;

			storm_pkt(&k, (uint8_t)rnd(), q);
			inject(&me, &k);
			kinds[1]++;
		} else if (kind <= 5) {
			storm_pkt(&k, req_ops[rnd() % sizeof(req_ops)],
				  R.b->qp_num);
			inject(&me, &k);
			kinds[2]++;
		} else if (kind == 6) {
			storm_pkt(&k, resp_ops[rnd() % sizeof(resp_ops)],
				  R.a->qp_num);
			inject(&me, &k);
			kinds[3]++;
		} else {
			/* A good SEND to b at a PSN near the expected one. */
			uint8_t pay[64];

			rnd_fill(pay, sizeof(pay));
			pk_msg(&k, OP_RC_SEND_ONLY, R.b->qp_num, near_psn(),
			       rnd() % 2, NULL, 0, pay, rnd() % sizeof(pay));
			seal(&k, &me);
			inject(&me, &k);
			kinds[4]++;
		}
		if (i % 64 == 63)
			storm_upkeep(&st);
	}
	/*
	 * How the storm left the pair; then stop a's retransmissions (ERR)
	 * and wait for the device to go quiet (READ responses, NAKs).
	 */
	say("after the storm: a in %s, b in %s", state_str(qp_state(R.a)),
	    state_str(qp_state(R.b)));
	if (ibv_modify_qp(R.a, &err, IBV_QP_STATE) ||
	    ibv_modify_qp(R.b, &err, IBV_QP_STATE))
		die("modify QP to ERR: %s", strerror(errno));
	snap_idle(&s1, 3 * wait_secs);
	say("storm: %d datagrams in %.1f s (random bytes %d, random opcode %d, "
	    "requests to b %d, responses to a %d, SENDs near b's PSN %d); "
	    "pair reconnected %d times; %d completions on b, %d on a; seed "
	    "%#" PRIx64, storm_n, now() - t0, kinds[0], kinds[1], kinds[2],
	    kinds[3], kinds[4], st.resets, st.recvs, st.sends, seed);
	msg[0] = 0;
	for (i = 0; i < NCNT; i++) {
		if (s0.v[i] < 0 || s1.v[i] < 0)
			continue;
		if (i < C_NRX)
			acc += s1.v[i] - s0.v[i];
		if (s1.v[i] != s0.v[i] && o < sizeof(msg) - 60)
			o += snprintf(msg + o, sizeof(msg) - o, "%s%s %+ld",
				      o ? ", " : "", cnt_name[i],
				      s1.v[i] - s0.v[i]);
	}
	say("storm counters: %s", msg);
	sent = s1.v[C_SENT] - s0.v[C_SENT];
	check(acc == storm_n + sent, "every datagram counted exactly once by "
	      "the receive path: the receive counters grew by %ld = %d "
	      "injected + %ld the device sent itself (%+ld)", acc, storm_n,
	      sent, acc - storm_n - sent);
	/*
	 * b's expected PSN is unknown now (the storm's SENDs moved it) and
	 * its receive queue holds storm receives: connect again either way.
	 */
	pair_reconnect("after the storm");
	state_is(R.a, IBV_QPS_RTS, "after the storm");
	state_is(R.b, IBV_QPS_RTS, "after the storm");
	healthy("after the storm");
	healthy("after the storm, again");
}

/* ------------------------------------------------------------------------ */

static const struct {
	const char *title;
	void (*run)(void);
} groups[] = {
	[1] = { "unknown and reserved opcodes", g_opcodes },
	[2] = { "too short for the opcode's headers, pad and ICRC", g_short },
	[3] = { "pad count beyond the payload, TVer not 0", g_pad_tver },
	[4] = { "bad ICRC", g_icrc },
	[5] = { "destination QPs that do not exist", g_no_qp },
	[6] = { "opcode class or QP state wrong for the QP; bad keys",
		g_class },
	[7] = { "RC SEND far ahead of and behind the expected PSN; responses "
		"for PSNs never sent", g_psn },
	[8] = { "RC RDMA WRITE with an R_Key that does not exist", g_bad_rkey },
	[9] = { "RC RDMA READ longer than 2^31 bytes", g_huge_read },
	[10] = { "RC packets from another source address", g_spoof },
	[11] = { "a storm of malformed packets", g_storm },
};

#define NGROUPS	11

static void usage(void)
{
	int g;

	fprintf(stderr, "usage: rocev2-inject -d DEV -a ADDR [-s SPOOF_ADDR] "
		"[-t WAIT_SECS] [-n STORM_PKTS] [-S SEED] [-k] all|GROUP...\n"
		"groups:\n");
	for (g = 1; g <= NGROUPS; g++)
		fprintf(stderr, "  %2d  %s\n", g, groups[g].title);
	exit(2);
}

int main(int argc, char **argv)
{
	bool run[NGROUPS + 1] = { false };
	int c, g;

	seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ getpid();
	while ((c = getopt(argc, argv, "d:a:s:t:n:S:kh")) != -1) {
		switch (c) {
		case 'd':
			dev_name = optarg;
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &my_addr) != 1)
				usage();
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &spoof_addr) != 1)
				usage();
			have_spoof = true;
			break;
		case 't':
			wait_secs = atoi(optarg);
			break;
		case 'n':
			storm_n = atoi(optarg);
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			lenient = true;
			break;
		default:
			usage();
		}
	}
	if (!dev_name || !my_addr.s_addr || optind >= argc || wait_secs < 1)
		usage();
	for (; optind < argc; optind++) {
		if (!strcmp(argv[optind], "all")) {
			for (g = 1; g <= NGROUPS; g++)
				run[g] = true;
			continue;
		}
		g = atoi(argv[optind]);
		if (g < 1 || g > NGROUPS)
			usage();
		run[g] = true;
	}
	if (!seed)
		seed = 1;
	say("rocev2-inject: seed %#" PRIx64, seed);

	crc_init();
	icrc_selfcheck();
	src_open(&me, my_addr);
	if (have_spoof)
		src_open(&spoof, spoof_addr);
	knob = !access(RXE_DBG "/xmit_drop_opcode", W_OK) && dropped() >= 0;
	setup();
	preflight();
	if (failures)
		die("preflight failed");

	for (g = 1; g <= NGROUPS; g++) {
		if (!run[g])
			continue;
		say("== group %d: %s", g, groups[g].title);
		group_fail = 0;
		if (drain(R.cq_a) + drain(R.cq_b))
			say("note: stray completions drained");
		groups[g].run();
		knob_off();
		/* Lenient (stock): no reset/reconnect, see -k above. */
		if (!lenient && (group_fail || qp_state(R.a) != IBV_QPS_RTS ||
				 qp_state(R.b) != IBV_QPS_RTS))
			pair_reconnect("for the next group");
		if (group_fail)
			say("group %d: FAIL (%d)", g, group_fail);
		else
			say("group %d: PASS", g);
	}
	knob_off();
	if (failures)
		printf("rocev2-inject: FAIL (%d)\n", failures);
	else
		printf("rocev2-inject: PASS\n");
	return failures ? 1 : 0;
}
