// Returns what the CO-RE library's pid_offset() says (the test compares it with vmlinux BTF).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int pid_offset(struct xdp_md *ctx);

SEC("xdp")
int dyn_core_caller(struct xdp_md *ctx)
{
	return pid_offset(ctx);
}

char LICENSE[] SEC("license") = "GPL";
