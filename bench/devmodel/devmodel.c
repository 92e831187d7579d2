/* SPDX-License-Identifier: MIT */
/* Device-model benchmark: plays a virtio-blk guest driver against the real device, I/O thread and io_uring backend, no KVM. */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "blk_backend.h"
#include "gmem.h"
#include "sandbox.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"
#include "virtqueue.h"

/*
 * The guest's own view of the virtio-blk wire format (virtio 1.x, 5.2). A
 * driver carries its own copy of these; the device's internal header is not
 * something a guest could include.
 */
#define DM_BLK_T_IN 0
#define DM_BLK_T_OUT 1
#define DM_BLK_T_FLUSH 4
#define DM_BLK_S_OK 0
#define DM_BLK_F_SIZE_MAX 1
#define DM_BLK_F_SEG_MAX 2
#define DM_BLK_F_BLK_SIZE 6
#define DM_BLK_F_FLUSH 9
#define DM_BLK_F_CONFIG_WCE 11

/* Guest RAM starts at 1 MiB, as on a PC, so a gpa/offset mix-up cannot go unnoticed. */
#define DM_RAM_GPA 0x100000ull
#define DM_PAGE 4096ull
/* What vmm gives each drive (src/vmm/vm.c). */
#define DM_QUEUE_SIZE 256u
/* Bytes per slot for header, indirect table and status byte. */
#define DM_SLOT_SMALL 128ull

enum dm_job { DM_JOB_RANDREAD, DM_JOB_RANDWRITE, DM_JOB_SEQREAD, DM_JOB_WRITEFLUSH, DM_JOB_SEQWRITE };

static const char *const dm_job_names[] = { "randread", "randwrite", "seqread", "writeflush", "seqwrite" };

/* --prefill: one pass of sequential writes of this size, QD4, over the whole image before the job. */
#define DM_PREFILL_BS (1u << 20)
#define DM_PREFILL_QD 4u

struct dm_opts {
	const char *image;
	enum dm_job job;
	enum blk_cache_mode cache;
	unsigned int qd;
	uint32_t bs;
	double runtime;       /* seconds measured, after the ramp */
	double ramp;          /* seconds run before measuring, to reach steady state */
	uint64_t max_requests;  /* stop measuring after this many requests (0: no limit) */
	uint64_t ram_mib;
	bool indirect;        /* Linux puts every multi-buffer request in an indirect table */
	bool event_idx;
	uint64_t halt_poll_ns;  /* KVM's halt_poll_ns: the cap on a halted vCPU's polling window */
	bool halt_poll_fixed;   /* poll for the whole cap at every halt, not KVM's adaptive window */
	int64_t poll_max_ns;    /* the device's I/O-thread polling cap (vblk_params.poll_max_ns; 0: its default) */
	bool snapshot;          /* a snapshot drive: the image read-only, writes to an overlay in $TMPDIR */
	bool prefill;           /* write the whole image through the device first (DM_PREFILL_BS, QD4) */
	bool sandbox;           /* the I/O thread enters vmm's drive I/O seccomp filter, as in vmm */
	uint32_t buf_bytes;     /* each slot's data buffer: bs, or DM_PREFILL_BS when prefilling */
};

/* One request slot: a fixed header, data buffer and status byte in guest RAM, reused for every request. */
struct dm_slot {
	uint16_t head;        /* descriptor this slot's chain starts at */
	uint32_t type;        /* request in flight */
	uint64_t hdr_gpa, data_gpa, st_gpa, table_gpa;
	uint8_t *hdr, *data, *st;
	struct virtq_desc *table;
};

struct dm_guest {
	const struct dm_opts *o;
	uint8_t *ram;
	uint64_t ram_size;
	struct gmem mem;
	uint16_t qsize;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t avail_idx;   /* our next avail->idx */
	uint16_t kicked_idx;  /* avail->idx when the device was last told about new buffers */
	uint16_t used_seen;   /* next used entry to read */
	uint64_t halt_poll_cur;  /* this vCPU's halt-polling window, ns (KVM's vcpu->halt_poll_ns) */
	bool event_idx;
	struct dm_slot *slots;
	struct vblk_dev *dev;
	uint64_t image_size;
	uint64_t rng;
	uint64_t seq_off;
	/* Counters: whole run. */
	uint64_t completed;   /* requests completed with OK */
	uint64_t pairs;       /* write+flush pairs completed (writeflush) */
	uint64_t bytes;
	uint64_t kicks;
	uint64_t irqs;
	uint64_t errors;
	uint64_t halts;         /* waits for an interrupt that found none pending */
	uint64_t halts_polled;  /* of which the interrupt came within the polling window */
};

static double dm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double dm_rusage_seconds(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Whole process: the guest-playing thread, the device's I/O thread and io_uring's workers together. */
static double dm_cpu_seconds(void)
{
	return dm_rusage_seconds(RUSAGE_SELF);
}

/* The guest-playing thread alone (what the vCPU would spend, halt polling included). */
static double dm_driver_cpu_seconds(void)
{
	return dm_rusage_seconds(RUSAGE_THREAD);
}

static void dm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* xorshift64*: cheap, and good enough to spread offsets over the image. */
static uint64_t dm_rng_next(struct dm_guest *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

static void *dm_gpa_ptr(struct dm_guest *g, uint64_t gpa)
{
	return g->ram + (gpa - DM_RAM_GPA);
}

static uint32_t dm_mmio_r32(struct dm_guest *g, uint64_t off)
{
	uint32_t v = 0;

	vblk_mmio_read(g->dev, off, &v, 4);
	return v;
}

static void dm_mmio_w32(struct dm_guest *g, uint64_t off, uint32_t v)
{
	vblk_mmio_write(g->dev, off, &v, 4);
}

/* Lay out the rings and one slot per request in flight; buffers are page-aligned, as a guest's page cache gives them. */
static int dm_guest_layout(struct dm_guest *g)
{
	const struct dm_opts *o = g->o;
	uint64_t next = DM_RAM_GPA;
	uint64_t buf = (o->buf_bytes + DM_PAGE - 1) & ~(DM_PAGE - 1);
	uint64_t need;

	g->qsize = DM_QUEUE_SIZE;
	if ((o->indirect ? o->qd : 3ull * o->qd) > g->qsize)
		return -E2BIG;
	g->desc_gpa = next;
	next += 16ull * g->qsize;
	g->avail_gpa = next;
	next += (6 + 2ull * g->qsize + 3) & ~3ull;
	g->used_gpa = next;
	next += 6 + 8ull * g->qsize;
	next = (next + DM_PAGE - 1) & ~(DM_PAGE - 1);
	/* Per slot: a small area for header, indirect table and status; data buffers after all of them. */
	uint64_t small = next;

	next += (DM_SLOT_SMALL * o->qd + DM_PAGE - 1) & ~(DM_PAGE - 1);
	uint64_t data = next;

	next += buf * o->qd;
	need = next - DM_RAM_GPA;
	if (need > g->ram_size)
		return -ENOMEM;

	g->desc = dm_gpa_ptr(g, g->desc_gpa);
	g->avail = dm_gpa_ptr(g, g->avail_gpa);
	g->used = dm_gpa_ptr(g, g->used_gpa);
	g->slots = calloc(o->qd, sizeof(*g->slots));
	if (!g->slots)
		return -ENOMEM;
	for (unsigned int i = 0; i < o->qd; i++) {
		struct dm_slot *s = &g->slots[i];

		/* Header (16 bytes), then a 3-entry indirect table (16-aligned), then the status byte. */
		s->hdr_gpa = small + DM_SLOT_SMALL * i;
		s->table_gpa = s->hdr_gpa + 16;
		s->st_gpa = s->table_gpa + 3 * 16;
		s->data_gpa = data + buf * i;
		s->hdr = dm_gpa_ptr(g, s->hdr_gpa);
		s->st = dm_gpa_ptr(g, s->st_gpa);
		s->table = dm_gpa_ptr(g, s->table_gpa);
		s->data = dm_gpa_ptr(g, s->data_gpa);
		s->head = (uint16_t)(o->indirect ? i : 3 * i);
		/* Not zero, so nothing on the path can take a shortcut for zero pages. */
		for (uint64_t b = 0; b < buf; b++)
			s->data[b] = (uint8_t)(b * 31 + i * 7 + 1);
	}
	return 0;
}

/* Probe the device as Linux's virtio_mmio + virtio_blk would: reset, negotiate, set queue 0 up, DRIVER_OK. */
static int dm_guest_bringup(struct dm_guest *g)
{
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << DM_BLK_F_FLUSH) | (1ull << DM_BLK_F_CONFIG_WCE) |
			(1ull << DM_BLK_F_BLK_SIZE) | (1ull << DM_BLK_F_SEG_MAX) | (1ull << DM_BLK_F_SIZE_MAX);
	uint64_t offered, feats;
	uint32_t base = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (g->o->event_idx)
		want |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (g->o->indirect)
		want |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (dm_mmio_r32(g, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
	    dm_mmio_r32(g, VIRTIO_MMIO_DEVICE_ID) != 2)
		return -ENODEV;
	dm_mmio_w32(g, VIRTIO_MMIO_STATUS, 0);
	dm_mmio_w32(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	dm_mmio_w32(g, VIRTIO_MMIO_STATUS, base);
	dm_mmio_w32(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered = dm_mmio_r32(g, VIRTIO_MMIO_DEVICE_FEATURES);
	dm_mmio_w32(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)dm_mmio_r32(g, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	if ((offered & want) != want)
		return -ENOTSUP;
	feats = offered & want;
	dm_mmio_w32(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	dm_mmio_w32(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feats);
	dm_mmio_w32(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	dm_mmio_w32(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feats >> 32));
	dm_mmio_w32(g, VIRTIO_MMIO_STATUS, base | VIRTIO_STATUS_FEATURES_OK);
	if (!(dm_mmio_r32(g, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -EPROTO;
	g->event_idx = feats & (1ull << VIRTIO_RING_F_EVENT_IDX);

	uint64_t cap = 0;

	vblk_mmio_read(g->dev, VIRTIO_MMIO_CONFIG, &cap, 8);
	g->image_size = le64toh(cap) * 512;

	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_SEL, 0);
	if (dm_mmio_r32(g, VIRTIO_MMIO_QUEUE_NUM_MAX) < g->qsize)
		return -ENOSPC;
	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_NUM, g->qsize);
	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)g->desc_gpa);
	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(g->desc_gpa >> 32));
	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)g->avail_gpa);
	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(g->avail_gpa >> 32));
	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)g->used_gpa);
	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(g->used_gpa >> 32));
	dm_mmio_w32(g, VIRTIO_MMIO_QUEUE_READY, 1);
	dm_mmio_w32(g, VIRTIO_MMIO_STATUS, base | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (!(dm_mmio_r32(g, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK))
		return -EPROTO;
	return 0;
}

static void dm_desc_fill(struct virtq_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

/* Write slot s's request (type at offset) into guest RAM and put it in the avail ring; published later. */
static void dm_slot_queue(struct dm_guest *g, struct dm_slot *s, uint32_t type, uint64_t offset)
{
	uint32_t t = htole32(type), zero = 0;
	uint64_t sector = htole64(offset / 512);
	bool data = type != DM_BLK_T_FLUSH;
	uint16_t dflags = type == DM_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;

	s->type = type;
	memcpy(s->hdr, &t, 4);
	memcpy(s->hdr + 4, &zero, 4);
	memcpy(s->hdr + 8, &sector, 8);
	*s->st = 0xff;
	if (g->o->indirect) {
		/* Linux's virtio_ring uses an indirect table for every request of more than one buffer. */
		unsigned int n = 0;

		dm_desc_fill(&s->table[n], s->hdr_gpa, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
		n++;
		if (data) {
			dm_desc_fill(&s->table[n], s->data_gpa, g->o->bs, dflags | VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
			n++;
		}
		dm_desc_fill(&s->table[n], s->st_gpa, 1, VIRTQ_DESC_F_WRITE, 0);
		n++;
		dm_desc_fill(&g->desc[s->head], s->table_gpa, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	} else {
		uint16_t h = s->head;

		dm_desc_fill(&g->desc[h], s->hdr_gpa, 16, VIRTQ_DESC_F_NEXT, data ? h + 1 : h + 2);
		if (data)
			dm_desc_fill(&g->desc[h + 1], s->data_gpa, g->o->bs, dflags | VIRTQ_DESC_F_NEXT, h + 2);
		dm_desc_fill(&g->desc[h + 2], s->st_gpa, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	g->avail->ring[g->avail_idx & (g->qsize - 1)] = htole16(s->head);
	g->avail_idx++;
}

/* Publish queued requests and kick the device if it asked for one (what virtqueue_kick_prepare decides). */
static void dm_guest_publish(struct dm_guest *g)
{
	uint16_t old = g->kicked_idx, new = g->avail_idx;
	bool kick;

	if (old == new)
		return;
	/* Release: ring entries, descriptors and headers are visible before the new idx. */
	__atomic_store_n(&g->avail->idx, htole16(new), __ATOMIC_RELEASE);
	/* Full fence: idx must be visible before we read avail_event / flags, or a kick could be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	g->kicked_idx = new;
	if (g->event_idx) {
		/* avail_event sits after the used ring (2-aligned: the used ring is 4-aligned). */
		uint16_t *ev = (uint16_t *)((uint8_t *)g->used + 4 + 8u * g->qsize);
		uint16_t event = le16toh(__atomic_load_n(ev, __ATOMIC_RELAXED));

		kick = (uint16_t)(new - event - 1) < (uint16_t)(new - old);
	} else {
		kick = !(le16toh(__atomic_load_n(&g->used->flags, __ATOMIC_RELAXED)) & VIRTQ_USED_F_NO_NOTIFY);
	}
	if (kick) {
		/* The QueueNotify write KVM turns into an ioeventfd signal. */
		(void)eventfd_write(vblk_notify_fd(g->dev), 1);
		g->kicks++;
	}
}

static uint64_t dm_next_offset(struct dm_guest *g)
{
	uint64_t blocks = g->image_size / g->o->bs;

	if (g->o->job == DM_JOB_SEQREAD || g->o->job == DM_JOB_SEQWRITE) {
		uint64_t off = g->seq_off;

		g->seq_off += g->o->bs;
		if (g->seq_off + g->o->bs > g->image_size)
			g->seq_off = 0;
		return off;
	}
	return (dm_rng_next(g) % blocks) * g->o->bs;
}

/* Start slot s's next request: what the job does after the previous one in this slot completed. */
static void dm_slot_start(struct dm_guest *g, struct dm_slot *s, bool after_write)
{
	switch (g->o->job) {
	case DM_JOB_RANDREAD:
	case DM_JOB_SEQREAD:
		dm_slot_queue(g, s, DM_BLK_T_IN, dm_next_offset(g));
		break;
	case DM_JOB_RANDWRITE:
	case DM_JOB_SEQWRITE:
		dm_slot_queue(g, s, DM_BLK_T_OUT, dm_next_offset(g));
		break;
	case DM_JOB_WRITEFLUSH:
		/* A write, then a FLUSH once it completed (a guest fdatasync after a write). */
		if (after_write)
			dm_slot_queue(g, s, DM_BLK_T_FLUSH, 0);
		else
			dm_slot_queue(g, s, DM_BLK_T_OUT, dm_next_offset(g));
		break;
	}
}

/* Slot owning descriptor head. */
static struct dm_slot *dm_slot_of(struct dm_guest *g, uint32_t head)
{
	unsigned int i = g->o->indirect ? head : head / 3;

	if (i >= g->o->qd || g->slots[i].head != head)
		return NULL;
	return &g->slots[i];
}

/*
 * Reap used entries; restart each slot unless draining. Count reaped, or
 * -EIO when the device returned an unknown head or a bad status.
 */
static int dm_guest_reap(struct dm_guest *g, bool drain)
{
	/* Acquire: pairs with the device's release store of used->idx; entries and data are visible after it. */
	uint16_t idx = le16toh(__atomic_load_n(&g->used->idx, __ATOMIC_ACQUIRE));
	int n = 0;

	while (g->used_seen != idx) {
		struct virtq_used_elem *e = &g->used->ring[g->used_seen & (g->qsize - 1)];
		struct dm_slot *s = dm_slot_of(g, le32toh(e->id));

		g->used_seen++;
		n++;
		if (!s || *s->st != DM_BLK_S_OK) {
			g->errors++;
			return -EIO;
		}
		g->completed++;
		if (s->type != DM_BLK_T_FLUSH)
			g->bytes += g->o->bs;
		else
			g->pairs++;
		if (!drain)
			dm_slot_start(g, s, s->type == DM_BLK_T_OUT);
	}
	return n;
}

/*
 * Ask for an interrupt at the next used entry (virtqueue_enable_cb). True
 * when entries arrived meanwhile, so the caller must look before sleeping.
 */
static bool dm_guest_enable_cb(struct dm_guest *g)
{
	if (g->event_idx) {
		uint16_t v = htole16(g->used_seen);

		__atomic_store_n(&g->avail->ring[g->qsize], v, __ATOMIC_RELAXED);
	}
	/* Full fence: used_event must be visible before we re-read used->idx (pairs with the device's fence). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return le16toh(__atomic_load_n(&g->used->idx, __ATOMIC_ACQUIRE)) != g->used_seen;
}

/*
 * KVM's halt-polling constants: module parameters halt_poll_ns_grow,
 * _grow_start and _shrink, at current Linux's defaults (and this machine's
 * values). Older kernels shrank the window to 0 instead of halving it, which
 * comes to the same at QD32.
 */
#define DM_HALT_POLL_GROW 2u
#define DM_HALT_POLL_GROW_START 10000u
#define DM_HALT_POLL_SHRINK 2u

/*
 * The window a vCPU polls for at its next halt, after one that lasted
 * halt_ns, as KVM adapts vcpu->halt_poll_ns (kvm_vcpu_halt in
 * virt/kvm/kvm_main.c; Documentation/virt/kvm/halt-polling.rst): it starts at
 * 0; a halt that ended within the window leaves it; one that ended after it
 * but under the cap grows it (doubling, from at least 10 us, to at most the
 * cap); one that lasted past the cap shrinks it (halving, and to 0 below
 * 10 us), because polling for the cap would not have caught that wake-up.
 */
static uint64_t dm_halt_poll_next(uint64_t cur, uint64_t max, uint64_t halt_ns)
{
	if (!max)
		return 0;
	if (halt_ns <= cur)
		return cur;
	if (cur && halt_ns > max) {
		cur /= DM_HALT_POLL_SHRINK;
		return cur < DM_HALT_POLL_GROW_START ? 0 : cur;
	}
	if (cur < max && halt_ns < max) {
		cur *= DM_HALT_POLL_GROW;
		if (cur < DM_HALT_POLL_GROW_START)
			cur = DM_HALT_POLL_GROW_START;
		return cur > max ? max : cur;
	}
	return cur;
}

/*
 * KVM's halt polling: a vCPU that halts waiting for an interrupt is spun by
 * the host for its current window before it is scheduled out, so an interrupt
 * that comes soon costs no wake-up. Played here by watching used->idx, which
 * the device moves just before it signals the irqfd (the driver asked for an
 * interrupt at the next entry, so one is coming). Spinning on memory keeps
 * the driver's own CPU cost what the vCPU's would be, not a syscall per look.
 * True when the interrupt's entry came within the window.
 */
static bool dm_guest_halt_poll(struct dm_guest *g, uint64_t window_ns)
{
	if (!window_ns)
		return false;
	double deadline = dm_now() + (double)window_ns / 1e9;

	for (unsigned int i = 1;; i++) {
		if (le16toh(__atomic_load_n(&g->used->idx, __ATOMIC_ACQUIRE)) != g->used_seen)
			return true;
		if (i % 64 == 0 && dm_now() >= deadline)
			return false;
		dm_cpu_relax();
	}
}

/* Wait until the device interrupts (the irqfd KVM would inject), then play the ISR. 0 or -errno. */
static int dm_guest_wait_irq(struct dm_guest *g, int timeout_ms)
{
	struct pollfd p = { .fd = vblk_irq_fd(g->dev), .events = POLLIN };
	uint64_t window = g->o->halt_poll_fixed ? g->o->halt_poll_ns : g->halt_poll_cur;
	double start = dm_now();
	eventfd_t v;

	g->halts++;
	if (dm_guest_halt_poll(g, window))
		g->halts_polled++;
	int r = poll(&p, 1, timeout_ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return -ETIMEDOUT;
	g->halt_poll_cur = dm_halt_poll_next(g->halt_poll_cur, g->o->halt_poll_ns,
					     (uint64_t)((dm_now() - start) * 1e9));
	(void)eventfd_read(p.fd, &v);
	g->irqs++;
	/* vm_interrupt: read InterruptStatus, acknowledge it; both are MMIO exits in a real guest. */
	uint32_t isr = dm_mmio_r32(g, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (isr)
		dm_mmio_w32(g, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return 0;
}

struct dm_result {
	double seconds;
	double cpu;
	double driver_cpu;
	uint64_t requests;
	uint64_t pairs;
	uint64_t bytes;
	uint64_t kicks;
	uint64_t irqs;
	uint64_t halts;
	uint64_t halts_polled;
};

/* Run the job: ramp, then measure for runtime (or max_requests), then drain. 0 or -errno. */
static int dm_guest_run(struct dm_guest *g, struct dm_result *res)
{
	const struct dm_opts *o = g->o;
	double start = dm_now(), t0 = 0, cpu0 = 0, dcpu0 = 0;
	uint64_t req0 = 0, pairs0 = 0, bytes0 = 0, kicks0 = 0, irqs0 = 0, halts0 = 0, polled0 = 0;
	bool measuring = false, draining = false;
	unsigned int outstanding = o->qd;
	int r;

	for (unsigned int i = 0; i < o->qd; i++)
		dm_slot_start(g, &g->slots[i], false);
	dm_guest_publish(g);

	if (o->ramp <= 0) {
		measuring = true;
		t0 = dm_now();
		cpu0 = dm_cpu_seconds();
		dcpu0 = dm_driver_cpu_seconds();
	}
	for (;;) {
		r = dm_guest_reap(g, draining);
		if (r < 0)
			return r;
		if (draining)
			outstanding -= (unsigned int)r;
		else
			dm_guest_publish(g);

		if (!draining && r > 0) {
			double now = dm_now();

			if (!measuring && now - start >= o->ramp) {
				measuring = true;
				t0 = now;
				cpu0 = dm_cpu_seconds();
				dcpu0 = dm_driver_cpu_seconds();
				req0 = g->completed;
				pairs0 = g->pairs;
				bytes0 = g->bytes;
				kicks0 = g->kicks;
				irqs0 = g->irqs;
				halts0 = g->halts;
				polled0 = g->halts_polled;
			} else if (measuring && (now - t0 >= o->runtime ||
						 (o->max_requests && g->completed - req0 >= o->max_requests))) {
				res->seconds = now - t0;
				res->cpu = dm_cpu_seconds() - cpu0;
				res->driver_cpu = dm_driver_cpu_seconds() - dcpu0;
				res->requests = g->completed - req0;
				res->pairs = g->pairs - pairs0;
				res->bytes = g->bytes - bytes0;
				res->kicks = g->kicks - kicks0;
				res->irqs = g->irqs - irqs0;
				res->halts = g->halts - halts0;
				res->halts_polled = g->halts_polled - polled0;
				draining = true;
				/* What was just restarted is still owed; count what remains in flight. */
				outstanding = (uint16_t)(g->avail_idx - g->used_seen);
			}
		}
		if (draining && outstanding == 0)
			return 0;
		if (dm_guest_enable_cb(g))
			continue;
		r = dm_guest_wait_irq(g, 10000);
		if (r < 0)
			return r;
	}
}

/*
 * --prefill: one unmeasured pass of sequential DM_PREFILL_BS writes over the
 * whole image (on a snapshot drive: the overlay holds every cluster after
 * it), then the counters start again. 0 or -errno.
 */
static int dm_guest_prefill(struct dm_guest *g)
{
	const struct dm_opts *job = g->o;
	struct dm_opts pass = *job;
	struct dm_result res = { 0 };
	int r;

	pass.job = DM_JOB_SEQWRITE;
	pass.bs = g->image_size >= DM_PREFILL_BS ? DM_PREFILL_BS : job->bs;
	pass.qd = job->qd < DM_PREFILL_QD ? job->qd : DM_PREFILL_QD;
	pass.ramp = 0;
	pass.runtime = 1e9;
	pass.max_requests = g->image_size / pass.bs;
	g->o = &pass;
	r = dm_guest_run(g, &res);
	g->o = job;
	g->completed = g->pairs = g->bytes = g->kicks = g->irqs = g->errors = g->halts = g->halts_polled = 0;
	g->seq_off = 0;
	return r;
}

static void dm_usage(FILE *f)
{
	fprintf(f,
		"usage: vmm-devmodel --image PATH [options]\n"
		"  --job randread|randwrite|seqread|writeflush   (default randread)\n"
		"  --cache MODE      writeback|none|writethrough|directsync|unsafe (default none)\n"
		"  --qd N            requests in flight (default 32; writeflush: 1)\n"
		"  --bs BYTES        request size, multiple of 512 (default 4096; seqread 1048576)\n"
		"  --runtime SEC     measured time (default 5)\n"
		"  --ramp SEC        unmeasured warm-up before it (default 1)\n"
		"  --requests N      stop measuring after N requests instead, if sooner\n"
		"  --ram-mib N       guest RAM mapping size (default 256)\n"
		"  --no-indirect     direct descriptor chains (Linux uses indirect tables)\n"
		"  --no-event-idx    do not negotiate VIRTIO_RING_F_EVENT_IDX\n"
		"  --halt-poll-ns N  cap on the window a halted vCPU spins for an interrupt\n"
		"                    before sleeping, which adapts as KVM's halt polling does\n"
		"                    (default 200000, KVM's x86 default; 0: sleep at once)\n"
		"  --halt-poll-fixed spin for the whole cap at every halt instead\n"
		"  --poll-max-ns N   the device's I/O-thread busy-poll cap (default: vmm's;\n"
		"                    negative: no polling)\n"
		"  --snapshot        a snapshot drive (snapshot=on): the image is opened\n"
		"                    read-only and writes go to an overlay in $TMPDIR\n"
		"  --prefill         first write the whole image through the device\n"
		"                    (1 MiB sequential writes, QD4), unmeasured\n"
		"  --sandbox         the I/O thread runs under vmm's drive I/O seccomp filter\n"
		"Prints one line of key=value pairs.\n");
}

/* --sandbox: the I/O thread's filter, entered as vmm's I/O thread enters it (first thing). */
static struct sandbox *dm_sb;

static int dm_io_enter(void *ctx)
{
	(void)ctx;
	return sandbox_enter(dm_sb, SANDBOX_ROLE_IO);
}

static int dm_opts_parse(int argc, char **argv, struct dm_opts *o)
{
	static const struct option longopts[] = {
		{ "image", required_argument, NULL, 'i' },   { "job", required_argument, NULL, 'j' },
		{ "cache", required_argument, NULL, 'c' },   { "qd", required_argument, NULL, 'q' },
		{ "bs", required_argument, NULL, 'b' },      { "runtime", required_argument, NULL, 't' },
		{ "ramp", required_argument, NULL, 'r' },    { "requests", required_argument, NULL, 'n' },
		{ "ram-mib", required_argument, NULL, 'm' }, { "no-indirect", no_argument, NULL, 'D' },
		{ "no-event-idx", no_argument, NULL, 'E' },  { "help", no_argument, NULL, 'h' },
		{ "halt-poll-ns", required_argument, NULL, 'H' }, { "poll-max-ns", required_argument, NULL, 'P' },
		{ "halt-poll-fixed", no_argument, NULL, 'F' },
		{ "snapshot", no_argument, NULL, 'S' },      { "prefill", no_argument, NULL, 'W' },
		{ "sandbox", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	long qd = -1, bs = -1;
	int c;

	*o = (struct dm_opts){ .cache = BLK_CACHE_NONE, .runtime = 5, .ramp = 1, .ram_mib = 256,
			       .indirect = true, .event_idx = true, .halt_poll_ns = 200000 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->image = optarg;
			break;
		case 'j': {
			unsigned int k;

			for (k = 0; k < sizeof(dm_job_names) / sizeof(dm_job_names[0]); k++)
				if (!strcmp(optarg, dm_job_names[k]))
					break;
			if (k == sizeof(dm_job_names) / sizeof(dm_job_names[0]))
				return -EINVAL;
			o->job = (enum dm_job)k;
			break;
		}
		case 'c':
			if (blk_cache_mode_parse(optarg, &o->cache) < 0)
				return -EINVAL;
			break;
		case 'q':
			qd = strtol(optarg, NULL, 0);
			break;
		case 'b':
			bs = strtol(optarg, NULL, 0);
			break;
		case 't':
			o->runtime = strtod(optarg, NULL);
			break;
		case 'r':
			o->ramp = strtod(optarg, NULL);
			break;
		case 'n':
			o->max_requests = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			o->ram_mib = strtoull(optarg, NULL, 0);
			break;
		case 'D':
			o->indirect = false;
			break;
		case 'E':
			o->event_idx = false;
			break;
		case 'H':
			o->halt_poll_ns = strtoull(optarg, NULL, 0);
			break;
		case 'F':
			o->halt_poll_fixed = true;
			break;
		case 'P':
			o->poll_max_ns = strtoll(optarg, NULL, 0);
			break;
		case 'S':
			o->snapshot = true;
			break;
		case 'W':
			o->prefill = true;
			break;
		case 'X':
			o->sandbox = true;
			break;
		case 'h':
			dm_usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (!o->image || optind != argc)
		return -EINVAL;
	if (qd < 0)
		qd = o->job == DM_JOB_WRITEFLUSH ? 1 : o->job == DM_JOB_SEQREAD ? 4 : 32;
	if (bs < 0)
		bs = o->job == DM_JOB_SEQREAD ? 1 << 20 : 4096;
	/* One data buffer per request: the device advertises size_max 1 MiB. */
	if (qd < 1 || qd > DM_QUEUE_SIZE || bs < 512 || bs % 512 || bs > (1 << 20) ||
	    o->runtime <= 0 || o->ramp < 0 || o->ram_mib < 1)
		return -EINVAL;
	o->qd = (unsigned int)qd;
	o->bs = (uint32_t)bs;
	o->buf_bytes = o->prefill && o->bs < DM_PREFILL_BS ? DM_PREFILL_BS : o->bs;
	return 0;
}

int main(int argc, char **argv)
{
	struct dm_opts o;
	struct dm_guest g;
	struct blk_image img;
	struct dm_result res = { 0 };
	struct vblk_stats st;
	int r, ret = 1;

	if (dm_opts_parse(argc, argv, &o) < 0) {
		dm_usage(stderr);
		return 2;
	}
	memset(&g, 0, sizeof(g));
	g.o = &o;
	g.rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	g.ram_size = o.ram_mib << 20;
	/* One anonymous mapping, as vmm maps guest RAM; pages are touched by the layout, not populated up front. */
	g.ram = mmap(NULL, g.ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g.ram == MAP_FAILED) {
		fprintf(stderr, "vmm-devmodel: mmap guest RAM: %s\n", strerror(errno));
		return 1;
	}
	/* vmm asks for huge pages on guest RAM (src/mem/gmem.c): fewer, larger segments per O_DIRECT request. */
	(void)madvise(g.ram, g.ram_size, MADV_HUGEPAGE);
	g.mem.nregions = 1;
	g.mem.regions[0] = (struct gmem_region){ .gpa = DM_RAM_GPA, .size = g.ram_size, .host = g.ram };
	r = dm_guest_layout(&g);
	if (r < 0) {
		fprintf(stderr, "vmm-devmodel: guest layout: %s (raise --ram-mib or lower --qd)\n", strerror(-r));
		goto unmap;
	}

	r = blk_image_open(o.image, o.cache, o.snapshot, &img);
	if (r < 0) {
		fprintf(stderr, "vmm-devmodel: open %s (cache=%s): %s\n", o.image, blk_cache_mode_name(o.cache),
			strerror(-r));
		goto free_slots;
	}
	/* As vmm opens a snapshot=on drive: the image read-only, its overlay in $TMPDIR (or /var/tmp). */
	r = o.snapshot ? blk_image_snapshot(&img, NULL) : 0;
	if (r < 0) {
		fprintf(stderr, "vmm-devmodel: snapshot overlay of %s in %s: %s\n", o.image, blk_overlay_dir(),
			strerror(-r));
		goto close_image;
	}
	if (img.size < o.bs) {
		fprintf(stderr, "vmm-devmodel: %s is smaller than one request\n", o.image);
		goto close_image;
	}
	struct vblk_params p = { .image = &img, .serial = "vmm-devmodel", .queue_size = DM_QUEUE_SIZE,
				 .poll_max_ns = o.poll_max_ns };
	struct sandbox_params sp = { .stats_dir_fd = -1 };

	if (o.sandbox) {
		r = sandbox_create(&sp, &dm_sb);
		if (r < 0) {
			fprintf(stderr, "vmm-devmodel: sandbox_create: %s\n", strerror(-r));
			goto close_image;
		}
		p.thread_enter = dm_io_enter;
	}

	r = vblk_create(&p, &g.mem, &g.dev);
	if (r < 0) {
		fprintf(stderr, "vmm-devmodel: vblk_create: %s\n", strerror(-r));
		goto close_image;
	}
	r = dm_guest_bringup(&g);
	if (r < 0) {
		fprintf(stderr, "vmm-devmodel: device bring-up: %s\n", strerror(-r));
		goto destroy_dev;
	}
	r = vblk_start(g.dev);
	if (r < 0) {
		fprintf(stderr, "vmm-devmodel: vblk_start: %s\n", strerror(-r));
		goto destroy_dev;
	}
	r = o.prefill ? dm_guest_prefill(&g) : 0;
	if (r == 0)
		r = dm_guest_run(&g, &res);
	if (r < 0) {
		fprintf(stderr, "vmm-devmodel: %s: %s after %" PRIu64 " requests\n", dm_job_names[o.job],
			r == -EIO ? "the device returned a bad status or head" :
			r == -ETIMEDOUT ? "no interrupt for 10 s" : strerror(-r), g.completed);
		goto stop_dev;
	}
	ret = 0;

stop_dev:
	r = vblk_stop(g.dev);
	if (r < 0 && ret == 0) {
		fprintf(stderr, "vmm-devmodel: vblk_stop: %s\n", strerror(-r));
		ret = 1;
	}
	vblk_get_stats(g.dev, &st);
	if (ret == 0) {
		double secs = res.seconds > 0 ? res.seconds : 1e-9;
		double reqs = res.requests ? (double)res.requests : 1;

		printf("job=%s cache=%s qd=%u bs=%u seconds=%.3f requests=%" PRIu64 " iops=%.0f mbps=%.1f "
		       "pairs=%" PRIu64 " pairs_per_s=%.0f cpu_us_per_req=%.2f cpu_pct=%.0f "
		       "driver_cpu_us_per_req=%.2f dev_cpu_us_per_req=%.2f halt_poll_ns=%" PRIu64 " "
		       "halt_poll=%s halts_per_req=%.3f halts_polled_pct=%.0f kicks_per_req=%.3f irqs_per_req=%.3f "
		       "dev_requests=%" PRIu64 " dev_flushes=%" PRIu64 " dev_host_flushes=%" PRIu64
		       " dev_flushes_skipped=%" PRIu64 " dev_errors=%" PRIu64 " total_pairs=%" PRIu64 "\n",
		       dm_job_names[o.job], blk_cache_mode_name(o.cache), o.qd, o.bs, res.seconds, res.requests,
		       (double)res.requests / secs, (double)res.bytes / secs / 1e6, res.pairs,
		       (double)res.pairs / secs, res.cpu * 1e6 / reqs, res.cpu * 100 / secs,
		       res.driver_cpu * 1e6 / reqs, (res.cpu - res.driver_cpu) * 1e6 / reqs, o.halt_poll_ns,
		       !o.halt_poll_ns ? "off" : o.halt_poll_fixed ? "fixed" : "adaptive", (double)res.halts / reqs,
		       res.halts ? (double)res.halts_polled * 100 / (double)res.halts : 0.0,
		       (double)res.kicks / reqs, (double)res.irqs / reqs, st.requests, st.flushes,
		       st.host_flushes, st.flushes_skipped, st.errors, g.pairs);
		if (o.snapshot) {
			struct blk_snapshot_info info = { 0 };

			(void)blk_image_snapshot_info(&img, &info);
			printf("snapshot=on overlay=%s overlay_bytes=%" PRIu64 " copy_ups=%" PRIu64 "\n",
			       info.reflink ? "reflink" : "sparse", info.overlay_bytes, info.copy_ups);
		}
	}
destroy_dev:
	vblk_destroy(g.dev);
close_image:
	sandbox_destroy(dm_sb);
	blk_image_close(&img);
free_slots:
	free(g.slots);
unmap:
	munmap(g.ram, g.ram_size);
	return ret;
}
