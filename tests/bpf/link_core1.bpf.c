// Static linking: CO-RE relocations in two objects (with link_core2.bpf.c); their .BTF.ext
// records must be shifted to the merged section and their type ids remapped.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct xdp_md___local {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
} __attribute__((preserve_access_index));

int core_out1;

SEC("xdp")
int xdp_core1(struct xdp_md *ctx)
{
	core_out1 = bpf_core_field_offset(struct xdp_md___local, data_end) * 100 +
		    bpf_core_field_exists(struct xdp_md___local, ingress_ifindex);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
