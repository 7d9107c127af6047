// Benchmark library: heavy() costs the verifier well over 50k processed instructions (a long
// bounded loop it walks iteration by iteration); tiny() is a one-branch function for the
// per-packet cost of the call itself. No SEC() program: loaded alone it is a library.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef HEAVY_LOOPS
#define HEAVY_LOOPS 6000
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} heavy_calls SEC(".maps");

int heavy(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 acc = 0, *calls = bpf_map_lookup_elem(&heavy_calls, &key);

	if (calls)
		__sync_fetch_and_add(calls, 1);
	if (data + 64 > data_end)
		return XDP_ABORTED;
#pragma clang loop unroll(disable)
	for (int i = 0; i < HEAVY_LOOPS; i++)
		acc = acc * 31 + ((__u8 *)data)[i & 63];
	return acc & 1 ? XDP_DROP : XDP_PASS;
}

int tiny(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	return *(__u8 *)data == 0xff ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
