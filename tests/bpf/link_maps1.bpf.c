// Static linking: maps across objects (with link_maps2.bpf.c). Defines the maps; link_maps2
// declares them extern (after the definition when linked in this order): a hash map, a
// map-in-map with an initial inner map, a prog array with an initial program, and a weak map
// defined identically in both objects.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct shared_key {
	int id;
};

struct shared_value {
	long count;
};

struct {
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
} maps_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, int);
	__array(values, struct inner_map);
} maps_outer SEC(".maps") = {
	.values = { [0] = &maps_inner },
};

SEC("xdp")
int xdp_tail_target(struct xdp_md *ctx)
{
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, int);
	__array(values, int(void *));
} maps_jmp SEC(".maps") = {
	.values = { [1] = (void *)&xdp_tail_target },
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, long);
	__uint(max_entries, 4);
} maps_weak __weak SEC(".maps");

SEC("xdp")
int xdp_maps1(struct xdp_md *ctx)
{
	struct shared_key k = { .id = 1 };
	struct shared_value one = { .count = 1 }, *v;
	int idx = 0, val = 41;
	long lv = 5;

	v = bpf_map_lookup_elem(&maps_shared, &k);
	if (v)
		v->count += 1;
	else
		bpf_map_update_elem(&maps_shared, &k, &one, BPF_ANY);
	void *inner = bpf_map_lookup_elem(&maps_outer, &idx);
	if (inner)
		bpf_map_update_elem(inner, &idx, &val, BPF_ANY);
	bpf_map_update_elem(&maps_weak, &idx, &lv, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
