// Target of the freplace tests: an XDP program whose verdict comes from a global, non-inlined
// placeholder. The call is unconditional so the verifier (6.8+) keeps the placeholder.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int placeholder(struct xdp_md *ctx)
{
	/* Reads the packet bounds so the body can't be folded to a constant by the caller. */
	if (ctx->data_end - ctx->data < 14)
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp")
int xdp_target(struct xdp_md *ctx)
{
	return placeholder(ctx);
}

char LICENSE[] SEC("license") = "GPL";
