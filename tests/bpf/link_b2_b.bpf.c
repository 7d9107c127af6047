// libbpf bug B2 reproducer: the strong definition.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int b2_pad_b = 2;
int b2_x = 7;

SEC("xdp")
int xdp_b2_b(struct xdp_md *ctx)
{
	b2_x += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
