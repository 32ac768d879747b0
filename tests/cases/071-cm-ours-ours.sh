#!/bin/bash
# rdma_cm across two guests, both running our driver: rping -V (RDMA READ
# and WRITE, data verified), ucmatose (RC), udaddy (UD) and perftest -R
# (ib_send_bw, ib_read_bw), each with the server on either guest.  The
# connection setup crosses the wire as CM MADs on QP1.
# topology: two
# impl-a: ours
# impl-b: ours
# timeout: 1200
. "$TESTS/lib/cm-pair.sh"
