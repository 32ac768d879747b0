#!/bin/bash
# rdma_cm between our driver (guest a) and the in-tree rdma_rxe (guest b):
# rping -V (RDMA READ and WRITE, data verified), ucmatose (RC), udaddy (UD)
# and perftest -R (ib_send_bw, ib_read_bw), each with the server on either
# guest; CM MADs on QP1 cross the wire both ways.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 1200
. "$TESTS/lib/cm-pair.sh"
