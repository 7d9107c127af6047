// B4: the strong definition of b4_pick.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int b4_pick(int x)
{
	return x + 1000;
}

char LICENSE[] SEC("license") = "GPL";
