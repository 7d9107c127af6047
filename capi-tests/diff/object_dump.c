/* Differential test tool for the object API (bpf_object__*, bpf_program__*, bpf_map__*).
 * Built against the system libbpf and against bpflink (capi-tests/build.sh); the runners
 * compare the outputs, which contain nothing that differs between two correct runs (no fds,
 * kernel ids or pointers).
 *   object_dump OBJ          open only: programs, maps, lookups, bad input
 *   object_dump --load OBJ   also load (needs a kernel): insn counts, test runs with a fixed
 *                            packet, map contents, global data, errors after load */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

static int load_mode;
/* In load mode, LIBBPF_PIN_BY_NAME maps are pinned under a private directory, so runs do not
 * share (or disturb) maps pinned in /sys/fs/bpf; it is printed as "<pin root>". */
static char pin_root[64];

static uint64_t fnv(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ULL;

	while (len--) {
		h ^= *p++;
		h *= 1099511628211ULL;
	}
	return h;
}

static const char *str(const char *s)
{
	static char buf[512];
	size_t n = strlen(pin_root);

	if (!s)
		return "(null)";
	if (n && !strncmp(s, pin_root, n)) {
		snprintf(buf, sizeof(buf), "<pin root>%s", s + n);
		return buf;
	}
	return s;
}

static void dump_program(struct bpf_program *prog)
{
	errno = 0;
	int fd = bpf_program__fd(prog);
	printf("prog '%s' sec '%s' type %u attach %u autoload %d insn_cnt %zu flags %#x log_level %u fd %s errno %d\n",
	       bpf_program__name(prog), bpf_program__section_name(prog), bpf_program__type(prog),
	       bpf_program__expected_attach_type(prog), bpf_program__autoload(prog),
	       bpf_program__insn_cnt(prog), bpf_program__flags(prog), bpf_program__log_level(prog),
	       fd >= 0 ? "valid" : "negative", fd >= 0 ? 0 : errno);
	if (!load_mode) {
		/* Before load the instructions are the ELF's, identical in both implementations
		 * except where relocations were already resolved (none are at open). */
		const struct bpf_insn *insns = bpf_program__insns(prog);
		printf("  insns hash %016llx\n",
		       insns ? (unsigned long long)fnv(insns, bpf_program__insn_cnt(prog) * sizeof(*insns)) : 0ULL);
	}
}

static int is_per_cpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Values that are kernel ids or fds (map-in-map, prog arrays) differ between runs. */
static int value_is_id(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_ARRAY_OF_MAPS || t == BPF_MAP_TYPE_HASH_OF_MAPS ||
	       t == BPF_MAP_TYPE_PROG_ARRAY || t == BPF_MAP_TYPE_DEVMAP || t == BPF_MAP_TYPE_DEVMAP_HASH ||
	       t == BPF_MAP_TYPE_CPUMAP || t == BPF_MAP_TYPE_XSKMAP || t == BPF_MAP_TYPE_SOCKMAP ||
	       t == BPF_MAP_TYPE_SOCKHASH;
}

struct entry {
	uint64_t key_hash, value_hash;
	int rc;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->key_hash < y->key_hash ? -1 : x->key_hash > y->key_hash;
}

static void dump_map_contents(struct bpf_map *map)
{
	enum bpf_map_type type = bpf_map__type(map);
	size_t key_sz = bpf_map__key_size(map), value_sz = bpf_map__value_size(map);
	int cpus = libbpf_num_possible_cpus();
	size_t slot = (value_sz + 7) / 8 * 8;
	size_t buf_sz = is_per_cpu(type) ? slot * cpus : value_sz;
	unsigned char *key = calloc(1, key_sz + 1), *next = calloc(1, key_sz + 1);
	unsigned char *value = calloc(1, buf_sz + 8), *sum = calloc(1, slot + 8);
	struct entry entries[64];
	int n = 0, rc, i;

	if (!key_sz || !key || !next || !value || !sum) {
		printf("  contents: not iterable (key size %zu)\n", key_sz);
		goto out;
	}
	errno = 0;
	rc = bpf_map__get_next_key(map, NULL, next, key_sz);
	while (rc == 0 && n < 64) {
		memcpy(key, next, key_sz);
		entries[n].key_hash = fnv(key, key_sz);
		entries[n].rc = bpf_map__lookup_elem(map, key, key_sz, value, buf_sz, 0);
		if (is_per_cpu(type)) {
			/* Test runs happen on whichever CPU: compare the sum over CPUs. */
			memset(sum, 0, slot);
			for (int c = 0; c < cpus; c++)
				for (size_t w = 0; w + 8 <= slot; w += 8)
					*(uint64_t *)(sum + w) += *(uint64_t *)(value + c * slot + w);
			entries[n].value_hash = fnv(sum, slot);
		} else {
			entries[n].value_hash = value_is_id(type) || entries[n].rc ? 0 : fnv(value, value_sz);
		}
		n++;
		rc = bpf_map__get_next_key(map, key, next, key_sz);
	}
	printf("  iteration ends rc %d errno %d after %d keys\n", rc, rc ? errno : 0, n);
	qsort(entries, n, sizeof(entries[0]), cmp_entry);
	for (i = 0; i < n; i++)
		printf("  key %016llx lookup %d value %016llx\n", (unsigned long long)entries[i].key_hash,
		       entries[i].rc, (unsigned long long)entries[i].value_hash);
	/* Wrong sizes are refused before any syscall. */
	errno = 0;
	rc = bpf_map__lookup_elem(map, key, key_sz + 1, value, buf_sz, 0);
	printf("  lookup with wrong key size %d errno %d\n", rc, errno);
	errno = 0;
	rc = bpf_map__lookup_elem(map, key, key_sz, value, buf_sz + 1, 0);
	printf("  lookup with wrong value size %d errno %d\n", rc, errno);
out:
	free(key), free(next), free(value), free(sum);
}

static void dump_map(struct bpf_map *map)
{
	const void *init;
	size_t init_sz = 0;

	errno = 0;
	int fd = bpf_map__fd(map);
	printf("map '%s' type %u key %u value %u max_entries %u flags %#x autocreate %d pinned %d pin_path %s fd %s\n",
	       bpf_map__name(map), bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map),
	       bpf_map__max_entries(map), bpf_map__map_flags(map), bpf_map__autocreate(map),
	       bpf_map__is_pinned(map), str(bpf_map__pin_path(map)),
	       fd >= 0 ? "valid" : (fd == -1 ? "-1" : "other negative"));
	init = bpf_map__initial_value(map, &init_sz);
	if (init)
		printf("  initial_value size %zu hash %016llx\n", init_sz, (unsigned long long)fnv(init, init_sz));
	else
		printf("  initial_value NULL\n");
}

static void dump_lookups(struct bpf_object *obj)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	int n = 0;

	bpf_object__for_each_program(prog, obj)
		if (bpf_object__find_program_by_name(obj, bpf_program__name(prog)) != prog)
			printf("find_program_by_name('%s') finds another program\n", bpf_program__name(prog));
	bpf_object__for_each_map(map, obj)
		if (bpf_object__find_map_by_name(obj, bpf_map__name(map)) != map)
			printf("find_map_by_name('%s') finds another map\n", bpf_map__name(map));
	for (prog = bpf_object__prev_program(obj, NULL); prog; prog = bpf_object__prev_program(obj, prog))
		n++;
	printf("programs backwards: %d\n", n);
	n = 0;
	for (map = bpf_object__prev_map(obj, NULL); map; map = bpf_object__prev_map(obj, map))
		n++;
	printf("maps backwards: %d\n", n);
	errno = 0;
	prog = bpf_object__find_program_by_name(obj, "no_such_program");
	printf("find_program_by_name(unknown) %s errno %d\n", prog ? "found" : "NULL", errno);
	errno = 0;
	map = bpf_object__find_map_by_name(obj, "no_such_map");
	printf("find_map_by_name(unknown) %s errno %d\n", map ? "found" : "NULL", errno);
	for (const char *const *sec = (const char *const[]){ ".rodata", ".data", ".bss", ".kconfig", NULL }; *sec; sec++) {
		map = bpf_object__find_map_by_name(obj, *sec);
		printf("find_map_by_name('%s') %s\n", *sec, map ? bpf_map__name(map) : "NULL");
	}
	struct btf *btf = bpf_object__btf(obj);
	printf("btf %s", btf ? "present" : "absent");
	if (btf)
		printf(" type_cnt %u", btf__type_cnt(btf));
	printf("\n");
}

static void foreign_handles(const char *path, struct bpf_object *obj)
{
	struct bpf_object *other = bpf_object__open(path);
	struct bpf_program *p;
	struct bpf_map *m;

	if (!other)
		return;
	p = bpf_object__next_program(other, NULL);
	if (p) {
		errno = 0;
		p = bpf_object__next_program(obj, p);
		printf("next_program(foreign handle) %s errno %d\n", p ? "non-NULL" : "NULL", errno);
	}
	m = bpf_object__next_map(other, NULL);
	if (m) {
		errno = 0;
		m = bpf_object__next_map(obj, m);
		printf("next_map(foreign handle) %s errno %d\n", m ? "non-NULL" : "NULL", errno);
	}
	bpf_object__close(other);
}

static void bad_input(const char *path)
{
	struct bpf_object *obj;
	char junk[64];

	errno = 0;
	obj = bpf_object__open(NULL);
	printf("open(NULL) %s errno %d\n", obj ? "non-NULL" : "NULL", errno);
	errno = 0;
	obj = bpf_object__open("/nonexistent/x.bpf.o");
	printf("open(nonexistent) %s errno %d\n", obj ? "non-NULL" : "NULL", errno);
	errno = 0;
	obj = bpf_object__open_mem(NULL, 10, NULL);
	printf("open_mem(NULL) %s errno %d\n", obj ? "non-NULL" : "NULL", errno);
	errno = 0;
	obj = bpf_object__open_mem(junk, 0, NULL);
	printf("open_mem(size 0) %s errno %d\n", obj ? "non-NULL" : "NULL", errno);
	memset(junk, 0x5a, sizeof(junk));
	errno = 0;
	obj = bpf_object__open_mem(junk, sizeof(junk), NULL);
	printf("open_mem(not ELF) %s errno-nonzero %d\n", obj ? "non-NULL" : "NULL", errno != 0);
	bpf_object__close(obj);

	struct {
		struct bpf_object_open_opts o;
		char tail[16];
	} big;
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.tail[5] = 1;
	errno = 0;
	obj = bpf_object__open_file(path, &big.o);
	printf("open_file(non-zero opts tail) %s errno %d\n", obj ? "non-NULL" : "NULL", errno);
	bpf_object__close(obj);
	big.tail[5] = 0;
	big.o.object_name = "renamed";
	obj = bpf_object__open_file(path, &big.o);
	printf("open_file(zero tail, object_name) %s name '%s'\n", obj ? "non-NULL" : "NULL",
	       obj ? bpf_object__name(obj) : "");
	bpf_object__close(obj);
	big.o.sz = 2;
	errno = 0;
	obj = bpf_object__open_file(path, &big.o);
	printf("open_file(sz 2) %s errno %d\n", obj ? "non-NULL" : "NULL", errno);
	LIBBPF_OPTS(bpf_object_open_opts, logopts, .kernel_log_size = 100);
	errno = 0;
	obj = bpf_object__open_file(path, &logopts);
	printf("open_file(log size without buffer) %s errno %d\n", obj ? "non-NULL" : "NULL", errno);
	bpf_object__close(obj);
	bpf_object__close(NULL);
	errno = 0;
	printf("load(NULL) %d errno %d\n", bpf_object__load(NULL), errno);
	errno = 0;
	printf("pin_maps(NULL) %d errno %d\n", bpf_object__pin_maps(NULL, "/sys/fs/bpf/x"), errno);
	errno = 0;
	printf("name(NULL) %s\n", bpf_object__name(NULL) ? "non-NULL" : "NULL");
	printf("btf(NULL) %s\n", bpf_object__btf(NULL) ? "non-NULL" : "NULL");
	printf("map name(NULL) %s\n", bpf_map__name(NULL) ? "non-NULL" : "NULL");
	errno = 0;
	printf("program fd(NULL) %d errno %d\n", bpf_program__fd(NULL), errno);
	errno = 0;
	printf("map fd(NULL) %d errno %d\n", bpf_map__fd(NULL), errno);
}

/* Prints "<what> <rc> errno <errno>" with errno read after the call (printf's argument order
 * is unspecified, so the call must not be an argument next to errno). */
#define CALL(what, expr)                                                                  \
	do {                                                                              \
		errno = 0;                                                                \
		long long __rc = (long long)(expr);                                       \
		int __e = errno;                                                          \
		printf("  %s %lld errno %d\n", what, __rc, __e);                           \
	} while (0)

/* Every setter after load (or a failed load), each with the current value so that a setter
 * that succeeds changes nothing: libbpf 1.1 refuses some once the object was loaded (even if
 * the load failed) and others only while the map has an fd. */
static void setters_after_load(struct bpf_object *obj)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	char logbuf[16];

	CALL("load again", bpf_object__load(obj));
	bpf_object__for_each_program(prog, obj) {
		printf("setters of prog '%s':\n", bpf_program__name(prog));
		CALL("set_autoload", bpf_program__set_autoload(prog, bpf_program__autoload(prog)));
		CALL("set_type", bpf_program__set_type(prog, bpf_program__type(prog)));
		CALL("set_expected_attach_type",
		     bpf_program__set_expected_attach_type(prog, bpf_program__expected_attach_type(prog)));
		CALL("set_flags", bpf_program__set_flags(prog, bpf_program__flags(prog)));
		CALL("set_log_level", bpf_program__set_log_level(prog, bpf_program__log_level(prog)));
		CALL("set_log_buf", bpf_program__set_log_buf(prog, logbuf, sizeof(logbuf)));
		CALL("set_log_buf(NULL, 10)", bpf_program__set_log_buf(prog, NULL, 10));
		CALL("pin(not on bpffs)", bpf_program__pin(prog, "/proc/capi-diff-x"));
		CALL("unpin(not on bpffs)", bpf_program__unpin(prog, "/proc/capi-diff-x"));
	}
	bpf_object__for_each_map(map, obj) {
		const void *init;
		size_t init_sz = 0;

		printf("setters of map '%s':\n", bpf_map__name(map));
		CALL("set_type", bpf_map__set_type(map, bpf_map__type(map)));
		CALL("set_key_size", bpf_map__set_key_size(map, bpf_map__key_size(map)));
		CALL("set_value_size", bpf_map__set_value_size(map, bpf_map__value_size(map)));
		CALL("set_map_flags", bpf_map__set_map_flags(map, bpf_map__map_flags(map)));
		CALL("set_max_entries", bpf_map__set_max_entries(map, bpf_map__max_entries(map)));
		CALL("set_autocreate", bpf_map__set_autocreate(map, bpf_map__autocreate(map)));
		CALL("set_ifindex", bpf_map__set_ifindex(map, 0));
		CALL("set_initial_value(size 0)", bpf_map__set_initial_value(map, "", 0));
		init = bpf_map__initial_value(map, &init_sz);
		if (init) {
			void *copy = malloc(init_sz);

			if (copy) {
				memcpy(copy, init, init_sz);
				CALL("set_initial_value(same bytes)", bpf_map__set_initial_value(map, copy, init_sz));
				free(copy);
			}
		}
		if (!bpf_map__pin_path(map))
			CALL("pin(NULL) without pin path", bpf_map__pin(map, NULL));
		CALL("unpin(other path)", bpf_map__unpin(map, "/proc/capi-diff-other"));
	}
}

static void test_runs(struct bpf_object *obj)
{
	/* Ethernet, IPv4 (UDP 10.0.0.1:1234 -> 10.0.0.2:5678), 22 bytes of payload. */
	unsigned char pkt[64] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0x16, 0x2e, 0, 30, 0, 0,
	};
	unsigned char out[256];
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		enum bpf_prog_type t = bpf_program__type(prog);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || (t != BPF_PROG_TYPE_XDP && t != BPF_PROG_TYPE_SCHED_CLS &&
			       t != BPF_PROG_TYPE_SCHED_ACT && t != BPF_PROG_TYPE_SOCKET_FILTER))
			continue;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
		errno = 0;
		int rc = bpf_prog_test_run_opts(fd, &opts);
		printf("test_run '%s' rc %d errno %d retval %u size_out %u out %016llx\n",
		       bpf_program__name(prog), rc, rc ? errno : 0, opts.retval, opts.data_size_out,
		       (unsigned long long)fnv(out, opts.data_size_out < sizeof(out) ? opts.data_size_out : sizeof(out)));
	}
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	const char *path;
	int fds_before;

	libbpf_set_print(quiet);
	if (argc == 3 && !strcmp(argv[1], "--load"))
		load_mode = 1, path = argv[2];
	else if (argc == 2)
		path = argv[1];
	else {
		fprintf(stderr, "usage: object_dump [--load] OBJ\n");
		return 2;
	}
	fds_before = count_fds();
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	if (load_mode) {
		snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/capi-diff-%d", (int)getpid());
		if (mkdir(pin_root, 0700) == 0)
			opts.pin_root_path = pin_root;
		else
			pin_root[0] = 0;
	}
	obj = bpf_object__open_file(path, &opts);
	if (!obj) {
		printf("open failed errno %d\n", errno);
		if (pin_root[0])
			rmdir(pin_root);
		return 0;
	}
	printf("object '%s' kversion %u\n", bpf_object__name(obj), bpf_object__kversion(obj));
	if (load_mode) {
		errno = 0;
		int rc = bpf_object__load(obj);
		printf("load %d errno %d\n", rc, rc ? errno : 0);
	}
	bpf_object__for_each_program(prog, obj)
		dump_program(prog);
	bpf_object__for_each_map(map, obj)
		dump_map(map);
	dump_lookups(obj);
	if (load_mode) {
		test_runs(obj);
		bpf_object__for_each_map(map, obj)
			if (bpf_map__fd(map) >= 0 && load_mode)
				dump_map_contents(map);
		setters_after_load(obj);
		if (pin_root[0]) {
			errno = 0;
			int rc = bpf_object__unpin_maps(obj, NULL);
			printf("unpin_maps %d errno %d\n", rc, rc ? errno : 0);
			rmdir(pin_root);
		}
	} else {
		foreign_handles(path, obj);
	}
	bpf_object__close(obj);
	if (!load_mode)
		bad_input(path);
	printf("fds: %s\n", count_fds() == fds_before ? "none leaked" : "LEAKED");
	return 0;
}
