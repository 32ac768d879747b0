#!/bin/bash
# NVMe over Fabrics (RDMA) between our driver (guest a) and the in-tree
# rdma_rxe (guest b): target on ours with the host on stock, then target
# on stock with the host on ours.  64 MiB O_DIRECT write-then-read verify,
# the target's ramdisk checked by sha256, 4 KiB commands, a buffered pass;
# disconnect, teardown, clean unload.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 1500
. "$TESTS/lib/nvmeof-pair.sh"
