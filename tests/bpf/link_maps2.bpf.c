// Static linking: the other half of link_maps1.bpf.c (extern declarations of its maps).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct shared_key {
	int id;
};

struct shared_value {
	long count;
};

extern struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct shared_key);
	__type(value, struct shared_value);
	__uint(max_entries, 16);
} maps_shared SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, int);
	__uint(max_entries, 2);
};

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, int);
	__array(values, struct inner_map);
} maps_outer SEC(".maps");

extern struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, int);
	__array(values, int(void *));
} maps_jmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, long);
	__uint(max_entries, 4);
} maps_weak __weak SEC(".maps");

SEC("xdp")
int xdp_maps2(struct xdp_md *ctx)
{
	struct shared_key k = { .id = 2 };
	struct shared_value one = { .count = 7 };
	int idx = 0, val = 0;
	long lv = 9;

	bpf_map_update_elem(&maps_shared, &k, &one, BPF_ANY);
	int *inner_val = NULL;
	void *inner = bpf_map_lookup_elem(&maps_outer, &idx);
	if (inner)
		inner_val = bpf_map_lookup_elem(inner, &idx);
	if (inner_val)
		val = *inner_val;
	idx = 1;
	bpf_map_update_elem(&maps_weak, &idx, &lv, BPF_ANY);
	if (val == 41)
		bpf_tail_call(ctx, &maps_jmp, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
