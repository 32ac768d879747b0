/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe-odp: Soft-RoCE with on-demand paging.  Driver-wide definitions.
 */
#ifndef RXE_ODP_H
#define RXE_ODP_H

#ifdef pr_fmt
#undef pr_fmt
#endif
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <rdma/ib_verbs.h>

#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <rdma/rdma_user_rxe.h>

#include "rxe_param.h"
#include "rxe_queue.h"

/*
 * Kinds of driver objects.  Every object the driver creates is counted in
 * its device (and in a module-wide total) from creation to destruction, so
 * that a leak is visible when the device goes away: see rxe_dev_audit().
 */
enum rxe_obj_kind {
	RXE_OBJ_UCONTEXT,
	RXE_OBJ_PD,
	RXE_OBJ_AH,
	RXE_OBJ_CQ,
	RXE_OBJ_SRQ,
	RXE_OBJ_QP,
	RXE_OBJ_MR,
	RXE_OBJ_MW,
	RXE_OBJ_KIND_MAX,
};

/* Per-port hardware counters, see rxe_counters.c for their names. */
enum rxe_counter {
	RXE_CNT_SENT_PKTS,
	RXE_CNT_RCVD_PKTS,
	RXE_CNT_DUP_REQ,
	RXE_CNT_OUT_OF_SEQ_REQ,
	RXE_CNT_RCV_RNR,
	RXE_CNT_SND_RNR,
	RXE_CNT_RCV_SEQ_ERR,
	RXE_CNT_ACK_DEFERRED,
	RXE_CNT_RETRY_EXCEEDED,
	RXE_CNT_RNR_RETRY_EXCEEDED,
	RXE_CNT_COMP_RETRY,
	RXE_CNT_SEND_ERR,
	RXE_CNT_LINK_DOWNED,
	RXE_CNT_RDMA_SENDS,
	RXE_CNT_RDMA_RECVS,
	/* Ours (not in stock): why received packets were dropped. */
	RXE_CNT_RCVD_BAD_HDR,
	RXE_CNT_RCVD_BAD_ICRC,
	RXE_CNT_RCVD_BAD_DGID,
	RXE_CNT_RCVD_BAD_KEY,
	RXE_CNT_RCVD_NO_QP,
	RXE_CNT_RCVD_BAD_STATE,
	RXE_CNT_RCVD_NO_WQE,
	RXE_CNT_RCVD_QUEUE_FULL,
	RXE_CNT_RCVD_UC_DROPPED,
	RXE_CNT_DUP_READ_SKIPPED,
	RXE_CNT_RCVD_BAD_ADDR,
	RXE_CNT_RCVD_UNSENT_PSN,
	/*
	 * On-demand paging totals of the device: live ODP MRs summed at read
	 * time plus what deregistered ones had (see rxe_mr_odp_totals()).
	 */
	RXE_CNT_ODP_PAGE_FAULTS,
	RXE_CNT_ODP_PAGE_INVALIDATIONS,
	RXE_CNT_ODP_PAGE_PREFETCH,
	RXE_CNT_ODP_FAULT_RETRIES,
	RXE_CNT_ODP_DEFERRED,
	RXE_CNT_ODP_DROPPED,
	RXE_NUM_COUNTERS,
};

/* The ODP counters that come from the ODP core rather than the driver. */
#define RXE_CNT_ODP_FIRST	RXE_CNT_ODP_PAGE_FAULTS
#define RXE_NUM_ODP_CORE_COUNTERS	4

/**
 * struct rxe_dev - one Soft-RoCE device bound to one netdev
 * @ib_dev: the IB core's device; must stay the first member because the
 *	core allocates the whole structure (ib_alloc_device()).
 * @ndev: the Ethernet netdev we transmit on.  Held (@ndev_tracker) from
 *	creation until dealloc_driver, so it is valid whenever an op runs.
 * @ndev_tracker: reference tracker for @ndev.
 * @attr: device attributes, filled once at creation and read-only after,
 *	except @attr.sys_image_guid: modify_device replaces it with one
 *	aligned 64-bit store (WRITE_ONCE()), and query_device's unlocked copy
 *	sees the old or the new value, never a mix.
 * @port_lock: protects @port_cap_flags.
 * @port_cap_flags: IB port capability mask (modify_port can change it).
 * @port_state: last port state reported to the core, for event dedup.
 *	Written only from the netdev notifier, which runs under RTNL.
 * @nobj: live objects of each kind, see enum rxe_obj_kind.
 * @counters: hardware counters, see enum rxe_counter; lock-free.
 * @qps: QP number -> struct rxe_qp (QP1 is the GSI QP).  Lookups take a
 *	QP reference under the xarray lock (irq-safe).
 * @srqs: SRQ number -> struct rxe_srq.
 * @ahs: AH number -> struct rxe_ah; irq-safe, create_ah may be atomic.
 * @keys: key index (lkey/rkey >> 8) -> struct rxe_mr or struct rxe_mw,
 *	tagged with xa_tag_pointer() by kind (RXE_KEY_TAG_*).
 * @mcg_mutex: serialises multicast attach/detach (rxe_mcast.c).
 * @mcg_lock: guards @mcg_tree, group member lists and the counts below
 *	for readers on the receive path; writers hold @mcg_mutex too.
 * @mcg_tree: multicast groups by MGID.
 * @nmcg: groups.  @nmcast_attach: attachments over all groups.
 * @next_qpn: cyclic allocation cursor for @qps.
 * @qp_serial: last QP serial handed out (struct rxe_qp.serial); atomic.
 * @next_key: cyclic allocation cursor for @keys.
 * @odp_mutex: protects @odp_mrs and @odp_retired (process context only:
 *	registration, dereg and counter reads).
 * @odp_mrs: live on-demand-paging MRs (struct rxe_mr.odp_node).
 * @odp_retired: ODP counters of MRs already deregistered, indexed from
 *	RXE_CNT_ODP_FIRST.
 */
struct rxe_dev {
	struct ib_device ib_dev;
	struct net_device *ndev;
	netdevice_tracker ndev_tracker;
	struct ib_device_attr attr;

	spinlock_t port_lock; /* protects port_cap_flags */
	u32 port_cap_flags;
	enum ib_port_state port_state;

	atomic_t nobj[RXE_OBJ_KIND_MAX];
	atomic64_t counters[RXE_NUM_COUNTERS];

	struct xarray qps;
	struct xarray srqs;
	struct xarray ahs;
	struct xarray keys;
	struct mutex odp_mutex; /* see kernel-doc above */
	struct list_head odp_mrs;
	u64 odp_retired[RXE_NUM_ODP_CORE_COUNTERS];
	struct mutex mcg_mutex; /* see kernel-doc above */
	spinlock_t mcg_lock; /* see kernel-doc above */
	struct rb_root mcg_tree;
	u32 nmcg;
	u32 nmcast_attach;
	u32 next_qpn;
	u32 next_key;
	atomic64_t qp_serial;
};

#define RXE_KEY_TAG_MR	1
#define RXE_KEY_TAG_MW	3	/* xarray tags may be 0, 1 or 3 */

/* QP numbers: 0 and 1 are special; stock allocates from 16 upwards. */
#define RXE_MIN_QPN		16
#define RXE_GSI_QPN		1

static inline struct rxe_dev *to_rdev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct rxe_dev, ib_dev);
}

/**
 * struct rxe_ucontext - a user context (one open of the uverbs device)
 * @ibuc: core object, must be first.
 */
struct rxe_ucontext {
	struct ib_ucontext ibuc;
};

/**
 * struct rxe_pd - protection domain
 * @ibpd: core object, must be first.
 */
struct rxe_pd {
	struct ib_pd ibpd;
};

/**
 * struct rxe_ah - address handle
 * @ibah: core object, must be first.
 * @ah_num: index in rxe_dev.ahs; user UD WQEs name the AH by it (never 0).
 * @av: the resolved address, in the rxe ABI's own format.  Immutable
 *	while the AH is in rxe_dev.ahs except through modify_ah, which
 *	updates it under the xarray lock; readers copy it under that lock.
 */
struct rxe_ah {
	struct ib_ah ibah;
	u32 ah_num;
	struct rxe_av av;
};

/**
 * struct rxe_cq - completion queue
 * @ibcq: core object, must be first.
 * @lock: serialises producers (and the kernel consumer) of @queue,
 *	@notify and resize.  Taken with irqsave: kernel ULPs poll from any
 *	context.
 * @queue: the CQE ring; user CQs hold struct ib_uverbs_wc slots, kernel
 *	CQs struct ib_wc.
 * @notify: armed notification, 0 or IB_CQ_SOLICITED / IB_CQ_NEXT_COMP.
 * @is_user: the ring is mapped by user space.
 */
struct rxe_cq {
	struct ib_cq ibcq;
	spinlock_t lock; /* see kernel-doc above */
	struct rxe_queue queue;
	u8 notify;
	bool is_user;
};

/**
 * struct rxe_srq - shared receive queue
 * @ibsrq: core object, must be first.
 * @lock: serialises consumers and kernel producers (post_srq_recv) of @rq,
 *	@limit and resize.
 * @rq: the receive WQE ring.
 * @max_sge: SGEs per WQE the ring's slots hold.
 * @limit: SRQ limit; 0 when disarmed.
 * @srq_num: index in rxe_dev.srqs.
 * @is_user: the ring is mapped by user space.
 */
struct rxe_srq {
	struct ib_srq ibsrq;
	spinlock_t lock; /* see kernel-doc above */
	struct rxe_queue rq;
	u32 max_sge;
	u32 limit;
	u32 srq_num;
	bool is_user;
};

/*
 * One executed atomic, kept for duplicates (rxe_qp.atomic_res).  A
 * requester keeps at most max_rd_atomic (<= RXE_MAX_QP_RD_ATOM) reads and
 * atomics outstanding and resends from the oldest, so any duplicate it can
 * send is one of the last RXE_MAX_QP_RD_ATOM atomics executed.
 */
#define RXE_ATOMIC_RES	RXE_MAX_QP_RD_ATOM
struct rxe_atomic_res {
	bool valid;
	u32 psn;
	u64 orig;
};

/**
 * struct rxe_qp - queue pair
 * @ibqp: core object, must be first.
 * @ref: the QP's own initial reference plus those of receive-path lookups,
 *	the multicast fan-out and doorbell chains; destroy drops the initial
 *	one and waits for @ref to reach zero (@released).
 * @released: completed when @ref reaches zero.
 * @serial: unique among this device's QPs for its lifetime (QP numbers and
 *	addresses are reused); what a type 2 window remembers its QP by.
 * @state_lock: protects @attr and @av.  Never held across a sleep, nor
 *	while flushing the rings or posting CQEs.  The transport reads
 *	@attr.dest_qp_num without it (set before RTR, constant after), and
 *	@attr.qp_state, @attr.path_mtu, @attr.timeout, @attr.max_rd_atomic
 *	and @attr.max_dest_rd_atomic as snapshots (rxe_qp_state(),
 *	rxe_qp_mtu(), rxe_req_arm_timer(), the requester's initiator depth,
 *	the responder's resources; writers WRITE_ONCE() them under the
 *	lock).
 * @attr: current attributes, as query_qp reports them.
 * @sq: send WQE ring (absent, .buf NULL, for none).
 * @rq: receive WQE ring (absent when the QP uses an SRQ).
 * @sq_lock: serialises kernel producers of @sq (post_send), the
 *	transport's WQE copy-out and retire, and flushes.
 * @rq_lock: the same for @rq (post_recv, the responder, flushes).
 * @scq: send CQ.  @rcq: receive CQ.  @srq: SRQ or NULL.
 * @sq_max_sge: SGEs per send WQE slot.  @sq_max_inline: inline bytes.
 * @rq_max_sge: SGEs per receive WQE slot.
 * @sq_sig_all: every send WQE completes with a CQE.
 * @is_user: rings are mapped by user space.
 * @av: resolved primary path (RC/UC), valid after IB_QP_AV.
 * @mcast: multicast attachments (rxe_mcast.c), under rdev->mcg_mutex
 *	and rdev->mcg_lock.
 * @work: the QP's transport (requester, responder, completer) runs here,
 *	on rxe_wq, in process context, or inline in a user doorbell
 *	(rxe_qp_run_sync()).  Kicked with rxe_qp_kick().
 * @bulk_work: runs the same transport, on the unbound rxe_wq_bulk: the
 *	rest of a run that used up its budget (rxe_task.c).
 * @run_mutex: held by whoever runs the transport (the work or a
 *	doorbell), so the transport state below needs no lock of its own.
 * @chain: under @run_mutex; set while a doorbell runs this QP inline, so
 *	that the QPs its loopback packets go to run inline after it.
 * @xmit_busy: under @run_mutex; RXE_XMIT_BUSY_* bits set from inside
 *	this QP's own rxe_net_xmit() when a loopback packet left its
 *	destination with RXE_LOOPBACK_BUSY_PKTS or more queued (or was dropped
 *	as the queue was full); the run then yields to that destination, or,
 *	if it is this QP, drains its own queue before sending more
 *	(rxe_qp_run()).
 * @run_flags: RXE_RUN_AGAIN: a run was asked for while @run_mutex was
 *	held; the holder runs again after unlocking (rxe_task.c).
 *	RXE_RUN_RESET: modify_qp moved the QP to RESET; the next part of a
 *	round (under @run_mutex) resets the transport state first.  Atomic
 *	bit operations.
 * @work_lock: protects @work_stopped against concurrent kicks.
 * @work_stopped: destroy has begun; kicks no longer queue @work or
 *	@bulk_work.
 * @req_pkts: received requests for the responder (filled in any context).
 * @resp_pkts: received responses for the completer.
 * @req_wqe: private copy of the send WQE being processed (one SQ slot),
 *	so user space cannot change it under us.  Owned by the @run_mutex
 *	holder.
 * @resp_wqe: private copy of the receive WQE (one RQ/SRQ slot).
 * @req_wqe_size: bytes of @req_wqe.  @resp_wqe_size: bytes of @resp_wqe.
 * @req_psn: next PSN the requester sends.  Owned by the @run_mutex holder
 *	after RTS; modify_qp sets it (SQ_PSN) under @state_lock before it
 *	publishes the new state.
 * @req_psn_end: the PSN after the newest one the requester has sent since
 *	SQ_PSN was set (a rewind moves @req_psn back, never this).  A
 *	response at or beyond it answers nothing that was sent: the
 *	completer drops it.  Same rules as @req_psn, set with it.
 * @src_port: UDP source port of every packet this QP sends; written by
 *	modify_qp like @req_psn, read as a snapshot.
 *
 * RC/UC transport state, all owned by the @run_mutex holder (the work, a
 * doorbell or a chained run) (see rxe_req.c, rxe_comp.c, rxe_resp.c).  A
 * move to RESET does not touch it: modify_qp may not wait for a run (a
 * kernel consumer may call it from a handler the run called), so it sets
 * RXE_RUN_RESET and the next part of a round (completer, responder,
 * requester) resets it first, under @run_mutex; the part that was going
 * may finish the memory access of the packet or WQE it holds, but sends
 * and completes nothing (rxe_qp_reset_transport()).
 * Exceptions: modify_qp writes @resp_psn,
 * @retry_left and @rnr_left (RQ_PSN, RETRY_CNT, RNR_RETRY) under
 * @state_lock before it publishes the new state, so a packet or a run that
 * sees that state sees them too; an SQD to SQD change of the retry counts
 * may race with the transport's decrement (the last writer wins; both
 * values are legal):
 * @sq_meta: PSN range of each SQ slot that has been (partly) sent.
 * @req_next: SQ index of the next WQE to send from (cons <= next <= prod).
 * @req_off: bytes of that WQE already sent.
 * @req_hold: RNR back-off in progress: send nothing until @retry_timer.
 * @retry_timer: retransmission (and RNR back-off) timer; it only kicks.
 * @retry_due: bit 0 set by @retry_timer, consumed by the requester.
 * @retry_left: retries left (7: infinite).  @rnr_left: RNR retries left.
 * @resp_psn: next PSN the responder expects.  @resp_msn: its MSN.
 * @resp_nak_sent: a PSN sequence NAK went out for @resp_psn.
 * @resp_busy: a multi-packet SEND is filling @resp_wqe.
 * @resp_idx: RQ index of that WQE.  @resp_max_sge: its SGE bound.
 * @resp_cur: its current SGE.  @resp_off: offset in it.
 * @resp_len: bytes placed so far.
 * @resp_wr_active: a multi-packet RDMA WRITE is in progress.
 * @resp_va: its next address.  @resp_rkey: its rkey.
 * @resp_left: its bytes still to come.
 * @resp_restart: the first packet of the SEND filling @resp_wqe was
 *	deferred (ODP, see below), or a UC message filling it lost a packet
 *	(rxe_resp_uc_lost()): the WQE is taken but counts as empty, and the
 *	next first packet (the retransmitted one, or UC's next message)
 *	fills it from the start.
 * @resp_ud_held: UD/GSI: @resp_wqe holds a receive WQE taken for a packet
 *	whose placement was deferred; the next packet uses it.
 * @rd_idx: SQ index of the RDMA READ whose responses @rd_next tracks, valid
 *	while @rd_valid.  @rd_next: PSN of the next read response to place.
 * @rd_rewound: a rewind was asked for the gap before @rd_next.
 * @resp_paused: the RDMA READ at the head of @req_pkts stopped half-way
 *	for loopback back-pressure (@xmit_busy); it stays at the head and
 *	goes on from rxe_pkt()->rd_sent.
 * @resp_defers: deferrals in a row of the request at the head of
 *	@req_pkts without progress (a READ that sent responses before its
 *	deferral starts again at 1); past RXE_ODP_MAX_DEFERS an RC
 *	responder answers RNR NAK.
 * @atomic_res: RC responder resources of the last RXE_ATOMIC_RES executed
 *	atomics (PSN and original value), so that a duplicate (its ACK was
 *	lost) is answered with the first result instead of executing twice.
 *	@atomic_res_next: the slot the next atomic overwrites; the newest
 *	entry is the one before it (a PSN seen again after a wrap of the
 *	24-bit PSN space matches its newest execution first).
 * @odp_defer: RXE_DEFER_* bits: that part of the transport met a transient
 *	on-demand-paging failure, left its packet or WQE where it was and
 *	does nothing until @kick_timer clears the bits (set by the work,
 *	cleared by the timer and by rxe_qp_reset_transport(); atomic bit
 *	operations).
 * @kick_timer: ODP back-off timer (rxe_qp_kick_later()): clears
 *	@odp_defer and kicks the work.
 */
struct rxe_qp {
	struct ib_qp ibqp;
	struct kref ref;
	struct completion released;
	u64 serial;

	spinlock_t state_lock; /* see kernel-doc above */
	struct ib_qp_attr attr;

	struct rxe_queue sq;
	struct rxe_queue rq;
	spinlock_t sq_lock; /* see kernel-doc above */
	spinlock_t rq_lock; /* see kernel-doc above */
	struct rxe_cq *scq;
	struct rxe_cq *rcq;
	struct rxe_srq *srq;
	u32 sq_max_sge;
	u32 sq_max_inline;
	u32 rq_max_sge;
	bool sq_sig_all;
	bool is_user;
	struct rxe_av av;
	struct list_head mcast;

	struct work_struct work;
	struct work_struct bulk_work;
	struct mutex run_mutex; /* see kernel-doc above */
	struct rxe_chain *chain; /* see kernel-doc above */
	u8 xmit_busy; /* see kernel-doc above */
	unsigned long run_flags; /* see kernel-doc above */
	spinlock_t work_lock; /* see kernel-doc above */
	bool work_stopped;
	struct sk_buff_head req_pkts;
	struct sk_buff_head resp_pkts;
	void *req_wqe;
	void *resp_wqe;
	size_t req_wqe_size;
	size_t resp_wqe_size;
	u32 req_psn;
	u32 req_psn_end;
	u16 src_port;

	struct rxe_sq_meta *sq_meta;
	u32 req_next;
	u32 req_off;
	bool req_hold;
	struct timer_list retry_timer;
	unsigned long retry_due;
	u8 retry_left;
	u8 rnr_left;
	u32 resp_psn;
	u32 resp_msn;
	bool resp_nak_sent;
	bool resp_busy;
	u32 resp_idx;
	u32 resp_max_sge;
	u32 resp_cur;
	u32 resp_off;
	u32 resp_len;
	bool resp_wr_active;
	u64 resp_va;
	u32 resp_rkey;
	u32 resp_left;
	bool resp_restart;
	bool resp_ud_held;
	u32 rd_idx;
	u32 rd_next;
	bool rd_valid;
	bool rd_rewound;
	bool resp_paused;
	u32 resp_defers;
	struct rxe_atomic_res atomic_res[RXE_ATOMIC_RES];
	unsigned int atomic_res_next;
	unsigned long odp_defer;
	struct timer_list kick_timer;
};

/* Bits of rxe_qp.xmit_busy: whose receive queue is long. */
#define RXE_XMIT_BUSY_PEER	BIT(0)
#define RXE_XMIT_BUSY_SELF	BIT(1)

/* Bits of rxe_qp.odp_defer. */
enum {
	RXE_DEFER_REQ,
	RXE_DEFER_RESP,
	RXE_DEFER_COMP,
};

/*
 * PSNs an SQ slot occupies once sent (RC), kernel private.  @sent: every
 * packet of the WQE went out at least once, so @last_psn is valid and an
 * ACK may retire it even while a rewind is sending it again.  Cleared when
 * the WQE is retired and when the QP is reset.  @rd_atomic: the WQE is an
 * RDMA READ or an atomic; set by the requester when it takes the WQE, so
 * the slots it has gone past say how many of those are outstanding
 * (max_rd_atomic, rxe_req_rd_atomic_room()).
 */
struct rxe_sq_meta {
	u32 first_psn;
	u32 last_psn;
	bool sent;
	bool rd_atomic;
};

/**
 * struct rxe_pkt - what the receive path learned about a packet
 * @opcode: BTH opcode.
 * @ipv6: carried over IPv6 (else IPv4).
 * @loopback: handed over inside the driver, never on a wire.
 * @qpn: BTH destination QP.
 * @psn: BTH PSN.
 * @paylen: payload bytes (headers, pad and ICRC excluded).
 * @chain: loopback from a doorbell run: the chain its destination QP joins
 *	(rxe_task.c).  Only valid inside the sender's rxe_net_xmit().
 * @sender: loopback: the sending QP, whose @xmit_busy the receive path sets
 *	when the destination queue is long.  Only valid inside the sender's
 *	rxe_net_xmit() (cleared before the packet is queued).
 * @rd_sent: RDMA READ request: responses already sent for it while it
 *	waits at the head of the responder's queue (back-pressure or an
 *	on-demand paging deferral), so the READ goes on where it stopped.
 *
 * Lives in skb->cb from validation until the transport frees the skb;
 * skb->data points at the BTH, the network and transport headers are set.
 */
struct rxe_pkt {
	u8 opcode;
	bool ipv6;
	bool loopback;
	u32 qpn;
	struct rxe_chain *chain;
	struct rxe_qp *sender;
	u32 psn;
	u32 paylen;
	u32 rd_sent;
};

static inline struct rxe_pkt *rxe_pkt(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct rxe_pkt) > sizeof(skb->cb));
	return (struct rxe_pkt *)skb->cb;
}

/* Kinds of memory a memory key can describe. */
enum rxe_mr_kind {
	RXE_MR_USER,		/* user memory pinned through ib_umem */
	RXE_MR_DMA,		/* all of kernel memory, iova = kernel VA */
	RXE_MR_FAST_REG,	/* kernel fast registration (alloc_mr) */
	RXE_MR_ODP,		/* user memory paged on demand (kernel-notifier) */
};

/* States of a fast-registration MR or a memory window's key. */
enum rxe_key_state {
	RXE_KEY_INVALID,
	RXE_KEY_FREE,
	RXE_KEY_VALID,
};

/**
 * struct rxe_mr - memory region
 * @ibmr: core object (allocated by us), must be first.
 * @ref: lookups by the transport hold a reference; dereg waits.
 * @released: completed when @ref reaches zero.
 * @kind: what the region describes.
 * @state: whether the key may be used (VALID from registration until
 *	dereg, or for fast-reg MRs between REG_MR and invalidation).
 * @access: IB_ACCESS_* granted.
 * @iova: first I/O virtual address.
 * @length: bytes.
 * @umem: pinned user memory (RXE_MR_USER).
 * @pages: kernel addresses of each page-sized (@page_shift) block, in
 *	order (RXE_MR_USER and RXE_MR_FAST_REG).
 * @npages: entries used in @pages.  @max_pages: entries allocated.
 * @page_shift: log2 of the block size.
 * @page_offset: offset of @iova in the first block.
 * @index: position in rxe_dev.keys.
 * @odp: RXE_MR_ODP: the ODP core region mirroring the owner's memory.
 *	Created at registration, destroyed after the last lookup reference
 *	is gone, so the data path may use it while it holds a reference.
 * @odp_va: RXE_MR_ODP: user virtual address of the byte at @iova.
 * @odp_node: RXE_MR_ODP: entry in rxe_dev.odp_mrs, under odp_mutex.
 */
struct rxe_mr {
	struct ib_mr ibmr;
	struct kref ref;
	struct completion released;
	enum rxe_mr_kind kind;
	enum rxe_key_state state;
	int access;
	u64 iova;
	u64 length;
	struct ib_umem *umem;
	void **pages;
	u32 npages;
	u32 max_pages;
	u32 page_shift;
	u32 page_offset;
	u32 index;
	struct odpc_region *odp;
	u64 odp_va;
	struct list_head odp_node;
};

/**
 * struct rxe_mw - memory window
 * @ibmw: core object, must be first.
 * @ref: lookups by the transport hold a reference; dealloc waits.
 * @released: completed when @ref reaches zero.
 * @lock: protects the binding below.
 * @state: whether the window is bound (VALID) or not (FREE).
 * @mr: the MR it is bound to (a reference is held), or NULL.
 * @qp_serial: for type 2 windows, the serial of the QP it is bound to
 *	(struct rxe_qp.serial; no pointer, which a later QP could reuse),
 *	or 0.
 * @access: remote access granted by the bind.
 * @addr: first address of the bound range.  @length: its bytes.
 * @index: position in rxe_dev.keys.
 */
struct rxe_mw {
	struct ib_mw ibmw;
	struct kref ref;
	struct completion released;
	spinlock_t lock; /* see kernel-doc above */
	enum rxe_key_state state;
	struct rxe_mr *mr;
	u64 qp_serial;
	int access;
	u64 addr;
	u64 length;
	u32 index;
};

/* rxe_main.c */
void rxe_obj_get(struct rxe_dev *rdev, enum rxe_obj_kind kind);
void rxe_obj_put(struct rxe_dev *rdev, enum rxe_obj_kind kind);

/* rxe_device.c: device, port, context and PD verbs */
void rxe_init_device_attr(struct rxe_dev *rdev);
enum ib_port_state rxe_port_state(struct rxe_dev *rdev);
enum ib_mtu rxe_active_mtu(struct rxe_dev *rdev);
extern const struct ib_device_ops rxe_device_ops;

/* rxe_net.c: UDP encapsulation sockets shared by every device */
int rxe_net_init(void);
void rxe_net_debugfs_init(struct dentry *root);
void rxe_resp_debugfs_init(struct dentry *root);
void rxe_net_exit(void);
struct sk_buff *rxe_net_alloc_skb(struct rxe_dev *rdev,
				  const struct rxe_av *av, unsigned int len);
int rxe_net_xmit(struct rxe_dev *rdev, struct rxe_qp *qp,
		 const struct rxe_av *av, struct sk_buff *skb);

/* rxe_recv.c: validation and demultiplexing of received packets */
void rxe_rcv(struct rxe_dev *rdev, struct sk_buff *skb);

/* rxe_task.c: per-QP transport work */
int rxe_task_init(void);
void rxe_task_exit(void);
int rxe_qp_task_init(struct rxe_qp *qp);
void rxe_qp_task_stop(struct rxe_qp *qp);
void rxe_qp_task_cleanup(struct rxe_qp *qp);
bool rxe_qp_requeue(struct rxe_qp *qp, struct sk_buff_head *queue,
		    struct sk_buff *skb);
void rxe_qp_task_attr(struct rxe_qp *qp, const struct ib_qp_attr *attr,
		      int mask, enum ib_qp_state cur, enum ib_qp_state next);
void rxe_qp_task_reset(struct rxe_qp *qp);
void rxe_qp_task_modify(struct rxe_qp *qp, enum ib_qp_state prev,
			enum ib_qp_state next);
/*
 * QPs that a user doorbell runs inline after its own QP: those its
 * loopback packets were queued to, then those theirs were, and so on (a
 * WRITE and its ACK need no worker at all).  On the doorbell's stack; each
 * entry holds a QP reference.
 */
#define RXE_CHAIN_MAX	8
#define RXE_RUN_AGAIN	0	/* bits in rxe_qp.run_flags */
#define RXE_RUN_RESET	1
struct rxe_chain {
	struct rxe_qp *qp[RXE_CHAIN_MAX];
	unsigned int head;	/* next to run */
	unsigned int tail;	/* next free slot */
};

/*
 * A move to RESET is pending for the transport (RXE_RUN_RESET): what the
 * rings hold now belongs to the next connection, so a part still going
 * takes, sends, retires and flushes nothing.  Tested under the ring locks
 * where it guards a ring (modify_qp sets it before it empties them).
 */
static inline bool rxe_qp_resetting(struct rxe_qp *qp)
{
	return test_bit(RXE_RUN_RESET, &qp->run_flags);
}

void rxe_qp_kick(struct rxe_qp *qp);
void rxe_qp_kick_chained(struct rxe_qp *qp, struct rxe_chain *chain);
void rxe_qp_kick_later(struct rxe_qp *qp, int part);
void rxe_qp_run_sync(struct rxe_qp *qp);

/* rxe_req.c, rxe_resp.c: requester and responder; true if more work */
bool rxe_requester(struct rxe_qp *qp);
bool rxe_responder(struct rxe_qp *qp);
bool rxe_completer(struct rxe_qp *qp);
bool rxe_comp_rd_tracks(struct rxe_qp *qp, u32 idx);
void rxe_req_complete(struct rxe_qp *qp, u32 idx,
		      const struct rxe_send_wqe *wqe, enum ib_wc_status status);
void rxe_req_rewind(struct rxe_qp *qp, u32 psn);
bool rxe_req_use_retry(struct rxe_qp *qp);
void rxe_req_arm_timer(struct rxe_qp *qp);
u32 rxe_qp_mtu(struct rxe_qp *qp);
int rxe_qp_av(struct rxe_qp *qp, struct rxe_av *av);
int rxe_sge_skip(const struct rxe_sge *sge, u32 nsge, u32 *cur, u32 *off,
		 u32 skip);
int rxe_sge_copy(struct rxe_qp *qp, const struct rxe_sge *sge, u32 nsge,
		 u32 *cur, u32 *off, void *buf, u32 len, bool to_mem);

/* rxe_counters.c */
extern const struct ib_device_ops rxe_counter_ops;

static inline void rxe_counter_inc(struct rxe_dev *rdev, enum rxe_counter c)
{
	atomic64_inc(&rdev->counters[c]);
}

/* rxe_queue.c: ring mmap */
int rxe_mmap(struct ib_ucontext *ibuc, struct vm_area_struct *vma);
void rxe_mmap_free(struct rdma_user_mmap_entry *e);

/* rxe_cq.c */
extern const struct ib_device_ops rxe_cq_ops;
int rxe_cq_post(struct rxe_cq *cq, const struct ib_wc *wc, bool solicited);

/* rxe_srq.c */
extern const struct ib_device_ops rxe_srq_ops;
int rxe_post_recv_list(struct rxe_queue *q, spinlock_t *lock, u32 max_sge,
		       const struct ib_recv_wr *wr,
		       const struct ib_recv_wr **bad);

/* rxe_ah.c */
extern const struct ib_device_ops rxe_ah_ops;
int rxe_ah_get_av(struct rxe_dev *rdev, u32 ah_num, struct ib_pd *pd,
		  struct rxe_av *av);
int rxe_av_from_attr(struct rxe_dev *rdev, const struct rdma_ah_attr *attr,
		     struct rxe_av *av);
void rxe_av_to_attr(const struct rxe_av *av, struct rdma_ah_attr *attr);

/* rxe_qp.c */
extern const struct ib_device_ops rxe_qp_ops;
struct rxe_qp *rxe_qp_get(struct rxe_dev *rdev, u32 qpn);
void rxe_qp_put(struct rxe_qp *qp);

/*
 * The QP's state as a snapshot, without qp->state_lock: the transport
 * asks several times per packet, and the lock would give no more than a
 * snapshot either (the state may change as soon as it is dropped).  A
 * change that matters is followed by a kick or a flush, so a run that read
 * the old value is followed by one that reads the new.  An acquire load:
 * modify_qp publishes the state with a release store after the PSNs and
 * retry counts that come with it (rxe_qp_task_attr()), so a run that sees
 * RTS also sees them.
 */
static inline enum ib_qp_state rxe_qp_state(const struct rxe_qp *qp)
{
	/* Pairs with the release store in rxe_modify_qp(). */
	return smp_load_acquire(&qp->attr.qp_state);
}

void rxe_qp_flush_sq(struct rxe_qp *qp, bool from_run);
void rxe_qp_set_error(struct rxe_qp *qp);
void rxe_qp_set_fatal(struct rxe_qp *qp);

/* rxe_mcast.c */
extern const struct ib_device_ops rxe_mcast_ops;
void rxe_mcast_detach_all(struct rxe_qp *qp);
int rxe_mcast_get_qps(struct rxe_dev *rdev, const union ib_gid *mgid,
		      struct rxe_qp **qps, int max);

/* rxe_mr.c: memory regions and windows */
extern const struct ib_device_ops rxe_mr_ops;
struct rxe_mr *rxe_mr_lookup(struct rxe_dev *rdev, u32 key, struct ib_pd *pd,
			     int access, bool remote);
void rxe_mr_put(struct rxe_mr *mr);
int rxe_mr_check_range(struct rxe_mr *mr, u64 iova, u64 len);
int rxe_mr_copy(struct rxe_mr *mr, u64 iova, void *buf, u64 len, bool to_mr);
int rxe_mr_atomic64(struct rxe_mr *mr, u64 iova, bool cmp_swap, u64 compare,
		    u64 swap_add, u64 *orig);

/* rxe_odp.c: on-demand-paging MRs over the ODP core */
extern const struct ib_device_ops rxe_odp_ops;
void rxe_odp_init_caps(struct ib_device_attr *a);
void rxe_odp_debugfs_init(struct dentry *root);
int rxe_odp_mr_init(struct rxe_mr *mr, u64 start, u64 length, u64 iova);
void rxe_odp_mr_publish(struct rxe_dev *rdev, struct rxe_mr *mr);
void rxe_odp_mr_release(struct rxe_dev *rdev, struct rxe_mr *mr);
void rxe_mr_odp_totals(struct rxe_dev *rdev, u64 *out);
int rxe_odp_copy(struct rxe_mr *mr, u64 iova, void *buf, u64 len, bool to_mr);
int rxe_odp_atomic64(struct rxe_mr *mr, u64 iova, bool cmp_swap, u64 compare,
		     u64 swap_add, u64 *orig);
int rxe_mr_fast_reg(struct rxe_qp *qp, struct ib_mr *ibmr, u32 key, int access);
struct rxe_mr *rxe_mr_from_rkey(struct rxe_dev *rdev, struct rxe_qp *qp,
				u32 rkey, u64 iova, u64 len, int access,
				u64 *mr_iova);
int rxe_invalidate_key(struct rxe_dev *rdev, struct rxe_qp *qp, u32 key,
		       bool remote);
struct rxe_mw *rxe_mw_lookup(struct rxe_dev *rdev, u32 rkey, struct ib_pd *pd);
void rxe_mw_put(struct rxe_mw *mw);
int rxe_mw_bind(struct rxe_dev *rdev, struct rxe_qp *qp, u32 mw_rkey,
		u32 new_rkey, u32 mr_lkey, u64 addr, u64 length, int access);

static inline struct rxe_ucontext *to_ruc(struct ib_ucontext *uc)
{
	return container_of(uc, struct rxe_ucontext, ibuc);
}

static inline struct rxe_pd *to_rpd(struct ib_pd *pd)
{
	return container_of(pd, struct rxe_pd, ibpd);
}

static inline struct rxe_ah *to_rah(struct ib_ah *ah)
{
	return container_of(ah, struct rxe_ah, ibah);
}

static inline struct rxe_cq *to_rcq(struct ib_cq *cq)
{
	return container_of(cq, struct rxe_cq, ibcq);
}

static inline struct rxe_srq *to_rsrq(struct ib_srq *srq)
{
	return container_of(srq, struct rxe_srq, ibsrq);
}

static inline struct rxe_qp *to_rqp(struct ib_qp *qp)
{
	return container_of(qp, struct rxe_qp, ibqp);
}

static inline struct rxe_mr *to_rmr(struct ib_mr *mr)
{
	return container_of(mr, struct rxe_mr, ibmr);
}

static inline struct rxe_mw *to_rmw(struct ib_mw *mw)
{
	return container_of(mw, struct rxe_mw, ibmw);
}

#endif /* RXE_ODP_H */
