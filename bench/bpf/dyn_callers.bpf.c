// Benchmark callers: 16 XDP programs calling the shared heavy() and one calling tiny(), all
// defined by another object (dyn_heavy.bpf.c), linked statically or dynamically.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int heavy(struct xdp_md *ctx);
extern int tiny(struct xdp_md *ctx);

#define CALLER(n)                                  \
	SEC("xdp") int heavy_caller_##n(struct xdp_md *ctx) \
	{                                          \
		return heavy(ctx);                 \
	}

CALLER(0) CALLER(1) CALLER(2) CALLER(3) CALLER(4) CALLER(5) CALLER(6) CALLER(7)
CALLER(8) CALLER(9) CALLER(10) CALLER(11) CALLER(12) CALLER(13) CALLER(14) CALLER(15)

SEC("xdp")
int tiny_caller(struct xdp_md *ctx)
{
	return tiny(ctx);
}

char LICENSE[] SEC("license") = "GPL";
