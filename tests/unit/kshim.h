/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe-odp unit tests: the few kernel facilities the driver's pure-logic
 * files (rxe_wire.h, rxe_opcode.c, rxe_icrc.c) use, for a user-space
 * build.  rxe_wire.h includes this instead of kernel headers when
 * __KERNEL__ is not defined.
 */
#ifndef RXE_KSHIM_H
#define RXE_KSHIM_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/types.h>	/* __be32 and friends (UAPI) */

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#ifndef __force
#define __force
#endif

#define BIT(n)		(1UL << (n))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Byte-at-a-time, so they work at any alignment on any host. */
static inline u16 get_unaligned_be16(const void *p)
{
	const u8 *b = p;

	return (u16)(b[0] << 8 | b[1]);
}

static inline u32 get_unaligned_be32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

static inline u64 get_unaligned_be64(const void *p)
{
	const u8 *b = p;

	return (u64)get_unaligned_be32(b) << 32 | get_unaligned_be32(b + 4);
}

static inline u32 get_unaligned_le32(const void *p)
{
	const u8 *b = p;

	return (u32)b[3] << 24 | (u32)b[2] << 16 | (u32)b[1] << 8 | b[0];
}

static inline void put_unaligned_be16(u16 v, void *p)
{
	u8 *b = p;

	b[0] = (u8)(v >> 8);
	b[1] = (u8)v;
}

static inline void put_unaligned_be32(u32 v, void *p)
{
	u8 *b = p;

	b[0] = (u8)(v >> 24);
	b[1] = (u8)(v >> 16);
	b[2] = (u8)(v >> 8);
	b[3] = (u8)v;
}

static inline void put_unaligned_be64(u64 v, void *p)
{
	u8 *b = p;

	put_unaligned_be32((u32)(v >> 32), b);
	put_unaligned_be32((u32)v, b + 4);
}

static inline void put_unaligned_le32(u32 v, void *p)
{
	u8 *b = p;

	b[0] = (u8)v;
	b[1] = (u8)(v >> 8);
	b[2] = (u8)(v >> 16);
	b[3] = (u8)(v >> 24);
}

/*
 * Native-order copy of a scalar *ptr from/to any alignment.  The cast
 * drops any const from the type of the temporary.
 */
#define get_unaligned(ptr) ({					\
	__auto_type v__ = (__typeof__(*(ptr)))0;		\
	memcpy(&v__, (ptr), sizeof(v__));			\
	v__;							\
})

#define put_unaligned(val, ptr) do {				\
	__typeof__(*(ptr)) v__ = (val);				\
	memcpy((ptr), &v__, sizeof(v__));			\
} while (0)

/*
 * Raw little-endian (reflected) CRC-32 update, polynomial 0xedb88320, as
 * the kernel's lib/crc32 crc32_le(): no preset, no final inversion.
 * Bit at a time; the tests only hash a few kilobytes.
 */
static inline u32 crc32_le(u32 crc, const unsigned char *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return crc;
}

#endif /* RXE_KSHIM_H */
