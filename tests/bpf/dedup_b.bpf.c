// BTF dedup test program B: the shared types of dedup_a, but `struct peer` only declared
// (FWD in B's BTF), `struct opaque` and both enums fully defined, a different `struct layout`.
#define DEDUP_TYPES_ONLY
#define DEDUP_PEER_OPAQUE
#define DEDUP_OPAQUE_DEFINED
#define DEDUP_FULL_ENUMS
#define DEDUP_SECOND_LAYOUT
#include "dedup_a.bpf.c"

struct table b_table;
struct layout b_layout;
struct opaque b_opaque;
enum fwd_enum b_fwd_enum;
enum wide b_wide;
peer_t *b_peer;

SEC("xdp")
int dedup_b_prog(struct xdp_md *ctx)
{
	return b_table.shade == BLUE && b_opaque.z ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
