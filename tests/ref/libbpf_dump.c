// Reference dumper: opens a BPF object with the system libbpf (no load) and prints, as JSON,
// the subset of `bpflink inspect --json` that libbpf exposes after open. Built and run by
// tests/object_libbpf_diff.rs. Exit status 3 means libbpf refused to open the object.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void name_or_number(const char *name, unsigned int value)
{
	if (name)
		json_str(name);
	else
		printf("\"unknown(%u)\"", value);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int first = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJ\n", argv[0]);
		return 2;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "libbpf: cannot open %s: %s\n", argv[1], strerror(errno));
		return 3;
	}
	printf("{\"name\": ");
	json_str(bpf_object__name(obj));
	printf(", \"programs\": [");
	bpf_object__for_each_program(prog, obj) {
		enum bpf_prog_type type = bpf_program__type(prog);
		enum bpf_attach_type attach = bpf_program__expected_attach_type(prog);

		printf("%s{\"name\": ", first ? "" : ", ");
		json_str(bpf_program__name(prog));
		printf(", \"section_name\": ");
		json_str(bpf_program__section_name(prog));
		printf(", \"prog_type\": ");
		name_or_number(libbpf_bpf_prog_type_str(type), type);
		printf(", \"expected_attach_type\": ");
		name_or_number(libbpf_bpf_attach_type_str(attach), attach);
		printf(", \"autoload\": %s, \"insn_cnt\": %zu}", bpf_program__autoload(prog) ? "true" : "false",
		       bpf_program__insn_cnt(prog));
		first = 0;
	}
	printf("], \"maps\": [");
	first = 1;
	bpf_object__for_each_map(map, obj) {
		enum bpf_map_type type = bpf_map__type(map);

		printf("%s{\"name\": ", first ? "" : ", ");
		json_str(bpf_map__name(map));
		printf(", \"map_type\": ");
		name_or_number(libbpf_bpf_map_type_str(type), type);
		printf(", \"key_size\": %u, \"value_size\": %u, \"max_entries\": %u, \"map_flags\": %u}",
		       bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map),
		       bpf_map__map_flags(map));
		first = 0;
	}
	printf("]}\n");
	bpf_object__close(obj);
	return 0;
}
