// Calls classify() only when a frozen .rodata knob says so (it is 0): since 6.8 the verifier
// drops the unreachable stub, and the load must still succeed (nothing to link).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int classify(struct xdp_md *ctx);

const volatile int use_classifier = 0;

SEC("xdp")
int dyn_caller_gated(struct xdp_md *ctx)
{
	if (use_classifier)
		return classify(ctx);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
