// Static linking: the other half of link_core1.bpf.c.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct xdp_md___other {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
} __attribute__((preserve_access_index));

int core_out2;

SEC("xdp")
int xdp_core2(struct xdp_md *ctx)
{
	core_out2 = bpf_core_field_offset(struct xdp_md___other, rx_queue_index) +
		    bpf_core_type_size(struct xdp_md___other) * 1000;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
