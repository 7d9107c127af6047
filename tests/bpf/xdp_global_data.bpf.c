// XDP program exercising global data (.data, .rodata, .bss, custom .data.* section),
// BTF-defined array/hash maps, a static and a global subprogram.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} verdict_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} len_hist SEC(".maps");

const volatile __u32 drop_len_over = 1000;   /* .rodata: set before load */
__u32 packets_seen = 7;                       /* .data */
__u64 bytes_seen;                             /* .bss */
__u32 extra_counter SEC(".data.extra") = 3;   /* custom data section */

static __noinline __u32 bucket_of(__u32 len)
{
	return len / 64;
}

__noinline int count_verdict(__u32 verdict)
{
	__u64 *cnt = bpf_map_lookup_elem(&verdict_counts, &verdict);

	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return verdict;
}

SEC("xdp")
int xdp_len_filter(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 bucket = bucket_of(len);
	__u32 one = 1, *hist;

	packets_seen++;
	bytes_seen += len;
	extra_counter++;
	hist = bpf_map_lookup_elem(&len_hist, &bucket);
	if (hist)
		__sync_fetch_and_add(hist, 1);
	else
		bpf_map_update_elem(&len_hist, &bucket, &one, BPF_ANY);
	if (len > drop_len_over)
		return count_verdict(XDP_DROP);
	return count_verdict(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
