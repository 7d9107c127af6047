// A program the verifier rejects (packet read without a bounds check), next to one it accepts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int good_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int unchecked_read(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	return data[20] ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
