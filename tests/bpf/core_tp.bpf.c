// CO-RE relocations (field offsets, existence, type size) in tracepoint and raw_tp programs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

__u64 last_pid;
__u32 comm_size;
__u32 has_tgid;

SEC("raw_tp/sys_enter")
int on_sys_enter(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	last_pid = BPF_CORE_READ(task, pid);
	comm_size = bpf_core_field_size(task->comm);
	has_tgid = bpf_core_field_exists(task->tgid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	last_pid = bpf_get_current_pid_tgid() >> 32;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
