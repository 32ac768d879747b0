// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: the opcode table and the work request to opcode mapping.
 *
 * rxe_opcode_table has an entry for each of the 256 opcodes, so any byte
 * read from a packet indexes it safely; opcodes RoCEv2 rxe does not carry
 * (RD, CNP, the reserved codes) are all zero and so invalid.  Header
 * offsets and lengths are spelled out per entry; the unit tests recompute
 * them from the header order of enum rxe_hdr.
 */
#include <rdma/ib_user_verbs.h>

#include "rxe_wire.h"

/* Flag groups shared by several opcodes. */
#define RC_REQ		(RXE_OPF_RC | RXE_OPF_REQ)
#define UC_REQ		(RXE_OPF_UC | RXE_OPF_REQ)
#define UD_REQ		(RXE_OPF_UD | RXE_OPF_REQ)
#define RC_RESP		(RXE_OPF_RC | RXE_OPF_RESP)
#define SEND_PKT	(RXE_OPF_SEND | RXE_OPF_PAYLOAD)
#define WRITE_PKT	(RXE_OPF_WRITE | RXE_OPF_PAYLOAD)
#define ONLY		(RXE_OPF_START | RXE_OPF_END)

/* Offsets from the BTH of the headers that follow it. */
#define AFTER_BTH	RXE_BTH_BYTES
#define AFTER_RETH	(RXE_BTH_BYTES + RXE_RETH_BYTES)
#define AFTER_AETH	(RXE_BTH_BYTES + RXE_AETH_BYTES)
#define AFTER_DETH	(RXE_BTH_BYTES + RXE_DETH_BYTES)

const struct rxe_opcode_info rxe_opcode_table[RXE_NUM_OPCODES] = {
	/* RC */
	[RXE_OP_RC_SEND_FIRST] = {
		.name	= "RC_SEND_FIRST",
		.flags	= RC_REQ | SEND_PKT | RXE_OPF_START | RXE_OPF_RWR,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_RC_SEND_MIDDLE] = {
		.name	= "RC_SEND_MIDDLE",
		.flags	= RC_REQ | SEND_PKT | RXE_OPF_MIDDLE,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_RC_SEND_LAST] = {
		.name	= "RC_SEND_LAST",
		.flags	= RC_REQ | SEND_PKT | RXE_OPF_END | RXE_OPF_COMP |
			  RXE_OPF_ACKREQ,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_RC_SEND_LAST_IMM] = {
		.name	= "RC_SEND_LAST_WITH_IMMEDIATE",
		.flags	= RC_REQ | SEND_PKT | RXE_OPF_IMMDT | RXE_OPF_END |
			  RXE_OPF_COMP | RXE_OPF_ACKREQ,
		.length	= AFTER_BTH + RXE_IMMDT_BYTES,
		.off	= { [RXE_HDR_IMMDT] = AFTER_BTH },
	},
	[RXE_OP_RC_SEND_ONLY] = {
		.name	= "RC_SEND_ONLY",
		.flags	= RC_REQ | SEND_PKT | ONLY | RXE_OPF_RWR |
			  RXE_OPF_COMP | RXE_OPF_ACKREQ,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_RC_SEND_ONLY_IMM] = {
		.name	= "RC_SEND_ONLY_WITH_IMMEDIATE",
		.flags	= RC_REQ | SEND_PKT | RXE_OPF_IMMDT | ONLY |
			  RXE_OPF_RWR | RXE_OPF_COMP | RXE_OPF_ACKREQ,
		.length	= AFTER_BTH + RXE_IMMDT_BYTES,
		.off	= { [RXE_HDR_IMMDT] = AFTER_BTH },
	},
	[RXE_OP_RC_WRITE_FIRST] = {
		.name	= "RC_RDMA_WRITE_FIRST",
		.flags	= RC_REQ | WRITE_PKT | RXE_OPF_RETH | RXE_OPF_START,
		.length	= AFTER_RETH,
		.off	= { [RXE_HDR_RETH] = AFTER_BTH },
	},
	[RXE_OP_RC_WRITE_MIDDLE] = {
		.name	= "RC_RDMA_WRITE_MIDDLE",
		.flags	= RC_REQ | WRITE_PKT | RXE_OPF_MIDDLE,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_RC_WRITE_LAST] = {
		.name	= "RC_RDMA_WRITE_LAST",
		.flags	= RC_REQ | WRITE_PKT | RXE_OPF_END | RXE_OPF_ACKREQ,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_RC_WRITE_LAST_IMM] = {
		.name	= "RC_RDMA_WRITE_LAST_WITH_IMMEDIATE",
		.flags	= RC_REQ | WRITE_PKT | RXE_OPF_IMMDT | RXE_OPF_END |
			  RXE_OPF_RWR | RXE_OPF_COMP | RXE_OPF_ACKREQ,
		.length	= AFTER_BTH + RXE_IMMDT_BYTES,
		.off	= { [RXE_HDR_IMMDT] = AFTER_BTH },
	},
	[RXE_OP_RC_WRITE_ONLY] = {
		.name	= "RC_RDMA_WRITE_ONLY",
		.flags	= RC_REQ | WRITE_PKT | RXE_OPF_RETH | ONLY |
			  RXE_OPF_ACKREQ,
		.length	= AFTER_RETH,
		.off	= { [RXE_HDR_RETH] = AFTER_BTH },
	},
	[RXE_OP_RC_WRITE_ONLY_IMM] = {
		.name	= "RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE",
		.flags	= RC_REQ | WRITE_PKT | RXE_OPF_RETH | RXE_OPF_IMMDT |
			  ONLY | RXE_OPF_RWR | RXE_OPF_COMP | RXE_OPF_ACKREQ,
		.length	= AFTER_RETH + RXE_IMMDT_BYTES,
		.off	= {
			[RXE_HDR_RETH] = AFTER_BTH,
			[RXE_HDR_IMMDT] = AFTER_RETH,
		},
	},
	[RXE_OP_RC_READ_REQ] = {
		.name	= "RC_RDMA_READ_REQUEST",
		.flags	= RC_REQ | RXE_OPF_READ | RXE_OPF_RETH | ONLY |
			  RXE_OPF_ACKREQ,
		.length	= AFTER_RETH,
		.off	= { [RXE_HDR_RETH] = AFTER_BTH },
	},
	[RXE_OP_RC_READ_RESP_FIRST] = {
		.name	= "RC_RDMA_READ_RESPONSE_FIRST",
		.flags	= RC_RESP | RXE_OPF_READ | RXE_OPF_PAYLOAD |
			  RXE_OPF_AETH | RXE_OPF_START,
		.length	= AFTER_AETH,
		.off	= { [RXE_HDR_AETH] = AFTER_BTH },
	},
	[RXE_OP_RC_READ_RESP_MIDDLE] = {
		.name	= "RC_RDMA_READ_RESPONSE_MIDDLE",
		.flags	= RC_RESP | RXE_OPF_READ | RXE_OPF_PAYLOAD |
			  RXE_OPF_MIDDLE,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_RC_READ_RESP_LAST] = {
		.name	= "RC_RDMA_READ_RESPONSE_LAST",
		.flags	= RC_RESP | RXE_OPF_READ | RXE_OPF_PAYLOAD |
			  RXE_OPF_AETH | RXE_OPF_END,
		.length	= AFTER_AETH,
		.off	= { [RXE_HDR_AETH] = AFTER_BTH },
	},
	[RXE_OP_RC_READ_RESP_ONLY] = {
		.name	= "RC_RDMA_READ_RESPONSE_ONLY",
		.flags	= RC_RESP | RXE_OPF_READ | RXE_OPF_PAYLOAD |
			  RXE_OPF_AETH | ONLY,
		.length	= AFTER_AETH,
		.off	= { [RXE_HDR_AETH] = AFTER_BTH },
	},
	[RXE_OP_RC_ACK] = {
		.name	= "RC_ACKNOWLEDGE",
		.flags	= RC_RESP | RXE_OPF_AETH | ONLY,
		.length	= AFTER_AETH,
		.off	= { [RXE_HDR_AETH] = AFTER_BTH },
	},
	[RXE_OP_RC_ATOMIC_ACK] = {
		.name	= "RC_ATOMIC_ACKNOWLEDGE",
		.flags	= RC_RESP | RXE_OPF_ATOMIC | RXE_OPF_AETH |
			  RXE_OPF_ATMACK | ONLY,
		.length	= AFTER_AETH + RXE_ATMACK_BYTES,
		.off	= {
			[RXE_HDR_AETH] = AFTER_BTH,
			[RXE_HDR_ATMACK] = AFTER_AETH,
		},
	},
	[RXE_OP_RC_CMP_SWAP] = {
		.name	= "RC_COMPARE_SWAP",
		.flags	= RC_REQ | RXE_OPF_ATOMIC | RXE_OPF_ATMETH | ONLY |
			  RXE_OPF_ACKREQ,
		.length	= AFTER_BTH + RXE_ATMETH_BYTES,
		.off	= { [RXE_HDR_ATMETH] = AFTER_BTH },
	},
	[RXE_OP_RC_FETCH_ADD] = {
		.name	= "RC_FETCH_ADD",
		.flags	= RC_REQ | RXE_OPF_ATOMIC | RXE_OPF_ATMETH | ONLY |
			  RXE_OPF_ACKREQ,
		.length	= AFTER_BTH + RXE_ATMETH_BYTES,
		.off	= { [RXE_HDR_ATMETH] = AFTER_BTH },
	},
	[RXE_OP_RC_SEND_LAST_INV] = {
		.name	= "RC_SEND_LAST_WITH_INVALIDATE",
		.flags	= RC_REQ | SEND_PKT | RXE_OPF_IETH | RXE_OPF_END |
			  RXE_OPF_COMP | RXE_OPF_ACKREQ,
		.length	= AFTER_BTH + RXE_IETH_BYTES,
		.off	= { [RXE_HDR_IETH] = AFTER_BTH },
	},
	[RXE_OP_RC_SEND_ONLY_INV] = {
		.name	= "RC_SEND_ONLY_WITH_INVALIDATE",
		.flags	= RC_REQ | SEND_PKT | RXE_OPF_IETH | ONLY |
			  RXE_OPF_RWR | RXE_OPF_COMP | RXE_OPF_ACKREQ,
		.length	= AFTER_BTH + RXE_IETH_BYTES,
		.off	= { [RXE_HDR_IETH] = AFTER_BTH },
	},

	/* UC: the RC sends and writes, never acknowledged */
	[RXE_OP_UC_SEND_FIRST] = {
		.name	= "UC_SEND_FIRST",
		.flags	= UC_REQ | SEND_PKT | RXE_OPF_START | RXE_OPF_RWR,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_UC_SEND_MIDDLE] = {
		.name	= "UC_SEND_MIDDLE",
		.flags	= UC_REQ | SEND_PKT | RXE_OPF_MIDDLE,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_UC_SEND_LAST] = {
		.name	= "UC_SEND_LAST",
		.flags	= UC_REQ | SEND_PKT | RXE_OPF_END | RXE_OPF_COMP,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_UC_SEND_LAST_IMM] = {
		.name	= "UC_SEND_LAST_WITH_IMMEDIATE",
		.flags	= UC_REQ | SEND_PKT | RXE_OPF_IMMDT | RXE_OPF_END |
			  RXE_OPF_COMP,
		.length	= AFTER_BTH + RXE_IMMDT_BYTES,
		.off	= { [RXE_HDR_IMMDT] = AFTER_BTH },
	},
	[RXE_OP_UC_SEND_ONLY] = {
		.name	= "UC_SEND_ONLY",
		.flags	= UC_REQ | SEND_PKT | ONLY | RXE_OPF_RWR | RXE_OPF_COMP,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_UC_SEND_ONLY_IMM] = {
		.name	= "UC_SEND_ONLY_WITH_IMMEDIATE",
		.flags	= UC_REQ | SEND_PKT | RXE_OPF_IMMDT | ONLY |
			  RXE_OPF_RWR | RXE_OPF_COMP,
		.length	= AFTER_BTH + RXE_IMMDT_BYTES,
		.off	= { [RXE_HDR_IMMDT] = AFTER_BTH },
	},
	[RXE_OP_UC_WRITE_FIRST] = {
		.name	= "UC_RDMA_WRITE_FIRST",
		.flags	= UC_REQ | WRITE_PKT | RXE_OPF_RETH | RXE_OPF_START,
		.length	= AFTER_RETH,
		.off	= { [RXE_HDR_RETH] = AFTER_BTH },
	},
	[RXE_OP_UC_WRITE_MIDDLE] = {
		.name	= "UC_RDMA_WRITE_MIDDLE",
		.flags	= UC_REQ | WRITE_PKT | RXE_OPF_MIDDLE,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_UC_WRITE_LAST] = {
		.name	= "UC_RDMA_WRITE_LAST",
		.flags	= UC_REQ | WRITE_PKT | RXE_OPF_END,
		.length	= RXE_BTH_BYTES,
	},
	[RXE_OP_UC_WRITE_LAST_IMM] = {
		.name	= "UC_RDMA_WRITE_LAST_WITH_IMMEDIATE",
		.flags	= UC_REQ | WRITE_PKT | RXE_OPF_IMMDT | RXE_OPF_END |
			  RXE_OPF_RWR | RXE_OPF_COMP,
		.length	= AFTER_BTH + RXE_IMMDT_BYTES,
		.off	= { [RXE_HDR_IMMDT] = AFTER_BTH },
	},
	[RXE_OP_UC_WRITE_ONLY] = {
		.name	= "UC_RDMA_WRITE_ONLY",
		.flags	= UC_REQ | WRITE_PKT | RXE_OPF_RETH | ONLY,
		.length	= AFTER_RETH,
		.off	= { [RXE_HDR_RETH] = AFTER_BTH },
	},
	[RXE_OP_UC_WRITE_ONLY_IMM] = {
		.name	= "UC_RDMA_WRITE_ONLY_WITH_IMMEDIATE",
		.flags	= UC_REQ | WRITE_PKT | RXE_OPF_RETH | RXE_OPF_IMMDT |
			  ONLY | RXE_OPF_RWR | RXE_OPF_COMP,
		.length	= AFTER_RETH + RXE_IMMDT_BYTES,
		.off	= {
			[RXE_HDR_RETH] = AFTER_BTH,
			[RXE_HDR_IMMDT] = AFTER_RETH,
		},
	},

	/* UD: single-packet sends with a DETH */
	[RXE_OP_UD_SEND_ONLY] = {
		.name	= "UD_SEND_ONLY",
		.flags	= UD_REQ | SEND_PKT | RXE_OPF_DETH | ONLY |
			  RXE_OPF_RWR | RXE_OPF_COMP,
		.length	= AFTER_DETH,
		.off	= { [RXE_HDR_DETH] = AFTER_BTH },
	},
	[RXE_OP_UD_SEND_ONLY_IMM] = {
		.name	= "UD_SEND_ONLY_WITH_IMMEDIATE",
		.flags	= UD_REQ | SEND_PKT | RXE_OPF_DETH | RXE_OPF_IMMDT |
			  ONLY | RXE_OPF_RWR | RXE_OPF_COMP,
		.length	= AFTER_DETH + RXE_IMMDT_BYTES,
		.off	= {
			[RXE_HDR_DETH] = AFTER_BTH,
			[RXE_HDR_IMMDT] = AFTER_DETH,
		},
	},
};

/**
 * rxe_op_name() - printable name of an opcode
 * @opcode: any byte.
 *
 * Return: the name, or "UNKNOWN" for an opcode without a table entry.
 */
const char *rxe_op_name(u8 opcode)
{
	return rxe_opcode_table[opcode].name ?: "UNKNOWN";
}

/**
 * rxe_wire_payload_len() - check a packet's BTH and lengths
 * @bth: the UDP payload: BTH, headers, payload, pad, ICRC.
 * @len: its length in bytes (the UDP length minus 8).
 *
 * The checks a receiver makes before anything else: the packet holds a
 * BTH, the opcode is known, TVer is 0 and the packet holds the opcode's
 * headers, the pad the BTH announces and the ICRC.
 *
 * Return: the payload length (pad and ICRC excluded), or -EINVAL.
 */
int rxe_wire_payload_len(const u8 *bth, size_t len)
{
	size_t need;
	u8 opcode;

	if (len < RXE_BTH_BYTES)
		return -EINVAL;
	opcode = rxe_bth_opcode(bth);
	if (!rxe_op_valid(opcode) || rxe_bth_tver(bth) != 0)
		return -EINVAL;
	need = rxe_op_hdr_len(opcode) + rxe_bth_pad(bth) + RXE_ICRC_BYTES;
	if (len < need || len - need > INT_MAX)
		return -EINVAL;
	return (int)(len - need);
}

/* The packets of each work request, by position in the message. */
#define KINDS(f, m, l, o)	{ RXE_OPK_##f, RXE_OPK_##m, RXE_OPK_##l, RXE_OPK_##o }
#define NO_PACKET		KINDS(NONE, NONE, NONE, NONE)
#define ONE_PACKET(o)		KINDS(NONE, NONE, NONE, o)

/* Indexed by IB_WR_* (= IB_UVERBS_WR_* = IBV_WR_*) for 0..9. */
#define RXE_NUM_WR_OPCODES	(IB_UVERBS_WR_SEND_WITH_INV + 1)

static const struct rxe_wr_info rxe_wr_table[RXE_NUM_WR_OPCODES] = {
	[IB_UVERBS_WR_RDMA_WRITE] = {
		.name	= "RDMA_WRITE",
		.flags	= RXE_WRF_RC | RXE_WRF_UC | RXE_WRF_WRITE |
			  RXE_WRF_PAYLOAD,
		.kind	= KINDS(WRITE_FIRST, WRITE_MIDDLE, WRITE_LAST,
				WRITE_ONLY),
	},
	[IB_UVERBS_WR_RDMA_WRITE_WITH_IMM] = {
		.name	= "RDMA_WRITE_WITH_IMM",
		.flags	= RXE_WRF_RC | RXE_WRF_UC | RXE_WRF_WRITE |
			  RXE_WRF_IMM | RXE_WRF_PAYLOAD,
		.kind	= KINDS(WRITE_FIRST, WRITE_MIDDLE, WRITE_LAST_IMM,
				WRITE_ONLY_IMM),
	},
	[IB_UVERBS_WR_SEND] = {
		.name	= "SEND",
		.flags	= RXE_WRF_RC | RXE_WRF_UC | RXE_WRF_UD |
			  RXE_WRF_SEND | RXE_WRF_PAYLOAD,
		.kind	= KINDS(SEND_FIRST, SEND_MIDDLE, SEND_LAST, SEND_ONLY),
	},
	[IB_UVERBS_WR_SEND_WITH_IMM] = {
		.name	= "SEND_WITH_IMM",
		.flags	= RXE_WRF_RC | RXE_WRF_UC | RXE_WRF_UD |
			  RXE_WRF_SEND | RXE_WRF_IMM | RXE_WRF_PAYLOAD,
		.kind	= KINDS(SEND_FIRST, SEND_MIDDLE, SEND_LAST_IMM,
				SEND_ONLY_IMM),
	},
	[IB_UVERBS_WR_RDMA_READ] = {
		.name	= "RDMA_READ",
		.flags	= RXE_WRF_RC | RXE_WRF_READ,
		.kind	= ONE_PACKET(READ_REQ),
	},
	[IB_UVERBS_WR_ATOMIC_CMP_AND_SWP] = {
		.name	= "ATOMIC_CMP_AND_SWP",
		.flags	= RXE_WRF_RC | RXE_WRF_ATOMIC,
		.kind	= ONE_PACKET(CMP_SWAP),
	},
	[IB_UVERBS_WR_ATOMIC_FETCH_AND_ADD] = {
		.name	= "ATOMIC_FETCH_AND_ADD",
		.flags	= RXE_WRF_RC | RXE_WRF_ATOMIC,
		.kind	= ONE_PACKET(FETCH_ADD),
	},
	[IB_UVERBS_WR_LOCAL_INV] = {
		.name	= "LOCAL_INV",
		.flags	= RXE_WRF_RC | RXE_WRF_UC | RXE_WRF_UD | RXE_WRF_LOCAL,
		.kind	= NO_PACKET,
	},
	[IB_UVERBS_WR_BIND_MW] = {
		.name	= "BIND_MW",
		.flags	= RXE_WRF_RC | RXE_WRF_UC | RXE_WRF_LOCAL,
		.kind	= NO_PACKET,
	},
	[IB_UVERBS_WR_SEND_WITH_INV] = {
		.name	= "SEND_WITH_INV",
		.flags	= RXE_WRF_RC | RXE_WRF_SEND | RXE_WRF_INV |
			  RXE_WRF_PAYLOAD,
		.kind	= KINDS(SEND_FIRST, SEND_MIDDLE, SEND_LAST_INV,
				SEND_ONLY_INV),
	},
};

/**
 * rxe_wr_info() - describe a work request opcode
 * @wr_opcode: IB_WR_* / IBV_WR_* value.
 *
 * Only the opcodes 0..9 (RDMA WRITE through SEND_WITH_INV) are described;
 * kernel-only local operations such as IB_WR_REG_MR (0x20) are not, and
 * neither are TSO, masked atomics or anything else this driver does not
 * support.
 *
 * Return: the description, or NULL for an unsupported opcode.
 */
const struct rxe_wr_info *rxe_wr_info(u32 wr_opcode)
{
	if (wr_opcode >= RXE_NUM_WR_OPCODES ||
	    !rxe_wr_table[wr_opcode].name)
		return NULL;
	return &rxe_wr_table[wr_opcode];
}

static u32 rxe_wr_class_flag(u8 tclass)
{
	switch (tclass) {
	case RXE_OP_CLASS_RC:
		return RXE_WRF_RC;
	case RXE_OP_CLASS_UC:
		return RXE_WRF_UC;
	case RXE_OP_CLASS_UD:
		return RXE_WRF_UD;
	default:
		return 0;
	}
}

/**
 * rxe_wr_wire_opcode() - the opcode of one packet of a work request
 * @wr_opcode: IB_WR_* / IBV_WR_* value.
 * @tclass: the QP's transport class, RXE_OP_CLASS_RC, _UC or _UD (GSI
 *	QPs are UD).
 * @seg: the packet's position in its message; rxe_seg_of() derives it
 *	from "first packet" and "last packet".
 *
 * Return: the opcode (0..255), or -EINVAL if the work request is unknown,
 * not allowed on this QP type, a local operation, or has no packet in
 * that position (READ requests and atomics are always ONLY; UD messages
 * are single packets).
 */
int rxe_wr_wire_opcode(u32 wr_opcode, u8 tclass, enum rxe_seg seg)
{
	const struct rxe_wr_info *info = rxe_wr_info(wr_opcode);
	u8 opcode;

	if (!info || !(info->flags & rxe_wr_class_flag(tclass)) ||
	    (unsigned int)seg >= RXE_NUM_SEG ||
	    info->kind[seg] == RXE_OPK_NONE)
		return -EINVAL;
	opcode = tclass | info->kind[seg];
	if (!rxe_op_class_ok(opcode, tclass))
		return -EINVAL;
	return opcode;
}
