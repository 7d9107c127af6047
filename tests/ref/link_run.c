// Reference runner for linked objects: opens and loads OBJ with the system libbpf, test-runs
// every XDP / TC / socket-filter program (in name order) on a fixed packet, then prints each
// map's definition and contents and, for global data maps, every variable the DATASEC lists
// (offset, size and the bytes a skeleton would see there). Used by tests/kernel_link*.rs to
// compare bpftool-linked objects with bpflink-linked ones.
// Exit status: 3 = open failed, 4 = load failed, 2 = usage.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static int warn_only(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_programs(struct bpf_object *obj)
{
	struct bpf_program *prog;
	const char *names[256];
	int n = 0;

	bpf_object__for_each_program(prog, obj)
		if (n < 256)
			names[n++] = bpf_program__name(prog);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		unsigned char pkt[64] = { 0 };
		unsigned char out[128];
		prog = bpf_object__find_program_by_name(obj, names[i]);
		enum bpf_prog_type type = bpf_program__type(prog);
		if (type != BPF_PROG_TYPE_XDP && type != BPF_PROG_TYPE_SCHED_CLS &&
		    type != BPF_PROG_TYPE_SOCKET_FILTER) {
			printf("prog %s type %d not-run\n", names[i], type);
			continue;
		}
		for (int b = 0; b < 64; b++)
			pkt[b] = (unsigned char)(b * 7 + 1);
		pkt[12] = 0x08; /* IPv4 ethertype */
		pkt[13] = 0x00;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
		int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
		if (err)
			printf("prog %s run-error %d\n", names[i], -errno);
		else
			printf("prog %s retval %u\n", names[i], opts.retval);
	}
}

static void print_datasec(const struct btf *btf, __u32 type_id, const unsigned char *value, __u32 size)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);
	if (!t || !btf_is_datasec(t))
		return;
	const struct btf_var_secinfo *vi = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++, vi++) {
		const struct btf_type *var = btf__type_by_id(btf, vi->type);
		printf("  var %s off %u size %u", btf__name_by_offset(btf, var->name_off), vi->offset, vi->size);
		if (value && vi->offset + vi->size <= size) {
			printf(" bytes ");
			hex(value + vi->offset, vi->size);
		}
		printf("\n");
	}
}

static void dump_entries(int fd, __u32 key_size, __u32 value_size)
{
	unsigned char *key = calloc(1, key_size + 8), *next = calloc(1, key_size + 8);
	unsigned char *value = calloc(1, value_size + 8);
	char *lines[1024];
	int n = 0;
	void *prev = NULL;

	while (n < 1024 && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, value))
			continue;
		size_t len = 2 * (key_size + value_size) + 8;
		char *line = malloc(len), *p = line;
		for (__u32 i = 0; i < key_size; i++)
			p += sprintf(p, "%02x", key[i]);
		p += sprintf(p, " => ");
		for (__u32 i = 0; i < value_size; i++)
			p += sprintf(p, "%02x", value[i]);
		lines[n++] = line;
	}
	qsort(lines, n, sizeof(lines[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		printf("  %s\n", lines[i]);
		free(lines[i]);
	}
	free(key);
	free(next);
	free(value);
}

static void dump_maps(struct bpf_object *obj)
{
	struct bpf_map *map;
	const struct btf *btf = bpf_object__btf(obj);

	bpf_object__for_each_map(map, obj) {
		enum bpf_map_type type = bpf_map__type(map);
		__u32 ks = bpf_map__key_size(map), vs = bpf_map__value_size(map);
		printf("map %s type %d key %u value %u max %u flags %#x\n", bpf_map__name(map), type, ks, vs,
		       bpf_map__max_entries(map), bpf_map__map_flags(map));
		if (type != BPF_MAP_TYPE_ARRAY && type != BPF_MAP_TYPE_HASH)
			continue;
		if (bpf_map__fd(map) < 0)
			continue;
		dump_entries(bpf_map__fd(map), ks, vs);
		if (btf && bpf_map__btf_value_type_id(map) && type == BPF_MAP_TYPE_ARRAY) {
			unsigned char *value = calloc(1, vs + 8);
			int zero = 0;
			int ok = bpf_map_lookup_elem(bpf_map__fd(map), &zero, value) == 0;
			print_datasec(btf, bpf_map__btf_value_type_id(map), ok ? value : NULL, vs);
			free(value);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJ\n", argv[0]);
		return 2;
	}
	libbpf_set_print(warn_only);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 3;
	}
	int err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load %s: %s\n", argv[1], strerror(-err));
		return 4;
	}
	run_programs(obj);
	dump_maps(obj);
	bpf_object__close(obj);
	return 0;
}
