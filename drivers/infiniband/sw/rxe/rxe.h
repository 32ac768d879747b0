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

#include "rxe_param.h"

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

/**
 * struct rxe_dev - one Soft-RoCE device bound to one netdev
 * @ib_dev: the IB core's device; must stay the first member because the
 *	core allocates the whole structure (ib_alloc_device()).
 * @ndev: the Ethernet netdev we transmit on.  Held (@ndev_tracker) from
 *	creation until dealloc_driver, so it is valid whenever an op runs.
 * @ndev_tracker: reference tracker for @ndev.
 * @attr: device attributes, filled once at creation and read-only after.
 * @port_lock: protects @port_cap_flags.
 * @port_cap_flags: IB port capability mask (modify_port can change it).
 * @port_state: last port state reported to the core, for event dedup.
 *	Written only from the netdev notifier, which runs under RTNL.
 * @nobj: live objects of each kind, see enum rxe_obj_kind.
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
};

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
void rxe_net_exit(void);

/* rxe_pending.c: object verbs that later work fills in */
extern const struct ib_device_ops rxe_pending_ops;

#endif /* RXE_ODP_H */
