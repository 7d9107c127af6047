// Not a program to load: its BTF plays the "kernel" for CO-RE tests (btf_custom_path), with
// layouts that differ from the host kernel and from the local definitions in core_relos.bpf.c
// and core_direct.bpf.c, so expected values are fixed by this file alone.
typedef unsigned int u32;
typedef unsigned char __u8;
typedef unsigned int __u32;

struct mm_struct {
	int pad[3];
	struct {
		struct {
			int map_count;
			unsigned long task_size;
		};
	};
};

struct task_struct {
	long __state;
	char pad[40];
	unsigned long flags;
	int tgid;
	long pid;
	char comm[24];
	struct mm_struct *mm;
};

struct sk_buff {
	char pad[20];
	unsigned int len;
	union {
		struct {
			__u8 x: 2;
			__u8 cloned: 1;
			__u8 pkt_type: 3;
		};
		__u32 flagword;
	};
	__u8 pad2[3];
	struct {
		union {
			__u32 reserved;
			__u32 mark;
		};
	};
};

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 10,
	BPF_MAP_TYPE_RINGBUF = 77,
};

struct task_struct kernel_task;
struct mm_struct kernel_mm;
struct sk_buff kernel_skb;
enum bpf_map_type kernel_map_type;
u32 kernel_u32;

__attribute__((section("license"), used)) char LICENSE[] = "GPL";
