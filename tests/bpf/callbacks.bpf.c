// Callbacks (bpf_loop, bpf_for_each_map_elem) referenced through BPF_PSEUDO_FUNC ld_imm64,
// socket filter and tc programs, static functions shared by several programs.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct bpf_map;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

__u64 loop_sum;
__u64 elem_sum;

static int add_index(__u32 index, void *ctx)
{
	loop_sum += index;
	return 0;
}

static __u64 sum_elem(struct bpf_map *map, __u32 *key, __u64 *val, void *ctx)
{
	elem_sum += *val + *key;
	return 0;
}

static __noinline int shared_work(int n)
{
	bpf_loop(n, add_index, NULL, 0);
	bpf_for_each_map_elem(&values, sum_elem, NULL, 0);
	return n;
}

SEC("tc")
int tc_prog(struct __sk_buff *skb)
{
	shared_work(10);
	return TC_ACT_OK;
}

SEC("socket")
int socket_prog(struct __sk_buff *skb)
{
	shared_work(4);
	return skb->len;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
