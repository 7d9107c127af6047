// Static linking: static variables and functions with the same names in two objects (with
// link_static2.bpf.c); each object must keep its own.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static volatile int static_var = 2;
static volatile const int static_ro = 20;
static volatile int static_bss;
int static_out1;

static __noinline int static_mul(int x)
{
	return x * static_var;
}

SEC("xdp")
int xdp_static1(struct xdp_md *ctx)
{
	static_bss += 1;
	static_out1 = static_mul(static_ro) + static_bss;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
