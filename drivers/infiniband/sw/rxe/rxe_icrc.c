// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: the RoCEv2 invariant CRC.
 *
 * The ICRC is the standard reflected CRC-32 (polynomial 0xedb88320,
 * register preset to ~0, result inverted) over
 *
 *	8 bytes of 0xff	(standing for the masked LRH of native IB)
 *	IP header	IPv4: TOS, TTL and checksum set to all ones;
 *			IPv6: traffic class, flow label, hop limit all ones
 *	UDP header	checksum set to all ones
 *	BTH		byte 4 (ECN bits, reserved) set to all ones
 *	the rest	extension headers, payload and pad, as sent
 *
 * and goes on the wire least-significant byte first.  The variant fields
 * are masked in a copy of the headers on the stack; the packet is only
 * read.  crc32_le() works on the raw register (no preset, no final
 * inversion), so the eight 0xff bytes are folded into RXE_ICRC_SEED.
 *
 * An IPv4 header is taken to be 20 bytes: RoCEv2 senders do not use IP
 * options, and stock rxe makes the same assumption on receive.
 */
#include "rxe_wire.h"

/* IPv4: the bytes of TOS, TTL and header checksum. */
#define IPV4_TOS	1
#define IPV4_TTL	8
#define IPV4_CSUM	10

/* IPv6: version/class/flow label in bytes 0-3, hop limit in byte 7. */
#define IPV6_HOP_LIMIT	7

/* UDP: checksum. */
#define UDP_CSUM	6

/**
 * rxe_icrc_headers() - start an ICRC: the masked headers and the BTH
 * @ip_hdr: the IPv4 (20 bytes) or IPv6 (40 bytes) header as sent.
 * @ipv6: which of the two @ip_hdr is.
 * @udp_hdr: the 8-byte UDP header as sent.
 * @bth: the 12-byte BTH as sent.
 *
 * None of the headers is modified.  Continue with rxe_icrc_update() over
 * the bytes after the BTH up to the ICRC, then rxe_icrc_final().
 *
 * Return: the raw CRC register after the BTH.
 */
u32 rxe_icrc_headers(const void *ip_hdr, bool ipv6, const void *udp_hdr,
		     const void *bth)
{
	u8 buf[RXE_IPV6_HDR_BYTES + RXE_UDP_HDR_BYTES + RXE_BTH_BYTES];
	unsigned int iplen;
	u8 *udp, *b;

	if (ipv6) {
		iplen = RXE_IPV6_HDR_BYTES;
		memcpy(buf, ip_hdr, iplen);
		buf[0] |= 0x0f;
		buf[1] = 0xff;
		buf[2] = 0xff;
		buf[3] = 0xff;
		buf[IPV6_HOP_LIMIT] = 0xff;
	} else {
		iplen = RXE_IPV4_HDR_BYTES;
		memcpy(buf, ip_hdr, iplen);
		buf[IPV4_TOS] = 0xff;
		buf[IPV4_TTL] = 0xff;
		buf[IPV4_CSUM] = 0xff;
		buf[IPV4_CSUM + 1] = 0xff;
	}

	udp = buf + iplen;
	memcpy(udp, udp_hdr, RXE_UDP_HDR_BYTES);
	udp[UDP_CSUM] = 0xff;
	udp[UDP_CSUM + 1] = 0xff;

	b = udp + RXE_UDP_HDR_BYTES;
	memcpy(b, bth, RXE_BTH_BYTES);
	b[RXE_BTH_RESV8A] = 0xff;

	return crc32_le(RXE_ICRC_SEED, buf,
			iplen + RXE_UDP_HDR_BYTES + RXE_BTH_BYTES);
}

/**
 * rxe_icrc_compute() - the ICRC of a packet
 * @ip_hdr: the IPv4 (20 bytes) or IPv6 (40 bytes) header as sent.
 * @ipv6: which of the two @ip_hdr is.
 * @udp_hdr: the 8-byte UDP header as sent.
 * @bth: the UDP payload, BTH first.
 * @len: bytes of it covered by the ICRC: BTH, extension headers, payload
 *	and pad; at least RXE_BTH_BYTES.
 *
 * Return: the ICRC; put it on the wire with rxe_icrc_put().  0 if @len is
 * too short to hold a BTH.
 */
u32 rxe_icrc_compute(const void *ip_hdr, bool ipv6, const void *udp_hdr,
		     const void *bth, size_t len)
{
	u32 reg;

	if (len < RXE_BTH_BYTES)
		return 0;
	reg = rxe_icrc_headers(ip_hdr, ipv6, udp_hdr, bth);
	reg = rxe_icrc_update(reg, (const u8 *)bth + RXE_BTH_BYTES,
			      len - RXE_BTH_BYTES);
	return rxe_icrc_final(reg);
}

/**
 * rxe_icrc_check() - verify the ICRC of a received packet
 * @ip_hdr: the IPv4 (20 bytes) or IPv6 (40 bytes) header as received.
 * @ipv6: which of the two @ip_hdr is.
 * @udp_hdr: the 8-byte UDP header as received.
 * @bth: the UDP payload, BTH first.
 * @len: its length, the ICRC in the last four bytes included.
 *
 * Return: true if the packet is long enough to hold a BTH and an ICRC and
 * the ICRC matches.
 */
bool rxe_icrc_check(const void *ip_hdr, bool ipv6, const void *udp_hdr,
		    const void *bth, size_t len)
{
	size_t covered;

	if (len < RXE_BTH_BYTES + RXE_ICRC_BYTES)
		return false;
	covered = len - RXE_ICRC_BYTES;
	return rxe_icrc_compute(ip_hdr, ipv6, udp_hdr, bth, covered) ==
	       rxe_icrc_get((const u8 *)bth + covered);
}
