// Static linking: functions across objects (with link_funcs2.bpf.c).
// - sum_strong: extern here, defined in link_funcs2;
// - pick_weak: weak here, strong in link_funcs2 (strong wins, calls from here go there);
// - first_weak: weak in both (the first object's body wins);
// - local_twice: static, same name in both objects, different bodies.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int sum_strong(int a, int b);

__weak __noinline int pick_weak(int x)
{
	return x + 1;
}

__weak __noinline int first_weak(int x)
{
	return x + 11;
}

static __noinline int local_twice(int x)
{
	return x * 2;
}

int funcs1_sum, funcs1_pick, funcs1_first, funcs1_local;

SEC("xdp")
int xdp_funcs1(struct xdp_md *ctx)
{
	funcs1_sum = sum_strong(2, 3);
	funcs1_pick = pick_weak(10);
	funcs1_first = first_weak(1);
	funcs1_local = local_twice(5);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
