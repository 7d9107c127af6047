// Reference for CO-RE relocation tests: opens and loads an object with the system libbpf at
// debug print level and prints libbpf's CO-RE lines (relocation decisions, patched and
// poisoned instructions) to stdout, then "load: <err>". Usage: core_relo_dump OBJ [BTF_PATH]
// (BTF_PATH becomes btf_custom_path). Built and run by tests/core_libbpf_diff.rs; the load
// itself may fail (the relocations are logged before it), so its result is only reported.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static int relo_lines(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, args);
	if (strstr(line, ": relo #") || level == LIBBPF_WARN)
		fputs(line, level == LIBBPF_WARN ? stderr : stdout);
	return 0;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;
	int err;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s OBJ [BTF_PATH]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		opts.btf_custom_path = argv[2];
	libbpf_set_print(relo_lines);
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		fprintf(stderr, "open failed\n");
		return 3;
	}
	err = bpf_object__load(obj);
	printf("load: %d\n", err);
	bpf_object__close(obj);
	return 0;
}
