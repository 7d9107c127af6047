// A rootlet whose placeholder call is gated on a frozen .rodata constant that is 0: since
// 6.8 the verifier drops the (unreachable) global placeholder, so it can't be replaced and
// the loader must warn. Older kernels verify every global function and keep it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int use_placeholder = 0;

__weak __noinline int dyn_placeholder(struct xdp_md *ctx)
{
	if (ctx->data_end - ctx->data < 14)
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp")
int dyn_gated(struct xdp_md *ctx)
{
	if (use_placeholder)
		return dyn_placeholder(ctx);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
