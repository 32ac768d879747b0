# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# rxe-odp: Soft-RoCE with on-demand paging, as out-of-tree modules.
#
#   make                 build rdma_rxe.ko and the ODP core modules
#   make demo            the main job in a QEMU guest (see README.md)
#   make check           every static check and every guest test
#   make check-debug     the guest tests on a KASAN/lockdep/kmemleak kernel
#   make shell           a guest shell with our modules loaded
#   make bench           perftest, stock rdma_rxe vs ours, in one guest
#   make install         install into /lib/modules/$(KVER)/updates
#
# KDIR picks the kernel to build against.  Default: the running kernel's
# build tree if it has one, else Debian 12's current 6.1 ABI (resolved from
# the archive, headers installed on demand).  The guest targets always use
# the Debian ABI the guest boots.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

KABI = $(shell $(ROOT)/tests/lib/kabi.sh)
GUEST_KDIR = /usr/src/linux-headers-$(KABI)

ifeq ($(origin KDIR),undefined)
  ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
    KDIR := /lib/modules/$(shell uname -r)/build
  else
    KDIR = $(GUEST_KDIR)
  endif
endif

KBUILD = $(MAKE) -C $(KDIR) M=$(ROOT)

.PHONY: all modules deps strict sparse checkpatch lint userspace unit \
	check check-debug demo shell bench install clean help

all: modules

help:
	@sed -n '3,17p' $(ROOT)/Makefile | sed 's/^# \{0,1\}//'

deps:
	@$(ROOT)/scripts/deps.sh

# Rebuild from scratch when the target kernel changes.
modules: deps
	@$(ROOT)/scripts/kdir-stamp.sh "$(KDIR)"
	$(KBUILD) modules

# What CI holds kernel C to: W=1 with warnings as errors, sparse, checkpatch.
strict: deps
	@$(ROOT)/scripts/kdir-stamp.sh "$(KDIR)"
	$(KBUILD) W=1 KCFLAGS=-Werror modules

sparse: deps
	@$(ROOT)/scripts/sparse.sh "$(KDIR)"

checkpatch:
	@$(ROOT)/scripts/checkpatch.sh

lint: strict sparse checkpatch

userspace: deps
	$(MAKE) -C $(ROOT)/userspace

# Pure logic (wire format, ICRC, PSN arithmetic) also builds in userspace,
# where its unit tests run under ASan/UBSan in milliseconds.
unit:
	$(MAKE) -C $(ROOT)/tests/unit run

demo:
	$(MAKE) KDIR=$(GUEST_KDIR) modules userspace
	$(ROOT)/tests/run $(ROOT)/tests/demo/demo.sh

check:
	$(MAKE) KDIR=$(GUEST_KDIR) lint userspace unit
	$(ROOT)/tests/run

check-debug:
	$(ROOT)/scripts/check-debug.sh

shell:
	$(MAKE) KDIR=$(GUEST_KDIR) modules userspace
	$(ROOT)/tests/run --shell

bench:
	$(MAKE) KDIR=$(GUEST_KDIR) modules
	$(ROOT)/scripts/bench.sh

# INSTALL_MOD_PATH (a staging root) is honoured by both steps.  The
# modules are not signed (distribution keys are not ours); the kernel
# loads them tainted unless it enforces signatures.  The release comes from
# the module's vermagic: Debian's header tree reports its upstream version.
RXE_KO = $(ROOT)/drivers/infiniband/sw/rxe/rdma_rxe.ko
install: modules
	$(KBUILD) INSTALL_MOD_DIR=updates CONFIG_MODULE_SIG_ALL= modules_install
	depmod -b "$(or $(INSTALL_MOD_PATH),/)" -a \
		$$(modinfo -F vermagic $(RXE_KO) | cut -d' ' -f1)

# Not "$(KBUILD) clean": that deletes every *.ko under the repository,
# the guest cache's kernel modules included (see scripts/kdir-stamp.sh).
clean:
	@$(ROOT)/scripts/kdir-stamp.sh --clean
	-$(MAKE) -C $(ROOT)/userspace clean
	-$(MAKE) -C $(ROOT)/tests/unit clean
