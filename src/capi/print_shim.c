/* Stable Rust cannot construct a va_list, so libbpf-style print callbacks
 * (which take one) are invoked from this shim. */
#include <stdarg.h>

typedef int (*bpflink_print_fn_t)(int level, const char *fmt, va_list ap);

int bpflink_shim_call_print(bpflink_print_fn_t fn, int level, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = fn(level, fmt, ap);
	va_end(ap);
	return ret;
}
