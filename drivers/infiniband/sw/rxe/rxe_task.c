// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: the per-QP execution context.
 *
 * Everything a QP does that touches memory (building packets from send
 * WQEs, placing received payloads, writing completions) runs in process
 * context, so that an on-demand paging fault may sleep: either in the
 * QP's work items (on rxe_wq and rxe_wq_bulk), or inline in a user's SQ
 * doorbell (a post_send system call), as stock rxe runs its requester
 * there too.  The UDP receive hook and kernel verbs only queue and kick.
 *
 * Serialisation: whoever runs the transport holds qp->run_mutex, so the
 * requester, responder and completer of a QP never run twice at once.
 * Only a doorbell waits for the mutex (for its own QP); a worker or a
 * chained run that finds it taken sets RXE_RUN_AGAIN and leaves, and the
 * holder runs once more after it unlocks, so no request is lost and nobody
 * sleeps on another's run.  A kick queues the work unless it is already
 * pending.
 *
 * Both workqueues are WQ_MEM_RECLAIM because storage and swap can sit on
 * top of RDMA (NVMe-oF, NFS/RDMA); nothing here ever flushes either as a
 * whole, only cancels one QP's work items from destroy_qp, which runs in
 * process context and never on either workqueue.  rxe_wq is per-CPU, not
 * unbound: work kicked from a doorbell or a loopback delivery then runs on
 * the CPU that kicked it instead of waking an idle one (an unbound pool
 * picks the idle CPU; under TCG that hand-off cost about 1 ms per message,
 * see make bench).
 * Work items may sleep in ODP faults: the pool then starts another worker.
 * A long run leaves the rest to the QP's bulk_work on the unbound
 * rxe_wq_bulk after RXE_WORK_BUDGET rounds, so that QPs with a backlog
 * share every CPU (see rxe_qp_kick_bulk()).
 *
 * Loopback back-pressure: a run whose loopback packets leave a
 * destination queue RXE_LOOPBACK_BUSY_PKTS long (qp->xmit_busy) ends
 * after the current round and puts itself behind that destination: on
 * the doorbell's chain, or on rxe_wq, where the destination's work was
 * queued first on the same CPU (or, if the destination's run had used up
 * its budget, runs on rxe_wq_bulk alongside).  A long RDMA READ stops
 * half-way for this (rxe_resp.c).  Packets from the wire have no such
 * brake; the queue limit (RXE_MAX_QUEUED_PKTS) drops them as a full NIC
 * buffer would.
 *
 * Lifetime: rxe_qp_task_stop() (first step of destroy_qp) sets
 * work_stopped under work_lock, after which rxe_qp_kick() queues nothing
 * and no doorbell chain runs the QP, then cancels both work items and
 * waits for a running instance and for a chain run (through run_mutex).
 * Receive-path lookups that raced with it may still queue packets until
 * destroy_qp has waited for the last QP reference; rxe_qp_task_cleanup()
 * purges them.
 */
#include <linux/hash.h>
#include <linux/slab.h>

#include "rxe.h"
#include "rxe_wire.h"

static struct workqueue_struct *rxe_wq;
/*
 * A run that used up its budget continues here, unbound: QPs with a long
 * backlog then share every CPU through the scheduler instead of staying on
 * the CPU that first kicked them (there, with three streams on two CPUs,
 * one stream had a CPU to itself and the CPU went idle once it finished).
 */
static struct workqueue_struct *rxe_wq_bulk;

/* Rounds per run before the rest goes to rxe_wq_bulk, for fairness. */
#define RXE_WORK_BUDGET	64
/* Reruns a holder does for others before handing them to rxe_wq. */
#define RXE_RERUNS	4

int rxe_task_init(void)
{
	rxe_wq = alloc_workqueue("rxe_odp", WQ_MEM_RECLAIM, 0);
	if (!rxe_wq)
		return -ENOMEM;
	rxe_wq_bulk = alloc_workqueue("rxe_odp_bulk",
				      WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!rxe_wq_bulk) {
		destroy_workqueue(rxe_wq);
		return -ENOMEM;
	}
	return 0;
}

void rxe_task_exit(void)
{
	/* Every QP is gone (devices are unregistered first). */
	destroy_workqueue(rxe_wq_bulk);
	destroy_workqueue(rxe_wq);
}

/* Queue @work on @wq unless destroy has begun.  Any context. */
static void rxe_qp_queue(struct rxe_qp *qp, struct workqueue_struct *wq,
			 struct work_struct *work)
{
	unsigned long flags;

	spin_lock_irqsave(&qp->work_lock, flags);
	if (!qp->work_stopped)
		queue_work(wq, work);
	spin_unlock_irqrestore(&qp->work_lock, flags);
}

/**
 * rxe_qp_kick() - make sure the QP's work runs (again)
 * @qp: the QP
 *
 * Any context.  Does nothing once destroy has begun.
 */
void rxe_qp_kick(struct rxe_qp *qp)
{
	rxe_qp_queue(qp, rxe_wq, &qp->work);
}

/*
 * Queue the rest of a run that used up its budget on rxe_wq_bulk.  It is a
 * work item of its own (@bulk_work), so each item stays on one workqueue
 * and cancel_work_sync() in rxe_qp_task_stop() waits for every instance;
 * both items only try run_mutex (rxe_qp_try_run()), so two runs never
 * overlap and neither waits for the other.
 */
static void rxe_qp_kick_bulk(struct rxe_qp *qp)
{
	rxe_qp_queue(qp, rxe_wq_bulk, &qp->bulk_work);
}

/*
 * The transport state a QP starts from after RESET (RXE_RUN_RESET, set by
 * rxe_qp_task_modify()).  Called with run_mutex held before each part of
 * a round (rxe_qp_run()), so no part is half-way through the state it
 * clears.  A part that was going when modify_qp moved the QP to RESET
 * may finish the memory access of the one packet or WQE it holds (as a
 * NIC does that is reset mid-packet), but sends and completes nothing:
 * rxe_net_xmit() and the SQ/RQ retire test the bit, which stays set until
 * this reset clears it.  The parts after it reset first.  The
 * fields modify_qp owns (PSNs, retry counts) are loaded again from
 * qp->attr, over anything such a stale part wrote: no part has run on the
 * new state yet, so those are the values it has to start from.
 */
static void rxe_qp_reset_transport(struct rxe_qp *qp)
{
	unsigned long flags;

	if (!test_and_clear_bit(RXE_RUN_RESET, &qp->run_flags))
		return;
	/*
	 * The stale part may have armed them again; _sync so that a
	 * callback already running cannot set its bit after ours clear.
	 * Process context, and the callbacks never take run_mutex.
	 */
	del_timer_sync(&qp->retry_timer);
	del_timer_sync(&qp->kick_timer);
	if (qp->sq_meta)
		memset(qp->sq_meta, 0, (qp->sq.index_mask + 1) *
		       sizeof(*qp->sq_meta));
	qp->req_next = qp->sq.cons;
	qp->req_off = 0;
	qp->req_hold = false;
	clear_bit(0, &qp->retry_due);
	qp->resp_msn = 0;
	qp->resp_nak_sent = false;
	qp->resp_busy = false;
	qp->resp_wr_active = false;
	qp->resp_restart = false;
	qp->resp_ud_held = false;
	qp->resp_paused = false;
	qp->resp_defers = 0;
	memset(qp->atomic_res, 0, sizeof(qp->atomic_res));
	qp->atomic_res_next = 0;
	qp->rd_valid = false;
	qp->rd_rewound = false;
	clear_bit(RXE_DEFER_REQ, &qp->odp_defer);
	clear_bit(RXE_DEFER_RESP, &qp->odp_defer);
	clear_bit(RXE_DEFER_COMP, &qp->odp_defer);
	spin_lock_irqsave(&qp->state_lock, flags);
	WRITE_ONCE(qp->req_psn, qp->attr.sq_psn & RXE_PSN_MASK);
	qp->req_psn_end = qp->req_psn;
	WRITE_ONCE(qp->resp_psn, qp->attr.rq_psn & RXE_PSN_MASK);
	WRITE_ONCE(qp->retry_left, qp->attr.retry_cnt);
	WRITE_ONCE(qp->rnr_left, qp->attr.rnr_retry);
	spin_unlock_irqrestore(&qp->state_lock, flags);
}

static inline void rxe_qp_reset_pending(struct rxe_qp *qp)
{
	if (unlikely(rxe_qp_resetting(qp)))
		rxe_qp_reset_transport(qp);
}

/**
 * rxe_qp_requeue() - put a packet a part could not finish back at the head
 * @qp: the QP
 * @queue: &qp->req_pkts or &qp->resp_pkts
 * @skb: the packet
 *
 * With run_mutex held.  A packet dequeued before a move to RESET is freed
 * instead: modify_qp sets RXE_RUN_RESET before it purges the queues, and
 * both the purge and this test hold the queue's lock, so a packet of the
 * old connection is either purged or never put back.
 *
 * Return: true if @skb is queued again.
 */
bool rxe_qp_requeue(struct rxe_qp *qp, struct sk_buff_head *queue,
		    struct sk_buff *skb)
{
	unsigned long flags;
	bool stale;

	spin_lock_irqsave(&queue->lock, flags);
	stale = rxe_qp_resetting(qp);
	if (!stale)
		__skb_queue_head(queue, skb);
	spin_unlock_irqrestore(&queue->lock, flags);
	if (stale)
		kfree_skb(skb);
	return !stale;
}

/*
 * One run of the transport: up to RXE_WORK_BUDGET rounds of completer,
 * responder and requester; then, if work is left, the rest goes to
 * rxe_wq_bulk so other QPs get their turn.  Called with qp->run_mutex held.
 */
static void rxe_qp_run(struct rxe_qp *qp)
{
	bool more, peer;
	int i;

	lockdep_assert_held(&qp->run_mutex);
	for (i = 0; i < RXE_WORK_BUDGET; i++) {
		rxe_qp_reset_pending(qp);
		more = rxe_completer(qp);
		rxe_qp_reset_pending(qp);
		more |= rxe_responder(qp);
		rxe_qp_reset_pending(qp);
		more |= rxe_requester(qp);
		if (unlikely(qp->xmit_busy)) {
			peer = qp->xmit_busy & RXE_XMIT_BUSY_PEER;
			qp->xmit_busy = 0;
			/*
			 * Another QP's loopback queue is long: let it run
			 * first (it is on the chain, queued on this CPU's
			 * rxe_wq pool, or running from rxe_wq_bulk), then go
			 * on.  Our own: the next rounds drain it before
			 * sending more.
			 */
			if (peer) {
				if (more)
					rxe_qp_kick_chained(qp, qp->chain);
				return;
			}
		}
		if (!more)
			return;
	}
	rxe_qp_kick_bulk(qp);
}

/*
 * Run the transport with qp->run_mutex held (the caller took it), release
 * the mutex, and run again for whoever asked meanwhile (RXE_RUN_AGAIN):
 * a run that could not take the mutex leaves its work to the holder
 * instead of waiting for it, so nobody ever sleeps on another's run.
 * After RXE_RERUNS reruns the rest goes to rxe_wq.
 */
static void rxe_qp_run_locked(struct rxe_qp *qp, struct rxe_chain *chain)
{
	int reruns = 0;

	for (;;) {
		clear_bit(RXE_RUN_AGAIN, &qp->run_flags);
		smp_mb__after_atomic();	/* the clear before the run reads */
		if (!READ_ONCE(qp->work_stopped)) {
			qp->chain = chain;
			rxe_qp_run(qp);
			qp->chain = NULL;
		}
		mutex_unlock(&qp->run_mutex);
		/* The unlock before the test: pairs with rxe_qp_try_run(). */
		smp_mb();
		if (!test_bit(RXE_RUN_AGAIN, &qp->run_flags))
			return;
		if (++reruns > RXE_RERUNS) {
			rxe_qp_kick(qp);
			return;
		}
		if (!mutex_trylock(&qp->run_mutex))
			return;	/* the new holder runs it again */
	}
}

/*
 * Run the transport here, or, if it is running elsewhere, make that run
 * go round once more.  Process context (mutex_trylock).
 */
static void rxe_qp_try_run(struct rxe_qp *qp, struct rxe_chain *chain)
{
	set_bit(RXE_RUN_AGAIN, &qp->run_flags);
	/* The request before the test of the mutex: pairs with the above. */
	smp_mb__after_atomic();
	if (mutex_trylock(&qp->run_mutex))
		rxe_qp_run_locked(qp, chain);
}

/**
 * rxe_qp_kick_chained() - kick a QP a loopback packet was queued to
 * @qp: the destination QP; the caller holds a reference
 * @chain: the sending doorbell's chain (rxe_pkt()->chain), or NULL
 *
 * With a chain, @qp runs inline in that doorbell after the QPs before it
 * (it holds a reference until then); without one, or when the chain is
 * full, this is rxe_qp_kick().  Any context.
 */
void rxe_qp_kick_chained(struct rxe_qp *qp, struct rxe_chain *chain)
{
	unsigned int i;

	if (chain) {
		for (i = chain->head; i < chain->tail; i++)
			if (chain->qp[i] == qp)
				return;	/* runs anyway, later in this chain */
		if (chain->tail < RXE_CHAIN_MAX) {
			kref_get(&qp->ref);
			chain->qp[chain->tail++] = qp;
			return;
		}
	}
	rxe_qp_kick(qp);
}

/**
 * rxe_qp_run_sync() - run the QP's transport in the caller's context
 * @qp: the QP
 *
 * For the user SQ doorbell only (a system call in process context that
 * holds no lock the transport could need).  Runs the requester (and
 * whatever else the QP has pending) before post_send returns, as stock rxe
 * does: there is no hand-off to a worker on the small-message path, and a
 * UD send's completion is in the CQ when post_send returns (applications,
 * pyverbs' CQ resize test among them, rely on that).  Waits for a run in
 * progress elsewhere first.
 *
 * Loopback packets sent meanwhile put their destination QPs on a chain,
 * and those run here too, one after the other (never nested, so no two
 * run mutexes are held at once), as do the QPs their packets go to, up to
 * RXE_CHAIN_MAX: a loopback WRITE, its ACK and the completion then need no
 * worker.  A chained QP whose transport is running elsewhere is run once
 * more by that holder.  ODP faults in a chained QP go to that QP's own
 * address space (the region's mm), never to the caller's.
 *
 * Never call it from a workqueue, from a kernel verbs caller (they may hold
 * spinlocks) or with a spinlock held.
 */
void rxe_qp_run_sync(struct rxe_qp *qp)
{
	struct rxe_chain chain = { };
	struct rxe_qp *next;

	if (READ_ONCE(qp->work_stopped))
		return;
	mutex_lock(&qp->run_mutex);
	rxe_qp_run_locked(qp, &chain);

	while (chain.head < chain.tail) {
		next = chain.qp[chain.head++];
		rxe_qp_try_run(next, &chain);
		rxe_qp_put(next);
	}
}

static void rxe_qp_work(struct work_struct *work)
{
	rxe_qp_try_run(container_of(work, struct rxe_qp, work), NULL);
}

static void rxe_qp_bulk_work(struct work_struct *work)
{
	rxe_qp_try_run(container_of(work, struct rxe_qp, bulk_work), NULL);
}

static void rxe_retry_timer_fn(struct timer_list *t)
{
	struct rxe_qp *qp = from_timer(qp, t, retry_timer);

	set_bit(0, &qp->retry_due);
	rxe_qp_kick(qp);
}

static void rxe_kick_timer_fn(struct timer_list *t)
{
	struct rxe_qp *qp = from_timer(qp, t, kick_timer);

	clear_bit(RXE_DEFER_REQ, &qp->odp_defer);
	clear_bit(RXE_DEFER_RESP, &qp->odp_defer);
	clear_bit(RXE_DEFER_COMP, &qp->odp_defer);
	rxe_qp_kick(qp);
}

/**
 * rxe_qp_kick_later() - pause one direction of a QP for a short back-off
 * @qp: the QP
 * @part: RXE_DEFER_REQ, RXE_DEFER_RESP or RXE_DEFER_COMP
 *
 * For work that met a transient on-demand-paging failure (an invalidation
 * storm, memory pressure).  Rather than sleep in the work item, which
 * would also hold up the QP's other directions and a user doorbell
 * waiting in rxe_qp_run_sync(), that part leaves its packet or WQE where
 * it is and does nothing until the back-off timer (RXE_ODP_BACKOFF_MS)
 * clears its bit and kicks the work.  A pending back-off is not pushed
 * further out.  Called from the QP's work.
 */
void rxe_qp_kick_later(struct rxe_qp *qp, int part)
{
	rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_ODP_DEFERRED);
	set_bit(part, &qp->odp_defer);
	if (!timer_pending(&qp->kick_timer))
		mod_timer(&qp->kick_timer, jiffies +
			  max(1UL, msecs_to_jiffies(RXE_ODP_BACKOFF_MS)));
}

/**
 * rxe_qp_task_init() - set up a new QP's transport
 * @qp: the QP, whose rings already exist
 *
 * Return: 0 or -ENOMEM.
 */
int rxe_qp_task_init(struct rxe_qp *qp)
{
	INIT_WORK(&qp->work, rxe_qp_work);
	INIT_WORK(&qp->bulk_work, rxe_qp_bulk_work);
	mutex_init(&qp->run_mutex);
	qp->chain = NULL;
	qp->run_flags = 0;
	spin_lock_init(&qp->work_lock);
	qp->work_stopped = false;
	skb_queue_head_init(&qp->req_pkts);
	skb_queue_head_init(&qp->resp_pkts);
	timer_setup(&qp->retry_timer, rxe_retry_timer_fn, 0);
	timer_setup(&qp->kick_timer, rxe_kick_timer_fn, 0);

	if (qp->sq.buf) {
		qp->sq_meta = kcalloc(qp->sq.index_mask + 1,
				      sizeof(*qp->sq_meta), GFP_KERNEL);
		if (!qp->sq_meta)
			return -ENOMEM;
	}
	qp->req_wqe_size = qp->sq.buf ? 1UL << qp->sq.log2_elem : 0;
	if (qp->srq)
		qp->resp_wqe_size = 1UL << qp->srq->rq.log2_elem;
	else
		qp->resp_wqe_size = qp->rq.buf ? 1UL << qp->rq.log2_elem : 0;
	/* A resized SRQ may get larger slots: leave room for the maximum. */
	if (qp->srq)
		qp->resp_wqe_size = max_t(size_t, qp->resp_wqe_size,
					  sizeof(struct rxe_recv_wqe) +
					  RXE_MAX_SRQ_SGE *
					  sizeof(struct rxe_sge));
	if (qp->req_wqe_size) {
		qp->req_wqe = kzalloc(qp->req_wqe_size, GFP_KERNEL);
		if (!qp->req_wqe) {
			kfree(qp->sq_meta);
			qp->sq_meta = NULL;
			return -ENOMEM;
		}
	}
	if (qp->resp_wqe_size) {
		qp->resp_wqe = kzalloc(qp->resp_wqe_size, GFP_KERNEL);
		if (!qp->resp_wqe) {
			kfree(qp->req_wqe);
			qp->req_wqe = NULL;
			kfree(qp->sq_meta);
			qp->sq_meta = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

/**
 * rxe_qp_task_stop() - stop a QP's work for good (destroy_qp)
 * @qp: the QP
 *
 * Process context; must not be called from rxe_wq or rxe_wq_bulk.
 */
void rxe_qp_task_stop(struct rxe_qp *qp)
{
	unsigned long flags;

	spin_lock_irqsave(&qp->work_lock, flags);
	qp->work_stopped = true;
	spin_unlock_irqrestore(&qp->work_lock, flags);
	/* The work may arm the timers; they only kick (refused now). */
	cancel_work_sync(&qp->work);
	cancel_work_sync(&qp->bulk_work);
	/* Wait for a doorbell's chain running this QP inline. */
	mutex_lock(&qp->run_mutex);
	mutex_unlock(&qp->run_mutex);
	del_timer_sync(&qp->retry_timer);
	del_timer_sync(&qp->kick_timer);
	skb_queue_purge(&qp->req_pkts);
	skb_queue_purge(&qp->resp_pkts);
}

/**
 * rxe_qp_task_cleanup() - free what the transport of a dead QP holds
 * @qp: the QP; its work is stopped (or never ran) and no lookup holds it
 */
void rxe_qp_task_cleanup(struct rxe_qp *qp)
{
	skb_queue_purge(&qp->req_pkts);
	skb_queue_purge(&qp->resp_pkts);
	kfree(qp->req_wqe);
	qp->req_wqe = NULL;
	kfree(qp->resp_wqe);
	qp->resp_wqe = NULL;
	kfree(qp->sq_meta);
	qp->sq_meta = NULL;
	mutex_destroy(&qp->run_mutex);
}

/**
 * rxe_qp_task_attr() - transport fields a modify_qp sets
 * @qp: the QP
 * @attr: the attributes given
 * @mask: which of them
 * @cur: state before
 * @next: state after
 *
 * Called by modify_qp with qp->state_lock held, after the checks passed
 * and before the new state is published: a packet that finds the QP in
 * RTR (rxe_rcv_qp() reads the state under that lock) or a run that finds
 * it in RTS then also sees the PSNs, retry counts and source port that
 * came with that state.
 */
void rxe_qp_task_attr(struct rxe_qp *qp, const struct ib_qp_attr *attr,
		      int mask, enum ib_qp_state cur, enum ib_qp_state next)
{
	u32 qpn = qp->ibqp.qp_num;

	lockdep_assert_held(&qp->state_lock);
	if (mask & IB_QP_SQ_PSN) {
		WRITE_ONCE(qp->req_psn, attr->sq_psn & RXE_PSN_MASK);
		qp->req_psn_end = qp->req_psn;
	}
	if (cur == IB_QPS_RESET && next != IB_QPS_RESET)
		/* Stock's choice, so captures look alike. */
		WRITE_ONCE(qp->src_port,
			   0xc000 + (hash_32(qpn, 14) & 0x3fff));
	if (mask & IB_QP_AV)
		WRITE_ONCE(qp->src_port,
			   rdma_get_udp_sport(attr->ah_attr.grh.flow_label,
					      qpn, qp->attr.dest_qp_num));
	if (mask & IB_QP_RQ_PSN)
		WRITE_ONCE(qp->resp_psn, attr->rq_psn & RXE_PSN_MASK);
	if (mask & IB_QP_RETRY_CNT)
		WRITE_ONCE(qp->retry_left, attr->retry_cnt);
	if (mask & IB_QP_RNR_RETRY)
		WRITE_ONCE(qp->rnr_left, attr->rnr_retry);
}

/**
 * rxe_qp_task_reset() - ask for the transport state to be reset
 * @qp: the QP, just moved to RESET from another state
 *
 * Called by modify_qp under state_lock, after it published RESET and
 * before it empties the rings and purges the packet queues.  Only sets
 * RXE_RUN_RESET: the run that may be going on elsewhere owns the
 * transport state, and waiting for that run here could deadlock (a kernel
 * consumer may modify the QP from a completion handler the run called).
 * The reset is done before the next part (completer, responder,
 * requester) of any run looks at a packet or WQE; the part that was going
 * may finish the memory access of the one it holds, but takes, sends and
 * completes nothing more: the transmit, the WQE copy-outs and the retires
 * test the bit, the last two under the ring locks the emptying takes too
 * (rxe_qp_reset_transport()).  Set after the state, so a part that starts
 * in between already sees RESET and does nothing after its reset.
 */
void rxe_qp_task_reset(struct rxe_qp *qp)
{
	set_bit(RXE_RUN_RESET, &qp->run_flags);
}

/**
 * rxe_qp_task_modify() - follow a successful modify_qp
 * @qp: the QP
 * @prev: state before
 * @next: state after
 *
 * Called after the state lock is dropped and the rings flushed (ERR) or
 * emptied (RESET, after rxe_qp_task_reset()).  The QP cannot leave RESET
 * without another modify_qp, after which the first packet or post runs
 * the transport.
 */
void rxe_qp_task_modify(struct rxe_qp *qp, enum ib_qp_state prev,
			enum ib_qp_state next)
{
	if (next == IB_QPS_RESET && prev != IB_QPS_RESET) {
		/* Nothing to time in RESET; the reset stops them again. */
		del_timer(&qp->retry_timer);
		del_timer(&qp->kick_timer);
	}
	if (next == IB_QPS_RESET || next == IB_QPS_ERR) {
		skb_queue_purge(&qp->req_pkts);
		skb_queue_purge(&qp->resp_pkts);
	}
	if (next == IB_QPS_RTS || next == IB_QPS_ERR)
		rxe_qp_kick(qp);
}
