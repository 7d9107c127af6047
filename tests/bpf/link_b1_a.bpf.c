// libbpf bug B1 reproducer (with link_b1_b.bpf.c, linked a then b): an extern map declared
// in an object linked before the one defining it. libbpf keeps a stale .maps DATASEC offset
// and its output fails to open; bpflink's output must load and share the map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, long);
	__uint(max_entries, 2);
} b1_shared SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, int);
	__uint(max_entries, 1);
} b1_own_a SEC(".maps");

SEC("xdp")
int xdp_b1_a(struct xdp_md *ctx)
{
	int k = 0, one = 1;
	long v = 1234;

	bpf_map_update_elem(&b1_shared, &k, &v, BPF_ANY);
	bpf_map_update_elem(&b1_own_a, &k, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
