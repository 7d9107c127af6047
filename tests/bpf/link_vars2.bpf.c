// Static linking: the other half of link_vars1.bpf.c.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;

int vars_bss2;
int vars_data2 = 2;
const volatile int vars_rodata2 = 22;

int vars_bss_weak __weak;
int vars_data_weak __weak = 20;
const volatile int vars_rodata_weak __weak = 200;

extern int vars_bss1;
extern int vars_data1;
extern const int vars_rodata1;

int vars_sum2;

SEC("xdp")
int xdp_vars2(struct xdp_md *ctx)
{
	vars_bss2 += 2;
	vars_sum2 = vars_bss1 + vars_data1 + vars_rodata1 + vars_bss2 + vars_data2 + vars_rodata2 +
		    vars_bss_weak + vars_data_weak + vars_rodata_weak + (LINUX_KERNEL_VERSION != 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
