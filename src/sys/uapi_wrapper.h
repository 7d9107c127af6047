/* Kernel UAPI headers that build.rs feeds to bindgen (see src/sys/uapi.rs). */
#include <linux/bpf.h>
#include <linux/btf.h>
/* XDP_FLAGS_* for BPF_LINK_CREATE on BPF_XDP and netlink attachment. */
#include <linux/if_link.h>
/* BPF_FS_MAGIC, to recognise a mounted bpffs. */
#include <linux/magic.h>
