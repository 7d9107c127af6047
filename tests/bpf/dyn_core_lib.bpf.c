// A library whose exported function is CO-RE relocated: pid_offset() returns the offset of
// task_struct.pid in the running kernel (the local definition says 0). Callers get the
// relocated code, so the library's CO-RE relocations must be applied for it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

int pid_offset(struct xdp_md *ctx)
{
	return bpf_core_field_offset(struct task_struct, pid);
}

char LICENSE[] SEC("license") = "GPL";
