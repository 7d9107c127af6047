// .ksyms externs: a typed per-CPU kernel variable (BTF id) and a missing weak typeless symbol.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const int bpf_prog_active __ksym;
extern const void bpflink_no_such_kernel_symbol __ksym __weak;

SEC("xdp")
int ksym_prog(struct xdp_md *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	if (&bpflink_no_such_kernel_symbol)
		return XDP_ABORTED;
	return *active >= 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
