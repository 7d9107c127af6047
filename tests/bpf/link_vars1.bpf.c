// Static linking: variables in .data/.bss/.rodata across objects (with link_vars2.bpf.c),
// weak and strong definitions, extern declarations, .kconfig/.ksyms externs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern const void bpf_link_fops __ksym __weak;

int vars_bss1;
int vars_data1 = 1;
const volatile int vars_rodata1 = 11;

/* strong here, weak in link_vars2 (strong first: the weak-then-strong order is libbpf's bug
 * B2, tested in link_b2_*) */
int vars_bss_weak;
int vars_data_weak = 10;
/* weak in both: this first one wins */
const volatile int vars_rodata_weak __weak = 100;

extern int vars_bss2;
extern int vars_data2;
extern const int vars_rodata2;

int vars_sum1;
long vars_kver_seen1;

SEC("xdp")
int xdp_vars1(struct xdp_md *ctx)
{
	vars_bss1 += 1;
	vars_sum1 = vars_bss1 + vars_data1 + vars_rodata1 + vars_bss2 + vars_data2 + vars_rodata2 +
		    vars_bss_weak + vars_data_weak + vars_rodata_weak;
	vars_kver_seen1 = LINUX_KERNEL_VERSION != 0;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
