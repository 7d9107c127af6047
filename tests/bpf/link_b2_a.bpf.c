// libbpf bug B2 reproducer (with link_b2_b.bpf.c, linked a then b): a weak variable, then a
// strong one of the same name in the same section. Programs use the strong one; libbpf's
// DATASEC keeps the weak one's offset, so a skeleton reads other bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int b2_pad_a = 1;
int b2_x __weak = 5;
int b2_seen_a;

SEC("xdp")
int xdp_b2_a(struct xdp_md *ctx)
{
	b2_seen_a = b2_x;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
