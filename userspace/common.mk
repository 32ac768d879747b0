# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The shared part of the verbs programs' Makefiles.  A Makefile sets PROGS,
# includes this file, then names each program's sources as its
# prerequisites: the .c files among them are compiled and linked into the
# program, headers only trigger rebuilds.  Dynamically linked: the test
# guest has the same libibverbs (rdma-core 44) as the build host.

CC ?= gcc
CFLAGS ?= -O2 -g
override CFLAGS += -Wall -Wextra -Werror
LDLIBS := -libverbs

all: $(PROGS)

$(PROGS):
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)

clean:
	rm -f $(PROGS)

.PHONY: all clean
