// Replaces the seed rootlet's placeholder and calls the rootlet's exported parser: the
// replacement is an extension program, which the kernel can't extend again, so the parser's
// code is imported into it, sharing the rootlet's map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct seed_keys {
	__u32 first;
	__u32 len;
};

extern int seed_parse(struct xdp_md *ctx, struct seed_keys *keys);

int seed_placeholder(struct xdp_md *ctx, struct seed_keys *keys)
{
	struct seed_keys mine = {};

	if (seed_parse(ctx, &mine))
		return XDP_ABORTED;
	return mine.first == 0xff ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
