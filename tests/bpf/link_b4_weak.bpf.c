// B4 (with link_b4_extern and link_b4_strong): a weak definition of b4_pick. Whatever the
// input order, the strong definition must win and the link must succeed (ELF semantics).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__weak __noinline int b4_pick(int x)
{
	return x + 1;
}

int b4_weak_seen;

SEC("xdp")
int xdp_b4_weak(struct xdp_md *ctx)
{
	b4_weak_seen = b4_pick(10);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
