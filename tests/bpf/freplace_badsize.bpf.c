// A replacement for freplace_target's placeholder that declares its own, smaller struct
// xdp_md: the names match (the kernel's only check), the sizes don't.
#define SEC(name) __attribute__((section(name), used))

struct xdp_md {
	unsigned int data;
	unsigned int data_end;
};

SEC("freplace/placeholder")
int small_ctx(struct xdp_md *ctx)
{
	return ctx->data_end > ctx->data ? 1 : 2;
}

char LICENSE[] SEC("license") = "GPL";
