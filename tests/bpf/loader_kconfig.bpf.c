// .kconfig externs of every supported kind, copied into .bss so tests can read them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>


extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF __kconfig;
extern int CONFIG_HZ __kconfig;
extern enum libbpf_tristate CONFIG_TUN __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;
extern _Bool CONFIG_BPFLINK_DOES_NOT_EXIST __kconfig __weak;

__u32 kernel_version;
__u32 bpf_enabled;
__s32 hz;
__u32 tun;
char hostname[16];
__u32 missing;

SEC("xdp")
int read_kconfig(struct xdp_md *ctx)
{
	kernel_version = LINUX_KERNEL_VERSION;
	bpf_enabled = CONFIG_BPF;
	hz = CONFIG_HZ;
	tun = CONFIG_TUN;
	__builtin_memcpy(hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(hostname));
	missing = CONFIG_BPFLINK_DOES_NOT_EXIST;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
