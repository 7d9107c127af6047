// Top of a library chain: chain_verdict() turns chain_decide()'s pass into XDP_TX.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int chain_decide(struct xdp_md *ctx);

int chain_verdict(struct xdp_md *ctx)
{
	int decided = chain_decide(ctx);

	return decided == XDP_PASS ? XDP_TX : decided;
}

char LICENSE[] SEC("license") = "GPL";
