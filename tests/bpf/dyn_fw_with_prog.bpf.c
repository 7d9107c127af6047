// An object with its own SEC() program AND a strong definition of dyn_rootlet's weak
// placeholder: loading it replaces the placeholder in the loaded rootlet (an extension
// program the load adds) while its own program calls its own definition directly.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int dyn_placeholder(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int fw_own_prog(struct xdp_md *ctx)
{
	return dyn_placeholder(ctx) == XDP_DROP ? XDP_TX : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
