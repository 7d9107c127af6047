// Calls classify() of a library loaded before it (dyn_classifier.bpf.c): two programs, so one
// provider function is linked into several stubs of several callers.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int classify(struct xdp_md *ctx);

SEC("xdp")
int dyn_caller(struct xdp_md *ctx)
{
	return classify(ctx);
}

/* Uses the result: XDP_TX for what classify passes, so both programs are told apart. */
SEC("xdp")
int dyn_caller2(struct xdp_md *ctx)
{
	return classify(ctx) == XDP_PASS ? XDP_TX : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
