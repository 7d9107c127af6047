// Rootlet of the dynamic-linking tests: an XDP program whose verdict comes from a weak,
// global, non-inlined placeholder. Loading an object that defines a strong
// dyn_placeholder() replaces it (freplace). The call is unconditional so the verifier
// (6.8+) keeps the placeholder reachable. Both programs contain the placeholder.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__weak __noinline int dyn_placeholder(struct xdp_md *ctx)
{
	/* Reads the packet bounds so the body can't be folded into the caller. */
	if (ctx->data_end - ctx->data < 14)
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp")
int dyn_rootlet(struct xdp_md *ctx)
{
	return dyn_placeholder(ctx);
}

/* A second entry program containing the same placeholder: one extension replaces it in both. */
SEC("xdp")
int dyn_rootlet2(struct xdp_md *ctx)
{
	return dyn_placeholder(ctx);
}

char LICENSE[] SEC("license") = "GPL";
