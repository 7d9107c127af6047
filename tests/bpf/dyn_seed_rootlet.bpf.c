// The 2019 thread's rootlet in one object: an exported parser that counts in the rootlet's
// map, and a weak placeholder asked for the verdict.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct seed_keys {
	__u32 first;
	__u32 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seed_parsed SEC(".maps");

__noinline int seed_parse(struct xdp_md *ctx, struct seed_keys *keys)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&seed_parsed, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	if (!keys || data + 1 > data_end)
		return -1;
	keys->first = *(__u8 *)data;
	keys->len = data_end - data;
	return 0;
}

__weak __noinline int seed_placeholder(struct xdp_md *ctx, struct seed_keys *keys)
{
	return keys ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp")
int seed_rootlet(struct xdp_md *ctx)
{
	struct seed_keys keys = {};

	if (seed_parse(ctx, &keys))
		return XDP_ABORTED;
	return seed_placeholder(ctx, &keys);
}

char LICENSE[] SEC("license") = "GPL";
