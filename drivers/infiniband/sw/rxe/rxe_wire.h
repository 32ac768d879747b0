/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe-odp: the RoCEv2 wire format.
 *
 * Facts of the wire only (see ROCEV2_WIRE.md), no driver objects.  Every
 * header is read and written in place through accessors that take a
 * pointer to the header's first byte.  Multi-byte fields are big-endian
 * and nothing is assumed about alignment: the 64-bit fields of an
 * AtomicETH sit at offsets 12 and 20, and a header may start at any byte
 * of a packet buffer.
 *
 * The UDP payload of a RoCEv2 packet is laid out as
 *
 *	BTH | extension headers | payload | pad (0-3 zero bytes) | ICRC
 *
 * and the extension headers present, and their order, are a function of
 * the opcode alone (rxe_opcode_table in rxe_opcode.c).
 *
 * This header, rxe_opcode.c and rxe_icrc.c also build in user space for
 * the unit tests in tests/unit/, where kshim.h stands in for the kernel.
 */
#ifndef RXE_ODP_WIRE_H
#define RXE_ODP_WIRE_H

#ifdef __KERNEL__
#include <asm/unaligned.h>
#include <linux/bits.h>
#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include "kshim.h"
#endif

/* Sizes in bytes. */
#define RXE_IPV4_HDR_BYTES	20
#define RXE_IPV6_HDR_BYTES	40
#define RXE_UDP_HDR_BYTES	8
#define RXE_BTH_BYTES		12
#define RXE_RETH_BYTES		16
#define RXE_AETH_BYTES		4
#define RXE_ATMETH_BYTES	28
#define RXE_ATMACK_BYTES	8
#define RXE_DETH_BYTES		8
#define RXE_IMMDT_BYTES		4
#define RXE_IETH_BYTES		4
#define RXE_ICRC_BYTES		4

/* 24-bit quantities: PSN, QPN, MSN. */
#define RXE_PSN_MASK		0xffffffu
#define RXE_QPN_MASK		0xffffffu
#define RXE_MSN_MASK		0xffffffu

/* BTH DestQP of a multicast packet. */
#define RXE_MCAST_QPN		0xffffffu

/* Q_Key of every packet to or from QP1 (GSI). */
#define RXE_GSI_QKEY		0x80010000u

/* ---------------------------------------------------------------------- */
/* Opcodes */

/* Bits 7:5 of the opcode select the transport class. */
#define RXE_OP_CLASS_MASK	0xe0
#define RXE_OP_CLASS_RC		0x00
#define RXE_OP_CLASS_UC		0x20
#define RXE_OP_CLASS_RD		0x40	/* not supported */
#define RXE_OP_CLASS_UD		0x60
#define RXE_OP_CLASS_CNP	0x80	/* congestion notification */
#define RXE_OP_KIND_MASK	0x1f

#define RXE_NUM_OPCODES		256

/* Bits 4:0 of the opcode: the operation, common to all classes. */
enum rxe_op_kind {
	RXE_OPK_SEND_FIRST		= 0x00,
	RXE_OPK_SEND_MIDDLE		= 0x01,
	RXE_OPK_SEND_LAST		= 0x02,
	RXE_OPK_SEND_LAST_IMM		= 0x03,
	RXE_OPK_SEND_ONLY		= 0x04,
	RXE_OPK_SEND_ONLY_IMM		= 0x05,
	RXE_OPK_WRITE_FIRST		= 0x06,
	RXE_OPK_WRITE_MIDDLE		= 0x07,
	RXE_OPK_WRITE_LAST		= 0x08,
	RXE_OPK_WRITE_LAST_IMM		= 0x09,
	RXE_OPK_WRITE_ONLY		= 0x0a,
	RXE_OPK_WRITE_ONLY_IMM		= 0x0b,
	RXE_OPK_READ_REQ		= 0x0c,
	RXE_OPK_READ_RESP_FIRST		= 0x0d,
	RXE_OPK_READ_RESP_MIDDLE	= 0x0e,
	RXE_OPK_READ_RESP_LAST		= 0x0f,
	RXE_OPK_READ_RESP_ONLY		= 0x10,
	RXE_OPK_ACK			= 0x11,
	RXE_OPK_ATOMIC_ACK		= 0x12,
	RXE_OPK_CMP_SWAP		= 0x13,
	RXE_OPK_FETCH_ADD		= 0x14,
	RXE_OPK_SEND_LAST_INV		= 0x16,
	RXE_OPK_SEND_ONLY_INV		= 0x17,
	RXE_OPK_NONE			= 0xff,	/* no such packet */
};

/* Complete opcodes, as they appear in BTH byte 0. */
enum rxe_opcode {
	RXE_OP_RC_SEND_FIRST		= RXE_OP_CLASS_RC | RXE_OPK_SEND_FIRST,
	RXE_OP_RC_SEND_MIDDLE		= RXE_OP_CLASS_RC | RXE_OPK_SEND_MIDDLE,
	RXE_OP_RC_SEND_LAST		= RXE_OP_CLASS_RC | RXE_OPK_SEND_LAST,
	RXE_OP_RC_SEND_LAST_IMM		= RXE_OP_CLASS_RC | RXE_OPK_SEND_LAST_IMM,
	RXE_OP_RC_SEND_ONLY		= RXE_OP_CLASS_RC | RXE_OPK_SEND_ONLY,
	RXE_OP_RC_SEND_ONLY_IMM		= RXE_OP_CLASS_RC | RXE_OPK_SEND_ONLY_IMM,
	RXE_OP_RC_WRITE_FIRST		= RXE_OP_CLASS_RC | RXE_OPK_WRITE_FIRST,
	RXE_OP_RC_WRITE_MIDDLE		= RXE_OP_CLASS_RC | RXE_OPK_WRITE_MIDDLE,
	RXE_OP_RC_WRITE_LAST		= RXE_OP_CLASS_RC | RXE_OPK_WRITE_LAST,
	RXE_OP_RC_WRITE_LAST_IMM	= RXE_OP_CLASS_RC | RXE_OPK_WRITE_LAST_IMM,
	RXE_OP_RC_WRITE_ONLY		= RXE_OP_CLASS_RC | RXE_OPK_WRITE_ONLY,
	RXE_OP_RC_WRITE_ONLY_IMM	= RXE_OP_CLASS_RC | RXE_OPK_WRITE_ONLY_IMM,
	RXE_OP_RC_READ_REQ		= RXE_OP_CLASS_RC | RXE_OPK_READ_REQ,
	RXE_OP_RC_READ_RESP_FIRST	= RXE_OP_CLASS_RC | RXE_OPK_READ_RESP_FIRST,
	RXE_OP_RC_READ_RESP_MIDDLE	= RXE_OP_CLASS_RC | RXE_OPK_READ_RESP_MIDDLE,
	RXE_OP_RC_READ_RESP_LAST	= RXE_OP_CLASS_RC | RXE_OPK_READ_RESP_LAST,
	RXE_OP_RC_READ_RESP_ONLY	= RXE_OP_CLASS_RC | RXE_OPK_READ_RESP_ONLY,
	RXE_OP_RC_ACK			= RXE_OP_CLASS_RC | RXE_OPK_ACK,
	RXE_OP_RC_ATOMIC_ACK		= RXE_OP_CLASS_RC | RXE_OPK_ATOMIC_ACK,
	RXE_OP_RC_CMP_SWAP		= RXE_OP_CLASS_RC | RXE_OPK_CMP_SWAP,
	RXE_OP_RC_FETCH_ADD		= RXE_OP_CLASS_RC | RXE_OPK_FETCH_ADD,
	RXE_OP_RC_SEND_LAST_INV		= RXE_OP_CLASS_RC | RXE_OPK_SEND_LAST_INV,
	RXE_OP_RC_SEND_ONLY_INV		= RXE_OP_CLASS_RC | RXE_OPK_SEND_ONLY_INV,

	RXE_OP_UC_SEND_FIRST		= RXE_OP_CLASS_UC | RXE_OPK_SEND_FIRST,
	RXE_OP_UC_SEND_MIDDLE		= RXE_OP_CLASS_UC | RXE_OPK_SEND_MIDDLE,
	RXE_OP_UC_SEND_LAST		= RXE_OP_CLASS_UC | RXE_OPK_SEND_LAST,
	RXE_OP_UC_SEND_LAST_IMM		= RXE_OP_CLASS_UC | RXE_OPK_SEND_LAST_IMM,
	RXE_OP_UC_SEND_ONLY		= RXE_OP_CLASS_UC | RXE_OPK_SEND_ONLY,
	RXE_OP_UC_SEND_ONLY_IMM		= RXE_OP_CLASS_UC | RXE_OPK_SEND_ONLY_IMM,
	RXE_OP_UC_WRITE_FIRST		= RXE_OP_CLASS_UC | RXE_OPK_WRITE_FIRST,
	RXE_OP_UC_WRITE_MIDDLE		= RXE_OP_CLASS_UC | RXE_OPK_WRITE_MIDDLE,
	RXE_OP_UC_WRITE_LAST		= RXE_OP_CLASS_UC | RXE_OPK_WRITE_LAST,
	RXE_OP_UC_WRITE_LAST_IMM	= RXE_OP_CLASS_UC | RXE_OPK_WRITE_LAST_IMM,
	RXE_OP_UC_WRITE_ONLY		= RXE_OP_CLASS_UC | RXE_OPK_WRITE_ONLY,
	RXE_OP_UC_WRITE_ONLY_IMM	= RXE_OP_CLASS_UC | RXE_OPK_WRITE_ONLY_IMM,

	RXE_OP_UD_SEND_ONLY		= RXE_OP_CLASS_UD | RXE_OPK_SEND_ONLY,
	RXE_OP_UD_SEND_ONLY_IMM		= RXE_OP_CLASS_UD | RXE_OPK_SEND_ONLY_IMM,

	/* Known but never accepted: stock rxe drops CNPs. */
	RXE_OP_CNP			= RXE_OP_CLASS_CNP | 0x01,
};

/* ---------------------------------------------------------------------- */
/* Byte-order helpers for 24-bit fields */

static inline u32 rxe_get_be24(const u8 *p)
{
	return (u32)p[0] << 16 | (u32)p[1] << 8 | p[2];
}

static inline void rxe_put_be24(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 16);
	p[1] = (u8)(v >> 8);
	p[2] = (u8)v;
}

/* ---------------------------------------------------------------------- */
/* BTH: base transport header, 12 bytes, first in every packet */

#define RXE_BTH_OPCODE		0	/* u8 */
#define RXE_BTH_FLAGS		1	/* SE, M, PadCnt, TVer */
#define RXE_BTH_PKEY		2	/* be16 */
#define RXE_BTH_RESV8A		4	/* F/B ECN + reserved; masked in ICRC */
#define RXE_BTH_QPN		5	/* be24 DestQP */
#define RXE_BTH_ACK		8	/* AckReq + 7 reserved bits */
#define RXE_BTH_PSN		9	/* be24 */

#define RXE_BTH_SE_BIT		0x80
#define RXE_BTH_MIG_BIT		0x40
#define RXE_BTH_PAD_MASK	0x30
#define RXE_BTH_PAD_SHIFT	4
#define RXE_BTH_TVER_MASK	0x0f
#define RXE_BTH_ACKREQ_BIT	0x80

static inline u8 rxe_bth_opcode(const u8 *bth)
{
	return bth[RXE_BTH_OPCODE];
}

static inline void rxe_bth_set_opcode(u8 *bth, u8 opcode)
{
	bth[RXE_BTH_OPCODE] = opcode;
}

static inline bool rxe_bth_se(const u8 *bth)
{
	return bth[RXE_BTH_FLAGS] & RXE_BTH_SE_BIT;
}

static inline void rxe_bth_set_se(u8 *bth, bool se)
{
	if (se)
		bth[RXE_BTH_FLAGS] |= RXE_BTH_SE_BIT;
	else
		bth[RXE_BTH_FLAGS] &= (u8)~RXE_BTH_SE_BIT;
}

static inline bool rxe_bth_mig(const u8 *bth)
{
	return bth[RXE_BTH_FLAGS] & RXE_BTH_MIG_BIT;
}

static inline void rxe_bth_set_mig(u8 *bth, bool mig)
{
	if (mig)
		bth[RXE_BTH_FLAGS] |= RXE_BTH_MIG_BIT;
	else
		bth[RXE_BTH_FLAGS] &= (u8)~RXE_BTH_MIG_BIT;
}

/* PadCnt: bytes (0-3) of padding between payload and ICRC. */
static inline u8 rxe_bth_pad(const u8 *bth)
{
	return (bth[RXE_BTH_FLAGS] & RXE_BTH_PAD_MASK) >> RXE_BTH_PAD_SHIFT;
}

static inline void rxe_bth_set_pad(u8 *bth, u8 pad)
{
	bth[RXE_BTH_FLAGS] = (bth[RXE_BTH_FLAGS] & (u8)~RXE_BTH_PAD_MASK) |
			     ((pad << RXE_BTH_PAD_SHIFT) & RXE_BTH_PAD_MASK);
}

/* Transport header version; receivers drop anything but 0. */
static inline u8 rxe_bth_tver(const u8 *bth)
{
	return bth[RXE_BTH_FLAGS] & RXE_BTH_TVER_MASK;
}

static inline void rxe_bth_set_tver(u8 *bth, u8 tver)
{
	bth[RXE_BTH_FLAGS] = (bth[RXE_BTH_FLAGS] & (u8)~RXE_BTH_TVER_MASK) |
			     (tver & RXE_BTH_TVER_MASK);
}

static inline u16 rxe_bth_pkey(const u8 *bth)
{
	return get_unaligned_be16(bth + RXE_BTH_PKEY);
}

static inline void rxe_bth_set_pkey(u8 *bth, u16 pkey)
{
	put_unaligned_be16(pkey, bth + RXE_BTH_PKEY);
}

/* Byte 4 as a whole (ECN bits and reserved); sent as 0. */
static inline u8 rxe_bth_resv8a(const u8 *bth)
{
	return bth[RXE_BTH_RESV8A];
}

static inline void rxe_bth_set_resv8a(u8 *bth, u8 v)
{
	bth[RXE_BTH_RESV8A] = v;
}

static inline u32 rxe_bth_qpn(const u8 *bth)
{
	return rxe_get_be24(bth + RXE_BTH_QPN);
}

static inline void rxe_bth_set_qpn(u8 *bth, u32 qpn)
{
	rxe_put_be24(bth + RXE_BTH_QPN, qpn);
}

static inline bool rxe_bth_ackreq(const u8 *bth)
{
	return bth[RXE_BTH_ACK] & RXE_BTH_ACKREQ_BIT;
}

static inline void rxe_bth_set_ackreq(u8 *bth, bool ackreq)
{
	if (ackreq)
		bth[RXE_BTH_ACK] |= RXE_BTH_ACKREQ_BIT;
	else
		bth[RXE_BTH_ACK] &= (u8)~RXE_BTH_ACKREQ_BIT;
}

static inline u32 rxe_bth_psn(const u8 *bth)
{
	return rxe_get_be24(bth + RXE_BTH_PSN);
}

static inline void rxe_bth_set_psn(u8 *bth, u32 psn)
{
	rxe_put_be24(bth + RXE_BTH_PSN, psn);
}

/*
 * Write a whole BTH: M, TVer, byte 4 and the reserved bits of byte 8 are
 * zero, as stock rxe sends them.  24-bit values are truncated.
 */
static inline void rxe_bth_init(u8 *bth, u8 opcode, bool se, u8 pad,
				u16 pkey, u32 qpn, bool ackreq, u32 psn)
{
	bth[RXE_BTH_OPCODE] = opcode;
	bth[RXE_BTH_FLAGS] = (se ? RXE_BTH_SE_BIT : 0) |
			     ((pad << RXE_BTH_PAD_SHIFT) & RXE_BTH_PAD_MASK);
	put_unaligned_be16(pkey, bth + RXE_BTH_PKEY);
	bth[RXE_BTH_RESV8A] = 0;
	rxe_put_be24(bth + RXE_BTH_QPN, qpn);
	bth[RXE_BTH_ACK] = ackreq ? RXE_BTH_ACKREQ_BIT : 0;
	rxe_put_be24(bth + RXE_BTH_PSN, psn);
}

/* ---------------------------------------------------------------------- */
/* RETH: RDMA extended header, 16 bytes */

#define RXE_RETH_VA		0	/* be64 */
#define RXE_RETH_RKEY		8	/* be32 */
#define RXE_RETH_LEN		12	/* be32 DMA length */

static inline u64 rxe_reth_va(const u8 *reth)
{
	return get_unaligned_be64(reth + RXE_RETH_VA);
}

static inline void rxe_reth_set_va(u8 *reth, u64 va)
{
	put_unaligned_be64(va, reth + RXE_RETH_VA);
}

static inline u32 rxe_reth_rkey(const u8 *reth)
{
	return get_unaligned_be32(reth + RXE_RETH_RKEY);
}

static inline void rxe_reth_set_rkey(u8 *reth, u32 rkey)
{
	put_unaligned_be32(rkey, reth + RXE_RETH_RKEY);
}

static inline u32 rxe_reth_len(const u8 *reth)
{
	return get_unaligned_be32(reth + RXE_RETH_LEN);
}

static inline void rxe_reth_set_len(u8 *reth, u32 len)
{
	put_unaligned_be32(len, reth + RXE_RETH_LEN);
}

/* ---------------------------------------------------------------------- */
/* AETH: ACK extended header, 4 bytes: syndrome, then the 24-bit MSN */

#define RXE_AETH_SYN		0	/* u8 */
#define RXE_AETH_MSN		1	/* be24 */

/* Syndrome bits 7:5 are the type, bits 4:0 its value. */
#define RXE_AETH_TYPE_MASK	0xe0
#define RXE_AETH_VALUE_MASK	0x1f
#define RXE_AETH_TYPE_ACK	0x00	/* value: credit count */
#define RXE_AETH_TYPE_RNR_NAK	0x20	/* value: RNR timer code */
#define RXE_AETH_TYPE_NAK	0x60	/* value: NAK code */

/* The ACK stock rxe sends: credit field 0x1f (no credit accounting). */
#define RXE_AETH_ACK		0x1f

#define RXE_AETH_NAK_PSN_SEQ	0x60	/* PSN sequence error */
#define RXE_AETH_NAK_INV_REQ	0x61	/* invalid request */
#define RXE_AETH_NAK_REM_ACCESS	0x62	/* remote access error */
#define RXE_AETH_NAK_REM_OP	0x63	/* remote operational error */
#define RXE_AETH_NAK_INV_RD_REQ	0x64	/* invalid RD request */

/* The syndrome of an RNR NAK carrying RNR timer @code (0-31). */
static inline u8 rxe_aeth_rnr_nak(u8 code)
{
	return RXE_AETH_TYPE_RNR_NAK | (code & RXE_AETH_VALUE_MASK);
}

static inline u8 rxe_aeth_syn_type(u8 syn)
{
	return syn & RXE_AETH_TYPE_MASK;
}

static inline u8 rxe_aeth_syn_value(u8 syn)
{
	return syn & RXE_AETH_VALUE_MASK;
}

static inline u8 rxe_aeth_syn(const u8 *aeth)
{
	return aeth[RXE_AETH_SYN];
}

static inline void rxe_aeth_set_syn(u8 *aeth, u8 syn)
{
	aeth[RXE_AETH_SYN] = syn;
}

static inline u32 rxe_aeth_msn(const u8 *aeth)
{
	return rxe_get_be24(aeth + RXE_AETH_MSN);
}

static inline void rxe_aeth_set_msn(u8 *aeth, u32 msn)
{
	rxe_put_be24(aeth + RXE_AETH_MSN, msn);
}

/* ---------------------------------------------------------------------- */
/* AtomicETH: atomic extended header, 28 bytes, packed */

#define RXE_ATMETH_VA		0	/* be64 */
#define RXE_ATMETH_RKEY		8	/* be32 */
#define RXE_ATMETH_SWAP_ADD	12	/* be64, unaligned */
#define RXE_ATMETH_COMPARE	20	/* be64, unaligned */

static inline u64 rxe_atmeth_va(const u8 *atmeth)
{
	return get_unaligned_be64(atmeth + RXE_ATMETH_VA);
}

static inline void rxe_atmeth_set_va(u8 *atmeth, u64 va)
{
	put_unaligned_be64(va, atmeth + RXE_ATMETH_VA);
}

static inline u32 rxe_atmeth_rkey(const u8 *atmeth)
{
	return get_unaligned_be32(atmeth + RXE_ATMETH_RKEY);
}

static inline void rxe_atmeth_set_rkey(u8 *atmeth, u32 rkey)
{
	put_unaligned_be32(rkey, atmeth + RXE_ATMETH_RKEY);
}

static inline u64 rxe_atmeth_swap_add(const u8 *atmeth)
{
	return get_unaligned_be64(atmeth + RXE_ATMETH_SWAP_ADD);
}

static inline void rxe_atmeth_set_swap_add(u8 *atmeth, u64 v)
{
	put_unaligned_be64(v, atmeth + RXE_ATMETH_SWAP_ADD);
}

static inline u64 rxe_atmeth_compare(const u8 *atmeth)
{
	return get_unaligned_be64(atmeth + RXE_ATMETH_COMPARE);
}

static inline void rxe_atmeth_set_compare(u8 *atmeth, u64 v)
{
	put_unaligned_be64(v, atmeth + RXE_ATMETH_COMPARE);
}

/* ---------------------------------------------------------------------- */
/* AtomicAckETH: 8 bytes, the original remote data */

#define RXE_ATMACK_ORIG		0	/* be64 */

static inline u64 rxe_atmack_orig(const u8 *atmack)
{
	return get_unaligned_be64(atmack + RXE_ATMACK_ORIG);
}

static inline void rxe_atmack_set_orig(u8 *atmack, u64 orig)
{
	put_unaligned_be64(orig, atmack + RXE_ATMACK_ORIG);
}

/* ---------------------------------------------------------------------- */
/* DETH: datagram extended header, 8 bytes: Q_Key, reserved byte, SrcQP */

#define RXE_DETH_QKEY		0	/* be32 */
#define RXE_DETH_RESV		4	/* u8, sent as 0 */
#define RXE_DETH_SQP		5	/* be24 source QP */

static inline u32 rxe_deth_qkey(const u8 *deth)
{
	return get_unaligned_be32(deth + RXE_DETH_QKEY);
}

static inline void rxe_deth_set_qkey(u8 *deth, u32 qkey)
{
	put_unaligned_be32(qkey, deth + RXE_DETH_QKEY);
}

static inline u32 rxe_deth_sqp(const u8 *deth)
{
	return rxe_get_be24(deth + RXE_DETH_SQP);
}

/* Also clears the reserved byte. */
static inline void rxe_deth_set_sqp(u8 *deth, u32 sqp)
{
	deth[RXE_DETH_RESV] = 0;
	rxe_put_be24(deth + RXE_DETH_SQP, sqp);
}

/* ---------------------------------------------------------------------- */
/* ImmDt: 4 opaque bytes, kept in wire order end to end */

static inline __be32 rxe_immdt_imm(const u8 *immdt)
{
	return get_unaligned((const __be32 *)immdt);
}

static inline void rxe_immdt_set_imm(u8 *immdt, __be32 imm)
{
	put_unaligned(imm, (__be32 *)immdt);
}

/* ---------------------------------------------------------------------- */
/* IETH: the R_Key to invalidate; big-endian on the wire, host order in WRs */

static inline u32 rxe_ieth_rkey(const u8 *ieth)
{
	return get_unaligned_be32(ieth);
}

static inline void rxe_ieth_set_rkey(u8 *ieth, u32 rkey)
{
	put_unaligned_be32(rkey, ieth);
}

/* ---------------------------------------------------------------------- */
/* PSN arithmetic (24 bits, modulo 2^24) */

static inline u32 rxe_psn_add(u32 psn, u32 n)
{
	return (psn + n) & RXE_PSN_MASK;
}

static inline u32 rxe_psn_next(u32 psn)
{
	return rxe_psn_add(psn, 1);
}

/*
 * PSNs a message of @len bytes takes at path MTU @mtu: one per packet, and
 * one for an empty message.  For a READ, the number of responses.
 */
static inline u32 rxe_msg_npsn(u32 len, u32 mtu)
{
	return len ? (len - 1) / mtu + 1 : 1;
}

/*
 * Order two PSNs: the 32-bit difference shifted left by 8 and read as
 * signed.  Positive if @a is after @b, negative if before, 0 if equal;
 * meaningful while they are less than 2^23 apart.
 */
static inline s32 rxe_psn_cmp(u32 a, u32 b)
{
	return (s32)((a - b) << 8);
}

/* Signed distance a - b, in [-2^23, 2^23). */
static inline s32 rxe_psn_diff(u32 a, u32 b)
{
	return rxe_psn_cmp(a, b) >> 8;
}

static inline bool rxe_psn_before(u32 a, u32 b)
{
	return rxe_psn_cmp(a, b) < 0;
}

static inline bool rxe_psn_after(u32 a, u32 b)
{
	return rxe_psn_cmp(a, b) > 0;
}

/* Is @psn one of the @n PSNs starting at @first (wrapping at 2^24)? */
static inline bool rxe_psn_in_window(u32 psn, u32 first, u32 n)
{
	return ((psn - first) & RXE_PSN_MASK) < n;
}

/* ---------------------------------------------------------------------- */
/* Padding, timers */

/* Pad bytes after @payload_len bytes of payload: (-len) mod 4. */
static inline u8 rxe_pad_len(u32 payload_len)
{
	return (u8)((0u - payload_len) & 3);
}

/*
 * RNR NAK timer code (5 bits) to microseconds.  Code 0 is the longest,
 * 655.36 ms.  Code 25 is 61440 us, following the doubling series of the
 * odd codes (30 us << ((code - 3) / 2)); stock rxe's table has 61410 us,
 * a 30 us difference that only changes how long this requester waits.
 */
static inline u32 rxe_rnr_timer_usec(u8 code)
{
	static const u32 usec[32] = {
		655360,     10,     20,     30,     40,     60,     80,    120,
		   160,    240,    320,    480,    640,    960,   1280,   1920,
		  2560,   3840,   5120,   7680,  10240,  15360,  20480,  30720,
		 40960,  61440,  81920, 122880, 163840, 245760, 327680, 491520,
	};

	return usec[code & 0x1f];
}

/*
 * Local ACK timeout (IB_QP_TIMEOUT, 5 bits) to nanoseconds:
 * 4.096 us << timeout; 0 means the retransmit timer is disabled.
 */
static inline u64 rxe_ack_timeout_ns(u8 timeout)
{
	timeout &= 0x1f;
	return timeout ? 4096ull << timeout : 0;
}

/* ---------------------------------------------------------------------- */
/* Opcode table (rxe_opcode.c) */

/*
 * Extension headers, in the order they follow the BTH when several are
 * present (DETH before ImmDt, RETH before ImmDt, AETH before AtomicAckETH).
 */
enum rxe_hdr {
	RXE_HDR_DETH,
	RXE_HDR_RETH,
	RXE_HDR_ATMETH,
	RXE_HDR_AETH,
	RXE_HDR_ATMACK,
	RXE_HDR_IMMDT,
	RXE_HDR_IETH,
	RXE_NUM_HDR,
};

/* Opcode flags.  An opcode without flags is not accepted. */
/* Extension headers present (bit n is header n of enum rxe_hdr). */
#define RXE_OPF_DETH		BIT(RXE_HDR_DETH)
#define RXE_OPF_RETH		BIT(RXE_HDR_RETH)
#define RXE_OPF_ATMETH		BIT(RXE_HDR_ATMETH)
#define RXE_OPF_AETH		BIT(RXE_HDR_AETH)
#define RXE_OPF_ATMACK		BIT(RXE_HDR_ATMACK)
#define RXE_OPF_IMMDT		BIT(RXE_HDR_IMMDT)	/* has immediate */
#define RXE_OPF_IETH		BIT(RXE_HDR_IETH)	/* has invalidate */
#define RXE_OPF_HDRS		(BIT(RXE_NUM_HDR) - 1)
/* Carries payload after the headers (possibly zero bytes). */
#define RXE_OPF_PAYLOAD		BIT(8)
/* Direction: request (requester to responder) or response. */
#define RXE_OPF_REQ		BIT(9)
#define RXE_OPF_RESP		BIT(10)
/* Transport class. */
#define RXE_OPF_RC		BIT(11)
#define RXE_OPF_UC		BIT(12)
#define RXE_OPF_UD		BIT(13)
/* Position in the message: START+END is a single-packet message. */
#define RXE_OPF_START		BIT(14)
#define RXE_OPF_MIDDLE		BIT(15)
#define RXE_OPF_END		BIT(16)
/* Consumes a receive WQE when it arrives. */
#define RXE_OPF_RWR		BIT(17)
/* Generates a receive completion. */
#define RXE_OPF_COMP		BIT(18)
/* Operation the packet belongs to (requests and their responses). */
#define RXE_OPF_SEND		BIT(19)
#define RXE_OPF_WRITE		BIT(20)
#define RXE_OPF_READ		BIT(21)
#define RXE_OPF_ATOMIC		BIT(22)
/*
 * RC request ending a message: stock requesters always set AckReq on it
 * (and on every 66th packet of a long run without one).
 */
#define RXE_OPF_ACKREQ		BIT(23)

/**
 * struct rxe_opcode_info - what the wire format says about one opcode
 * @name: printable name, NULL for an unknown opcode.
 * @flags: RXE_OPF_*; 0 for an unknown opcode.
 * @length: bytes of BTH plus extension headers, i.e. payload offset.
 * @off: offset from the BTH of each extension header present, indexed by
 *	enum rxe_hdr; 0 when absent (no extension header is at offset 0).
 */
struct rxe_opcode_info {
	const char *name;
	u32 flags;
	u8 length;
	u8 off[RXE_NUM_HDR];
};

extern const struct rxe_opcode_info rxe_opcode_table[RXE_NUM_OPCODES];

static inline const struct rxe_opcode_info *rxe_op_info(u8 opcode)
{
	return &rxe_opcode_table[opcode];
}

static inline u32 rxe_op_flags(u8 opcode)
{
	return rxe_opcode_table[opcode].flags;
}

static inline bool rxe_op_valid(u8 opcode)
{
	return rxe_opcode_table[opcode].flags != 0;
}

/* BTH + extension headers, 0 for an unknown opcode. */
static inline unsigned int rxe_op_hdr_len(u8 opcode)
{
	return rxe_opcode_table[opcode].length;
}

/* Offset of extension header @hdr from the BTH, 0 if absent. */
static inline unsigned int rxe_op_hdr_off(u8 opcode, enum rxe_hdr hdr)
{
	return hdr < RXE_NUM_HDR ? rxe_opcode_table[opcode].off[hdr] : 0;
}

/* Is @opcode known and of transport class @tclass (RXE_OP_CLASS_*)? */
static inline bool rxe_op_class_ok(u8 opcode, u8 tclass)
{
	return rxe_op_valid(opcode) &&
	       (opcode & RXE_OP_CLASS_MASK) == tclass;
}

const char *rxe_op_name(u8 opcode);
int rxe_wire_payload_len(const u8 *bth, size_t len);

/* ---------------------------------------------------------------------- */
/* Work request opcode to wire opcode (rxe_opcode.c) */

/* Position of a packet in its message. */
enum rxe_seg {
	RXE_SEG_FIRST,
	RXE_SEG_MIDDLE,
	RXE_SEG_LAST,
	RXE_SEG_ONLY,
	RXE_NUM_SEG,
};

static inline enum rxe_seg rxe_seg_of(bool first, bool last)
{
	if (first)
		return last ? RXE_SEG_ONLY : RXE_SEG_FIRST;
	return last ? RXE_SEG_LAST : RXE_SEG_MIDDLE;
}

/* Work request flags. */
#define RXE_WRF_RC		BIT(0)	/* allowed on an RC QP */
#define RXE_WRF_UC		BIT(1)	/* allowed on a UC QP */
#define RXE_WRF_UD		BIT(2)	/* allowed on a UD (or GSI) QP */
#define RXE_WRF_LOCAL		BIT(3)	/* local operation, no packet */
#define RXE_WRF_SEND		BIT(4)
#define RXE_WRF_WRITE		BIT(5)
#define RXE_WRF_READ		BIT(6)
#define RXE_WRF_ATOMIC		BIT(7)
#define RXE_WRF_IMM		BIT(8)	/* carries immediate data */
#define RXE_WRF_INV		BIT(9)	/* carries an R_Key to invalidate */
#define RXE_WRF_PAYLOAD		BIT(10)	/* the SGEs (or inline data) are sent */

/**
 * struct rxe_wr_info - how the requester puts a work request on the wire
 * @name: printable name.
 * @flags: RXE_WRF_*.
 * @kind: the low five bits of the opcode of each packet position (enum
 *	rxe_seg), or RXE_OPK_NONE where the WR has no such packet; the class
 *	bits come from the QP.
 */
struct rxe_wr_info {
	const char *name;
	u32 flags;
	u8 kind[RXE_NUM_SEG];
};

const struct rxe_wr_info *rxe_wr_info(u32 wr_opcode);
int rxe_wr_wire_opcode(u32 wr_opcode, u8 tclass, enum rxe_seg seg);

/* ---------------------------------------------------------------------- */
/* ICRC (rxe_icrc.c) */

/*
 * Raw crc32_le register after the eight 0xff bytes that stand for the
 * masked LRH, starting from ~0.
 */
#define RXE_ICRC_SEED		0xdebb20e3u

u32 rxe_icrc_headers(const void *ip_hdr, bool ipv6, const void *udp_hdr,
		     const void *bth);
u32 rxe_icrc_compute(const void *ip_hdr, bool ipv6, const void *udp_hdr,
		     const void *bth, size_t len);
bool rxe_icrc_check(const void *ip_hdr, bool ipv6, const void *udp_hdr,
		    const void *bth, size_t len);

/* Continue an ICRC over @len more bytes (raw register in and out). */
static inline u32 rxe_icrc_update(u32 reg, const void *p, size_t len)
{
	return crc32_le(reg, p, len);
}

/* Turn the raw register into the ICRC value. */
static inline u32 rxe_icrc_final(u32 reg)
{
	return ~reg;
}

/* The ICRC goes on the wire least-significant byte first. */
static inline u32 rxe_icrc_get(const u8 *p)
{
	return get_unaligned_le32(p);
}

static inline void rxe_icrc_put(u8 *p, u32 icrc)
{
	put_unaligned_le32(icrc, p);
}

#endif /* RXE_ODP_WIRE_H */
