// Every CO-RE relocation kind, against kernel-named types: flavors, bitfields, enums and
// enumerator values, type existence/size/ids/matches, a missing field, arrays and members
// inside nested anonymous structs/unions. Reads go through bpf_probe_read_kernel so the
// program verifies as a raw_tp on any kernel; core_target.bpf.c provides a fake "kernel" BTF
// with other layouts for deterministic expectations.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef unsigned int u32;

struct mm_struct {
	unsigned long task_size;
	int map_count;
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int flags;
	int pid;
	int tgid;
	char comm[16];
	struct mm_struct *mm;
	int no_such_field_anywhere;
} __attribute__((preserve_access_index));

/* A flavor: pre-5.14 kernels had `state`, later ones `__state`. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct task_struct___new {
	unsigned int __state;
} __attribute__((preserve_access_index));

/* Only a subset of the kernel's members, for TYPE_MATCHES. */
struct task_struct___subset {
	int pid;
	unsigned int flags;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned int len;
	__u8 cloned: 1;
	__u8 pkt_type: 3;
	__u32 mark;
} __attribute__((preserve_access_index));

struct no_such_type_anywhere {
	int x;
} __attribute__((preserve_access_index));

enum bpf_map_type___mine {
	BPF_MAP_TYPE_HASH___mine = 1,
	BPF_MAP_TYPE_RINGBUF___mine = 27,
	BPF_MAP_TYPE_NO_SUCH_VALUE___mine = 1000,
};

__u64 out[40];

SEC("raw_tp/sys_enter")
int all_kinds(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct sk_buff *skb = (void *)ctx;
	struct mm_struct *mm;
	char c = 0;
	int i = 0;

	out[i++] = BPF_CORE_READ(task, pid);
	out[i++] = BPF_CORE_READ(task, tgid);
	out[i++] = BPF_CORE_READ(task, flags);
	bpf_core_read(&c, 1, &task->comm[3]);
	out[i++] = c;
	out[i++] = bpf_core_field_offset(task->comm[3]);
	out[i++] = bpf_core_field_size(task->comm);
	out[i++] = bpf_core_field_size(task->comm[3]);
	out[i++] = bpf_core_field_exists(task->no_such_field_anywhere);
	out[i++] = bpf_core_field_exists(task->tgid);
	if (bpf_core_field_exists(task->no_such_field_anywhere))
		out[i++] = BPF_CORE_READ(task, no_such_field_anywhere);

	mm = BPF_CORE_READ(task, mm);
	out[i++] = BPF_CORE_READ(mm, task_size);
	out[i++] = bpf_core_field_offset(mm->map_count);

	if (bpf_core_field_exists(((struct task_struct___old *)task)->state))
		out[i++] = BPF_CORE_READ((struct task_struct___old *)task, state);
	else
		out[i++] = BPF_CORE_READ((struct task_struct___new *)task, __state);

	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(skb, cloned);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	out[i++] = bpf_core_field_offset(skb->mark);
	out[i++] = __builtin_preserve_field_info(skb->len, BPF_FIELD_SIGNED);

	out[i++] = bpf_core_type_exists(struct task_struct);
	out[i++] = bpf_core_type_exists(struct no_such_type_anywhere);
	out[i++] = bpf_core_type_exists(u32);
	out[i++] = bpf_core_type_size(struct task_struct);
	out[i++] = bpf_core_type_size(u32);
	out[i++] = bpf_core_type_id_kernel(struct task_struct);
	out[i++] = bpf_core_type_id_local(struct task_struct);
	out[i++] = bpf_core_type_matches(struct task_struct___subset);
	out[i++] = bpf_core_type_matches(struct sk_buff);

	out[i++] = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine);
	out[i++] = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_NO_SUCH_VALUE___mine);
	out[i++] = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine);
	if (bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_NO_SUCH_VALUE___mine))
		out[i++] = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_NO_SUCH_VALUE___mine);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
