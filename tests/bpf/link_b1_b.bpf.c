// libbpf bug B1 reproducer: defines the map link_b1_a.bpf.c declares, after a map of its own
// (so its offset in .maps is not 0).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, int);
	__type(value, int);
	__uint(max_entries, 8);
} b1_own_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, long);
	__uint(max_entries, 2);
} b1_shared SEC(".maps");

SEC("xdp")
int xdp_b1_b(struct xdp_md *ctx)
{
	int k = 1;
	long *v, w;

	k = 0;
	v = bpf_map_lookup_elem(&b1_shared, &k);
	w = v ? *v + 1 : -1;
	k = 1;
	bpf_map_update_elem(&b1_shared, &k, &w, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
