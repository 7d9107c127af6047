// The 2019 thread's rootlet: parses with an imported parser, then asks a replaceable
// placeholder for the verdict. Alone, the placeholder lets everything pass.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "demo.h"

extern int bpf_packet_parser(struct xdp_md *ctx, struct flow_keys *keys);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, __u32);
	__type(value, __u64);
} verdict_counts SEC(".maps");

__weak __noinline int xdp_firewall_placeholder(struct xdp_md *ctx, struct flow_keys *keys)
{
	return XDP_PASS;
}

SEC("xdp")
int rootlet(struct xdp_md *ctx)
{
	struct flow_keys keys = {};
	__u32 verdict = XDP_PASS;
	__u64 *count;

	if (bpf_packet_parser(ctx, &keys) == 0)
		verdict = xdp_firewall_placeholder(ctx, &keys);
	count = bpf_map_lookup_elem(&verdict_counts, &verdict);
	if (count)
		__sync_fetch_and_add(count, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
