#include <linux/bpf.h>
#include <linux/btf.h>
