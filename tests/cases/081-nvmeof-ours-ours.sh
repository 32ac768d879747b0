#!/bin/bash
# NVMe over Fabrics (RDMA) across two guests, our driver on both: nvmet
# target on a with the nvme-rdma host on b, then the reverse.  64 MiB
# O_DIRECT write-then-read verify, the target's ramdisk checked by sha256,
# 4 KiB commands, a buffered pass; disconnect, teardown, clean unload.
# topology: two
# impl-a: ours
# impl-b: ours
# timeout: 1500
. "$TESTS/lib/nvmeof-pair.sh"
