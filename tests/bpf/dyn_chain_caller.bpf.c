// Calls the top of a three-library chain (top -> mid -> base), all loaded before it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int chain_verdict(struct xdp_md *ctx);

SEC("xdp")
int dyn_chain_caller(struct xdp_md *ctx)
{
	return chain_verdict(ctx);
}

char LICENSE[] SEC("license") = "GPL";
