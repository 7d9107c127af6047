// BTF dedup test program C: all shared types of dedup_a defined in full, used through a
// function prototype and a map value, so their copies reach the BTF by other paths.
#define DEDUP_TYPES_ONLY
#define DEDUP_OPAQUE_DEFINED
#define DEDUP_FULL_ENUMS
#include "dedup_a.bpf.c"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct table);
} c_tables SEC(".maps");

struct peer c_peer;
struct opaque *c_opaque;

__noinline int c_visit(struct node *n, peer_t *p, void *ctx)
{
	return n ? n->value : (p ? 1 : 0);
}

SEC("xdp")
int dedup_c_prog(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct table *t = bpf_map_lookup_elem(&c_tables, &key);

	return t && c_visit(t->slots[0], &c_peer, ctx) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
