// libbpf bug B3 reproducer: the strong definition, in .bss.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int b3_pad_b;
int b3_x;

SEC("xdp")
int xdp_b3_b(struct xdp_md *ctx)
{
	b3_pad_b = b3_x + 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
