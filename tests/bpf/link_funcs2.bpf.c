// Static linking: the other half of link_funcs1.bpf.c.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int sum_strong(int a, int b)
{
	return a + b;
}

__noinline int pick_weak(int x)
{
	return x + 100;
}

__weak __noinline int first_weak(int x)
{
	return x + 22;
}

static __noinline int local_twice(int x)
{
	return x * 3;
}

int funcs2_sum, funcs2_pick, funcs2_first, funcs2_local;

SEC("xdp")
int xdp_funcs2(struct xdp_md *ctx)
{
	funcs2_sum = sum_strong(7, 8);
	funcs2_pick = pick_weak(1);
	funcs2_first = first_weak(2);
	funcs2_local = local_twice(5);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
