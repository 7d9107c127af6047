// BTF dedup test program A. Its first part is a "shared header" of types that dedup_b and
// dedup_c include (with DEDUP_TYPES_ONLY), with switches that replace some definitions by
// forward declarations or different layouts, so that the linked BTF exercises cycles, FWD
// resolution, ENUM vs ENUM64 and same-name-different-layout types.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct peer;

/* Two structs referring to each other through pointers (a cycle in the type graph). */
struct node {
	struct node *next;
	struct peer *peer;
	int value;
	unsigned int flags : 3, kind : 5;
};

#ifndef DEDUP_PEER_OPAQUE
struct peer {
	struct node *owner;
	const volatile __u64 stamp;
	char tag[8];
};
#endif

typedef struct peer peer_t;
typedef int (*visit_fn)(struct node *n, peer_t *p, void *ctx);

enum color { RED, GREEN = 4, BLUE };

union scalar {
	int i;
	float f;
	__u64 raw;
};

struct table {
	struct node *slots[4];
	union scalar cells[2][3];
	visit_fn visit;
	enum color shade;
	struct {
		short lo;
		short hi;
	} range;
};

#ifdef DEDUP_SECOND_LAYOUT
struct layout { long a; long b; };
#else
struct layout { int a; };
#endif

/* Enum forward declarations (`enum x;`) are exercised by tests/btf_dedup.rs with a source of
 * its own: clang gives them size 0, which Btf::parse currently rejects for the whole corpus. */
#ifdef DEDUP_FULL_ENUMS
enum fwd_enum { FE_ONE = 1, FE_TWO };
enum wide { W_SMALL = 1, W_BIG = 0x100000000ULL };
#endif

#ifdef DEDUP_OPAQUE_DEFINED
struct opaque { int z; long w; };
#else
struct opaque;
#endif

#ifndef DEDUP_TYPES_ONLY
struct table a_table;
struct layout a_layout;
struct opaque *a_opaque;

static __noinline int visit_all(struct table *t, struct node *n)
{
	return t->visit ? 1 : n->value;
}

SEC("xdp")
int dedup_a_prog(struct xdp_md *ctx)
{
	return visit_all(&a_table, a_table.slots[0]) > 100 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
#endif
