// Calls two extern functions; loaded with no provider, the load must name both at once.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int classify(struct xdp_md *ctx);
extern int chain_verdict(struct xdp_md *ctx);

SEC("xdp")
int dyn_caller_many(struct xdp_md *ctx)
{
	return classify(ctx) == XDP_PASS ? chain_verdict(ctx) : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
