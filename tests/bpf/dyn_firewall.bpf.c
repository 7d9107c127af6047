// Plain C with no SEC() program: a strong definition of the rootlet's weak placeholder.
// Loading this object while dyn_rootlet is loaded replaces the placeholder with this body.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int dyn_placeholder(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
