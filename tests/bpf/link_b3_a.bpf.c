// libbpf bug B3 reproducer (with link_b3_b.bpf.c, linked a then b): a weak initialised
// variable in .data overridden by a strong zero-initialised one in .bss. libbpf corrupts
// its heap; the correct result is one variable, in .bss, reading 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int b3_x __weak = 5;
int b3_seen = -1;

SEC("xdp")
int xdp_b3_a(struct xdp_md *ctx)
{
	b3_seen = b3_x;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
