// A rootlet with a weak placeholder and an exported global parser (the 2019 thread's example),
// plus every kind of extern: function, variable, map, .kconfig and .ksyms.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct flow_keys {
	__u16 proto;
	__u16 len;
};

extern int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_JIT __kconfig __weak;
extern const void bpf_prog_active __ksym;
extern int ext_classify(struct xdp_md *ctx) __attribute__((section(".text")));
extern __u32 ext_threshold;

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ext_stats SEC(".maps");

__noinline int bpf_packet_parser(struct xdp_md *ctx, struct flow_keys *keys)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (!keys || (void *)(eth + 1) > data_end)
		return -1;
	keys->proto = eth->h_proto;
	keys->len = data_end - data;
	return 0;
}

__weak __noinline int xdp_firewall_placeholder(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int rootlet(struct xdp_md *ctx)
{
	struct flow_keys keys = {};
	__u32 zero = 0;
	__u64 *st;
	int ret;

	if (bpf_packet_parser(ctx, &keys) < 0)
		return XDP_ABORTED;
	if (LINUX_KERNEL_VERSION < 0x050a00 || !CONFIG_BPF_JIT)
		return XDP_PASS;
	if (keys.len > ext_threshold)
		return ext_classify(ctx);
	st = bpf_map_lookup_elem(&ext_stats, &zero);
	if (st)
		*st += 1;
	ret = xdp_firewall_placeholder(ctx);
	if (ret == XDP_PASS && bpf_this_cpu_ptr(&bpf_prog_active))
		return XDP_PASS;
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
