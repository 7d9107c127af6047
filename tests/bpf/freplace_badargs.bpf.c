// A replacement for freplace_target's placeholder with one argument too many.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace/placeholder")
int two_args(struct xdp_md *ctx, int extra)
{
	return extra ? XDP_DROP : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
