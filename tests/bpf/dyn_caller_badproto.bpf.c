// Declares classify() with a prototype the library's definition doesn't have: the load must
// fail in user space, naming both prototypes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int classify(struct xdp_md *ctx, int strictness);

SEC("xdp")
int dyn_caller_bad(struct xdp_md *ctx)
{
	return classify(ctx, 1);
}

char LICENSE[] SEC("license") = "GPL";
