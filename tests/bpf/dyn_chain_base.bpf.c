// Bottom of a library chain: chain_parse() reads the first byte and counts its calls.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} base_calls SEC(".maps");

int chain_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&base_calls, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	if (data + 1 > data_end)
		return -1;
	return *(__u8 *)data;
}

char LICENSE[] SEC("license") = "GPL";
