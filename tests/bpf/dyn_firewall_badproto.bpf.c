// A strong dyn_placeholder with the wrong prototype (a second argument): loading it while
// dyn_rootlet is loaded must fail in user space with both prototypes in the message.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int dyn_placeholder(struct xdp_md *ctx, int verdict)
{
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
