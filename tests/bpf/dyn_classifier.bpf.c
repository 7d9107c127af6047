// A library object (no SEC() program): exports classify(), which counts its calls per verdict
// in the library's own map. Objects that declare `extern int classify(struct xdp_md *)` and
// are loaded after it call this code, sharing this map (dynamic linking, issue 5).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} classify_calls SEC(".maps");

int classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 verdict = XDP_PASS;
	__u64 *count;

	if (data + 1 > data_end)
		verdict = XDP_ABORTED;
	else if (*(__u8 *)data == 0xff)
		verdict = XDP_DROP;
	count = bpf_map_lookup_elem(&classify_calls, &verdict);
	if (count)
		__sync_fetch_and_add(count, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
