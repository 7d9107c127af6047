// B4: a GLOBAL extern declaration of b4_pick; it must not change which definition wins.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int b4_pick(int x);

int b4_extern_seen;

SEC("xdp")
int xdp_b4_extern(struct xdp_md *ctx)
{
	b4_extern_seen = b4_pick(20);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
