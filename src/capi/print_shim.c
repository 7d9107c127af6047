/* Stable Rust cannot construct or consume a va_list, so everything that touches one
 * lives here: calling a libbpf-style print callback, and the default printer that
 * libbpf_set_print() hands back as the "old" callback (it must be a real C function
 * with the libbpf_print_fn_t signature so that callers can restore it). */
#include <stdarg.h>
#include <stdio.h>

typedef int (*bpflink_print_fn_t)(int level, const char *fmt, va_list ap);

/* Values of libbpf's enum libbpf_print_level. */
#define BPFLINK_LEVEL_DEBUG 2

int bpflink_shim_call_print(bpflink_print_fn_t fn, int level, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = fn(level, fmt, ap);
	va_end(ap);
	return ret;
}

/* Same policy as libbpf's built-in printer: warnings and info go to stderr, debug output
 * is dropped unless the application installs its own callback. */
int bpflink_shim_default_print(int level, const char *fmt, va_list ap)
{
	if (level == BPFLINK_LEVEL_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}
