// Middle of a library chain: chain_decide() uses chain_parse() of the base library.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int chain_parse(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mid_calls SEC(".maps");

int chain_decide(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&mid_calls, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return chain_parse(ctx) == 0xff ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
