// Map-in-map with inner map definition and initial slots, a prog array with initial slots
// (tail calls), several programs in one section and a program whose autoload is off ("?").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

int tail_a(struct xdp_md *ctx);
int tail_b(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jump_table SEC(".maps") = {
	.values = { [1] = (void *)&tail_a, [3] = (void *)&tail_b },
};

SEC("xdp")
int tail_a(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int tail_b(struct xdp_md *ctx)
{
	return XDP_TX;
}

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	__u32 key = (ctx->data_end - ctx->data) > 100 ? 1 : 0;
	__u32 *val, zero = 0;
	void *inner = bpf_map_lookup_elem(&outer, &key);

	if (!inner)
		return XDP_ABORTED;
	val = bpf_map_lookup_elem(inner, &zero);
	if (val)
		__sync_fetch_and_add(val, 1);
	bpf_tail_call(ctx, &jump_table, key ? 3 : 1);
	return XDP_PASS;
}

SEC("?xdp")
int not_autoloaded(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
