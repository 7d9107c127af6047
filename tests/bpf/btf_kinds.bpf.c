// Covers the BTF kinds the other test programs lack: ENUM (signed, unsigned), ENUM64, FLOAT,
// DECL_TAG, TYPE_TAG, FWD (struct and union), RESTRICT, VOLATILE, CONST, bitfields, unions,
// typedef chains, multi-dimensional arrays, function pointers and a vararg-free FUNC_PROTO.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 1, GREEN = 2, BLUE = 4 };
enum signed_small { NEG = -3, POS = 7 };
enum big64 { BIG_SMALL = 1, BIG_HUGE = 0x1234567890ULL };
enum neg64 { NEG64_MIN = -0x100000000LL, NEG64_ONE = 1 };

struct fwd_only;
union fwd_union;

struct bits {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 10;
	unsigned long long d : 40;
	char tail;
} __attribute__((btf_decl_tag("struct_tag")));

union number {
	int i;
	float f;
	double d;
	unsigned char raw[8];
};

typedef struct bits bits_t;
typedef const volatile bits_t cv_bits_t;

struct holder {
	struct fwd_only *fwd;
	union fwd_union *fu;
	int __attribute__((btf_type_tag("user"))) *user_ptr;
	int (*callback)(int, struct holder *);
	enum color color;
	enum signed_small small;
	enum big64 big;
	enum neg64 neg;
	int matrix[3][4];
	float ratio;
	int *restrict rp;
	union number num;
	cv_bits_t cb;
	int tagged_member __attribute__((btf_decl_tag("member_tag")));
};

struct holder global_holder;
volatile int vol_counter;
int tagged_var __attribute__((btf_decl_tag("var_tag"))) = 3;
const volatile double scale = 1.5;
/* Arrays of typedefs, pointers and unions, so size resolution multiplies through chains. */
bits_t bits_grid[2][3];
int *ptr_table[5];
union number numbers[4];
const volatile cv_bits_t cv_table[3] = {};

__attribute__((btf_decl_tag("func_tag"))) __noinline int
tagged_func(struct holder *h __attribute__((btf_decl_tag("param_tag"))), int *restrict out)
{
	if (!h)
		return 0;
	*out = h->matrix[1][2] + h->cb.c + h->color + h->small;
	return h->big == BIG_HUGE || h->neg == NEG64_MIN;
}

SEC("xdp")
int btf_kinds(struct xdp_md *ctx)
{
	int out = 0;

	vol_counter++;
	global_holder.small = (enum signed_small)tagged_var;
	if (tagged_func(&global_holder, &out))
		return XDP_DROP;
	return out ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
