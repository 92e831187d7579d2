/* SPDX-License-Identifier: MIT */
/* kvm_cpuid.c: per-vCPU CPUID patching (APIC ids and topology); pure, no ioctls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_x86.h"

/* Leaf 1 */
#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_1_EBX_LOGICAL_SHIFT 16
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
/* Leaves 0xB / 0x1F: ECX[15:8] level type */
#define CPUID_TOPO_LEVEL_INVALID 0u
#define CPUID_TOPO_LEVEL_SMT 1u
#define CPUID_TOPO_LEVEL_CORE 2u

/* Vendor strings as leaf 0 returns them in EBX, EDX, ECX. */
static bool kvm_cpuid_vendor_is(const struct kvm_cpuid_entry2 *leaf0, const char *vendor)
{
	char v[12];

	memcpy(v, &leaf0->ebx, 4);
	memcpy(v + 4, &leaf0->edx, 4);
	memcpy(v + 8, &leaf0->ecx, 4);
	return memcmp(v, vendor, 12) == 0;
}

struct kvm_cpuid_entry2 *kvm_cpuid_find(struct kvm_cpuid2 *cpuid, uint32_t function, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

/* Bits needed to number count ids (0 for one): the x2APIC shift width. */
static uint32_t kvm_cpuid_id_bits(unsigned int count)
{
	uint32_t bits = 0;

	while ((1ull << bits) < count)
		bits++;
	return bits;
}

/* Topology leaves always carry subleaves 0 (SMT), 1 (core), 2 (end). */
#define CPUID_TOPO_SUBLEAVES 3u

static uint32_t kvm_cpuid_topology_missing(struct kvm_cpuid2 *cpuid, uint32_t fn)
{
	uint32_t sub, missing = 0;

	for (sub = 0; sub < CPUID_TOPO_SUBLEAVES; sub++)
		if (!kvm_cpuid_find(cpuid, fn, sub))
			missing++;
	return missing;
}

/* Rewrite every subleaf of extended-topology leaf fn (0xB or 0x1F),
 * adding subleaves 0-2 where absent; the caller checked there is room. */
static void kvm_cpuid_patch_topology(struct kvm_cpuid2 *cpuid, uint32_t fn, unsigned int apic_id,
				     unsigned int ncpus)
{
	uint32_t core_bits = kvm_cpuid_id_bits(ncpus);
	uint32_t i, sub;

	for (sub = 0; sub < CPUID_TOPO_SUBLEAVES; sub++) {
		struct kvm_cpuid_entry2 *e;

		if (kvm_cpuid_find(cpuid, fn, sub))
			continue;
		e = &cpuid->entries[cpuid->nent++];
		memset(e, 0, sizeof(*e));
		e->function = fn;
		e->index = sub;
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	}

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function != fn)
			continue;
		/* Subleaf lookups only work with the index marked significant. */
		e->flags |= KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		sub = e->index;
		e->edx = apic_id;
		if (sub == 0) {
			/* One thread per core: nothing to shift off for SMT. */
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (CPUID_TOPO_LEVEL_SMT << 8) | sub;
		} else if (sub == 1) {
			e->eax = core_bits;
			e->ebx = ncpus & 0xffff;
			e->ecx = (CPUID_TOPO_LEVEL_CORE << 8) | sub;
		} else {
			e->eax = 0;
			e->ebx = 0;
			e->ecx = (CPUID_TOPO_LEVEL_INVALID << 8) | (sub & 0xff);
		}
	}
}

/* Leaf 1: this vCPU's APIC id, the id space of ncpus, HTT when there is more than one, and the hypervisor bit. */
static void kvm_cpuid_patch_leaf1(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int ncpus)
{
	struct kvm_cpuid_entry2 *e = kvm_cpuid_find(cpuid, 1, 0);
	uint32_t logical;

	if (!e)
		return;
	/* SDM: EBX[23:16] is the number of addressable logical ids in
	 * the package, i.e. the id space, a power of two. */
	logical = 1u << kvm_cpuid_id_bits(ncpus);
	if (logical > 255)
		logical = 255;
	e->ebx &= 0x0000ffffu; /* keep brand index and CLFLUSH size */
	e->ebx |= (apic_id & 0xffu) << CPUID_1_EBX_APIC_ID_SHIFT;
	e->ebx |= logical << CPUID_1_EBX_LOGICAL_SHIFT;
	if (ncpus > 1)
		e->edx |= CPUID_1_EDX_HTT;
	else
		e->edx &= ~CPUID_1_EDX_HTT;
	e->ecx |= CPUID_1_ECX_HYPERVISOR;
}

/* Leaf 4 (deterministic cache parameters): every subleaf up to the null one (type 0) describes a cache. */
static void kvm_cpuid_patch_caches(struct kvm_cpuid2 *cpuid, unsigned int ncpus)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		uint32_t level, sharing;

		if (e->function != 4 || (e->eax & 0x1f) == 0)
			continue;
		level = (e->eax >> 5) & 0x7;
		sharing = level >= 3 ? ncpus - 1 : 0;
		e->eax &= 0x00003fffu;
		e->eax |= ((ncpus - 1) & 0x3fu) << 26;
		e->eax |= (sharing & 0xfffu) << 14;
	}
}

/* AMD and Hygon: core count and APIC id size in 0x80000008, the extended APIC id in 0x8000001E. */
static void kvm_cpuid_patch_amd(struct kvm_cpuid2 *cpuid, uint32_t max_ext, unsigned int apic_id,
				unsigned int ncpus)
{
	struct kvm_cpuid_entry2 *e;

	if (max_ext >= 0x80000008u) {
		e = kvm_cpuid_find(cpuid, 0x80000008u, 0);
		if (e) {
			/* NC = cores - 1 in [7:0], ApicIdSize in [15:12]. */
			e->ecx &= ~0x0000f0ffu;
			e->ecx |= (ncpus - 1) & 0xffu;
			e->ecx |= (kvm_cpuid_id_bits(ncpus) & 0xfu) << 12;
		}
	}
	if (max_ext >= 0x8000001eu) {
		e = kvm_cpuid_find(cpuid, 0x8000001eu, 0);
		if (e) {
			/* Extended APIC id; core id = APIC id with one thread per
			 * core; node 0 of one node per package. */
			e->eax = apic_id;
			e->ebx = apic_id & 0xffu;
			e->ecx = 0;
			e->edx = 0;
		}
	}
}

int kvm_cpuid_patch(struct kvm_cpuid2 *cpuid, uint32_t cap, unsigned int apic_id, unsigned int ncpus)
{
	struct kvm_cpuid_entry2 *leaf0, *ext0;
	uint32_t max_basic = 0, max_ext = 0, missing = 0;
	bool topo_b, topo_1f, amd = false;

	if (ncpus == 0 || apic_id >= ncpus || cap < cpuid->nent)
		return -EINVAL;
	leaf0 = kvm_cpuid_find(cpuid, 0, 0);
	if (leaf0) {
		max_basic = leaf0->eax;
		amd = kvm_cpuid_vendor_is(leaf0, "AuthenticAMD") || kvm_cpuid_vendor_is(leaf0, "HygonGenuine");
	}
	ext0 = kvm_cpuid_find(cpuid, 0x80000000u, 0);
	if (ext0)
		max_ext = ext0->eax;

	/* Count what must be added before touching anything, so a refusal
	 * leaves the table as it was. 0x1F is only described where the host
	 * offers it: older guests treat its presence as a v2 topology. */
	topo_b = max_basic >= 0xb;
	topo_1f = max_basic >= 0x1f && kvm_cpuid_find(cpuid, 0x1f, 0);
	if (topo_b)
		missing += kvm_cpuid_topology_missing(cpuid, 0xb);
	if (topo_1f)
		missing += kvm_cpuid_topology_missing(cpuid, 0x1f);
	if (cap - cpuid->nent < missing)
		return -ENOSPC;

	kvm_cpuid_patch_leaf1(cpuid, apic_id, ncpus);
	kvm_cpuid_patch_caches(cpuid, ncpus);
	if (topo_b)
		kvm_cpuid_patch_topology(cpuid, 0xb, apic_id, ncpus);
	if (topo_1f)
		kvm_cpuid_patch_topology(cpuid, 0x1f, apic_id, ncpus);
	if (amd)
		kvm_cpuid_patch_amd(cpuid, max_ext, apic_id, ncpus);
	return 0;
}

int kvm_cpuid_make_vcpu(const struct kvm_cpuid2 *supported, unsigned int apic_id, unsigned int ncpus,
			struct kvm_cpuid2 **out)
{
	uint32_t cap = supported->nent + KVM_CPUID_PATCH_SPARE;
	struct kvm_cpuid2 *cpuid;
	int ret;

	cpuid = calloc(1, sizeof(*cpuid) + (size_t)cap * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = supported->nent;
	memcpy(cpuid->entries, supported->entries, (size_t)supported->nent * sizeof(cpuid->entries[0]));

	ret = kvm_cpuid_patch(cpuid, cap, apic_id, ncpus);
	if (ret < 0) {
		free(cpuid);
		return ret;
	}
	*out = cpuid;
	return 0;
}
