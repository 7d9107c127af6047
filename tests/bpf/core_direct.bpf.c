// Direct (non-probed) loads with CO-RE offsets: the relocated LDX itself carries the field
// offset, and its width changes when the target field's size differs (allowed for unsigned
// integers and pointers, poisoned for signed integers). Only the relocations matter here: the
// verifier rejects these loads from an untrusted pointer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct mm_struct;

struct task_struct {
	unsigned int flags;
	int pid;
	struct mm_struct *mm;
	char comm[16];
} __attribute__((preserve_access_index));

__u64 out[4];

SEC("raw_tp/sys_enter")
int direct_loads(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	out[0] = t->flags;
	out[1] = t->pid;
	out[2] = (unsigned long)t->mm;
	out[3] = t->comm[2];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
