/* Differential test tool for the bpf.h layer (needs a kernel that loads BPF: root).
 * Built against the system libbpf and against bpflink (capi-tests/build.sh); the runners
 * compare the outputs. Every line is a call with its return value and errno, or data the
 * kernel returned; nothing printed depends on fd numbers or kernel ids, so the two runs
 * match exactly when the implementations behave alike.
 *   bpf_ops */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <stddef.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SHOW(expr)                                                                     \
	({                                                                             \
		errno = 0;                                                             \
		long long __r = (long long)(expr);                                     \
		int __e = errno;                                                       \
		printf("%-60s = %lld errno %d\n", #expr, __r < 0 ? __r : (__r > 2 ? 3 : __r), \
		       __r < 0 ? __e : 0);                                             \
		__r;                                                                   \
	})

static char messages[8192];

static int collect(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t used = strlen(messages);

	(void)level;
	vsnprintf(messages + used, sizeof(messages) - used, fmt, ap);
	return 0;
}

static void show_messages(const char *what)
{
	printf("%s: %s\n", what, messages[0] ? "logged a message" : "no message");
	messages[0] = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static void print_sorted(const char *what, __u32 *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	printf("%s:", what);
	for (int i = 0; i < n; i++)
		printf(" %u", v[i]);
	printf("\n");
}

static void hash_map_ops(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = BPF_F_NO_PREALLOC);
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	__u32 key, next, value, keys[8], values[8], count, out_batch;
	int fd, i;

	fd = SHOW(bpf_map_create(BPF_MAP_TYPE_HASH, "capi_hash_with_a_long_name", 4, 4, 16, &mopts));
	if (fd < 0)
		return;
	for (key = 1; key <= 5; key++) {
		value = key * 100;
		SHOW(bpf_map_update_elem(fd, &key, &value, BPF_NOEXIST));
	}
	key = 3;
	SHOW(bpf_map_update_elem(fd, &key, &value, BPF_NOEXIST));
	SHOW(bpf_map_lookup_elem(fd, &key, &value));
	printf("value %u\n", value);
	key = 42;
	SHOW(bpf_map_lookup_elem(fd, &key, &value));
	SHOW(bpf_map_delete_elem(fd, &key));
	SHOW(bpf_map_lookup_elem(fd, NULL, &value));
	/* Iterate with get_next_key from NULL. Hash order is random per map: print sorted. */
	__u32 seen[16];
	int n = 0;
	for (i = 0; SHOW(bpf_map_get_next_key(fd, i ? &key : NULL, &next)) == 0 && i < 10; i++) {
		key = next;
		seen[n++] = key;
	}
	print_sorted("keys", seen, n);
	key = 2;
	SHOW(bpf_map_lookup_and_delete_elem(fd, &key, &value));
	printf("popped %u\n", value);
	SHOW(bpf_map_delete_elem(fd, &key));
	count = ARRAY_SIZE(keys);
	SHOW(bpf_map_lookup_batch(fd, NULL, &out_batch, keys, values, &count, &bopts));
	printf("batch count %u\n", count);
	for (i = 0; i < (int)count; i++)
		seen[i] = keys[i] * 1000 + values[i];
	print_sorted("batch key*1000+value", seen, count);
	count = 2;
	keys[0] = 10, keys[1] = 11, values[0] = 1000, values[1] = 1100;
	SHOW(bpf_map_update_batch(fd, keys, values, &count, &bopts));
	printf("update_batch count %u\n", count);
	count = 2;
	SHOW(bpf_map_delete_batch(fd, keys, &count, &bopts));
	printf("delete_batch count %u\n", count);
	count = 8;
	SHOW(bpf_map_lookup_and_delete_batch(fd, NULL, &out_batch, keys, values, &count, NULL));
	printf("lookup_and_delete_batch count %u\n", count);
	SHOW(bpf_map_get_next_key(fd, NULL, &next));

	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	SHOW(bpf_obj_get_info_by_fd(fd, &info, &len));
	printf("info len %u type %u key %u value %u max %u flags %#x name '%s'\n", len, info.type,
	       info.key_size, info.value_size, info.max_entries, info.map_flags, info.name);
	len = 8;
	memset(&info, 0, sizeof(info));
	SHOW(bpf_obj_get_info_by_fd(fd, &info, &len));
	printf("short info len %u type %u key %u\n", len, info.type, info.key_size);

	/* get_fd_by_id / get_next_id find the same map again. */
	__u32 id = info.id, found = 0, cur = 0;
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	bpf_obj_get_info_by_fd(fd, &info, &len);
	id = info.id;
	while (bpf_map_get_next_id(cur, &cur) == 0)
		found |= cur == id;
	printf("get_next_id finds the map: %u, then errno %d\n", found, errno);
	int fd2 = SHOW(bpf_map_get_fd_by_id(id));
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, idopts, .open_flags = BPF_F_RDONLY);
	int fd3 = SHOW(bpf_map_get_fd_by_id_opts(id, &idopts));
	key = 7, value = 1;
	SHOW(bpf_map_update_elem(fd3, &key, &value, 0));
	if (fd2 >= 0)
		close(fd2);
	if (fd3 >= 0)
		close(fd3);
	close(fd);
}

static void array_map_ops(void)
{
	__u32 key = 0, value = 7;
	int fd;

	fd = SHOW(bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 2, NULL));
	if (fd < 0)
		return;
	SHOW(bpf_map_update_elem(fd, &key, &value, 0));
	SHOW(bpf_map_delete_elem(fd, &key));
	SHOW(bpf_map_freeze(fd));
	SHOW(bpf_map_update_elem(fd, &key, &value, 0));
	SHOW(bpf_map_lookup_elem(fd, &key, &value));
	printf("value %u\n", value);
	key = 5;
	SHOW(bpf_map_lookup_elem(fd, &key, &value));
	close(fd);
	SHOW(bpf_map_create(BPF_MAP_TYPE_ARRAY, "bad", 4, 0, 2, NULL));
	SHOW(bpf_map_create(12345, "bad", 4, 4, 2, NULL));
}

static void prog_ops(void)
{
	/* r0 = XDP_PASS (2); exit */
	struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	/* exit without setting r0: rejected by the verifier */
	struct bpf_insn bad[] = { { .code = BPF_JMP | BPF_EXIT } };
	char log[4096], pkt[64], out[128];
	int fd;

	LIBBPF_OPTS(bpf_prog_load_opts, popts, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	memset(log, 0, sizeof(log));
	fd = SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "capi_pass", "GPL", pass, 2, &popts));
	printf("log level 1 on success: %s\n", log[0] ? "non-empty" : "empty");
	if (fd >= 0) {
		memset(pkt, 0xab, sizeof(pkt));
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 3);
		SHOW(bpf_prog_test_run_opts(fd, &topts));
		printf("retval %u data_size_out %u out-equal %d\n", topts.retval, topts.data_size_out,
		       memcmp(pkt, out, sizeof(pkt)) == 0);
		/* A smaller caller struct: fields past sz are neither read nor written. */
		struct bpf_test_run_opts small;
		memset(&small, 0, sizeof(small));
		small.sz = offsetof(struct bpf_test_run_opts, retval);
		small.data_in = pkt, small.data_size_in = sizeof(pkt);
		small.retval = 777;
		SHOW(bpf_prog_test_run_opts(fd, &small));
		printf("small retval untouched %u\n", small.retval);

		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		SHOW(bpf_obj_get_info_by_fd(fd, &info, &len));
		printf("prog type %u name '%s' xlated_len %u\n", info.type, info.name, info.xlated_prog_len);
		int fd2 = SHOW(bpf_prog_get_fd_by_id(info.id));
		if (fd2 >= 0)
			close(fd2);
		__u32 cur = 0, found = 0;
		while (bpf_prog_get_next_id(cur, &cur) == 0)
			found |= cur == info.id;
		printf("prog get_next_id finds the program: %u\n", found);
		close(fd);
	}

	/* log_level 0 with a buffer: the failed load is retried with a log. */
	LIBBPF_OPTS(bpf_prog_load_opts, retry, .log_buf = log, .log_size = sizeof(log));
	memset(log, 0, sizeof(log));
	SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "capi_bad", "GPL", bad, 1, &retry));
	printf("retry log: %s\n", strstr(log, "R0 !read_ok") ? "explains R0" : log);
	memset(log, 0, sizeof(log));
	SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "capi_bad", "GPL", bad, 1, NULL));

	/* Log options libbpf refuses before calling the kernel. */
	LIBBPF_OPTS(bpf_prog_load_opts, nobuf, .log_size = 100);
	SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "x", "GPL", pass, 2, &nobuf));
	LIBBPF_OPTS(bpf_prog_load_opts, nosize, .log_buf = log);
	SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "x", "GPL", pass, 2, &nosize));
	LIBBPF_OPTS(bpf_prog_load_opts, level, .log_buf = log, .log_size = sizeof(log), .log_level = 8);
	SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "x", "GPL", pass, 2, &level));
	LIBBPF_OPTS(bpf_prog_load_opts, attempts, .attempts = -1);
	SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "x", "GPL", pass, 2, &attempts));
	LIBBPF_OPTS(bpf_prog_load_opts, both, .attach_prog_fd = 5, .attach_btf_obj_fd = 6);
	SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "x", "GPL", pass, 2, &both));
	SHOW(bpf_prog_load(BPF_PROG_TYPE_XDP, "x", "GPL", NULL, 0, NULL));
	SHOW(bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "x", NULL, pass, 2, NULL) >= 0);
}

static void opts_sz_rules(void)
{
	struct {
		struct bpf_map_create_opts opts;
		char tail[16];
	} big;

	memset(&big, 0, sizeof(big));
	big.opts.sz = sizeof(big);
	int fd = SHOW(bpf_map_create(BPF_MAP_TYPE_ARRAY, "big", 4, 4, 1, &big.opts));
	if (fd >= 0)
		close(fd);
	show_messages("zero tail");
	big.tail[3] = 1;
	SHOW(bpf_map_create(BPF_MAP_TYPE_ARRAY, "big", 4, 4, 1, &big.opts));
	show_messages("non-zero tail");
	big.tail[3] = 0;
	big.opts.sz = 4;
	SHOW(bpf_map_create(BPF_MAP_TYPE_ARRAY, "small", 4, 4, 1, &big.opts));
	show_messages("sz below size_t");
	big.opts.sz = offsetof(struct bpf_map_create_opts, map_flags);
	big.opts.map_flags = 0xdead; /* beyond sz: ignored */
	fd = SHOW(bpf_map_create(BPF_MAP_TYPE_ARRAY, "small", 4, 4, 1, &big.opts));
	if (fd >= 0)
		close(fd);
	LIBBPF_OPTS(bpf_map_batch_opts, b);
	struct {
		struct bpf_map_batch_opts o;
		char tail[8];
	} bb;
	memset(&bb, 0, sizeof(bb));
	bb.o.sz = sizeof(bb);
	bb.tail[0] = 1;
	__u32 count = 0;
	SHOW(bpf_map_delete_batch(-1, NULL, &count, &bb.o));
	SHOW(bpf_map_delete_batch(-1, NULL, &count, &b));
	show_messages("batch");
}

static void misc_ops(void)
{
	__u32 next;

	SHOW(bpf_obj_get("/nonexistent/pin"));
	SHOW(bpf_obj_get(NULL));
	SHOW(bpf_obj_pin(-1, "/sys/fs/bpf/capi"));
	SHOW(bpf_map_lookup_elem(-1, &next, &next));
	SHOW(bpf_map_freeze(-1));
	SHOW(bpf_map_get_fd_by_id(0));
	SHOW(bpf_prog_get_fd_by_id(0xfffffff0));
	SHOW(bpf_link_get_fd_by_id(0xfffffff0));
	SHOW(bpf_btf_get_fd_by_id(0xfffffff0));
	SHOW(bpf_map_get_next_id(0xfffffff0, &next));
	SHOW(bpf_link_get_next_id(0xfffffff0, &next));
	SHOW(bpf_btf_get_next_id(0xfffffff0, &next));
	SHOW(bpf_prog_test_run_opts(-1, NULL));
	int fd = SHOW(bpf_enable_stats(BPF_STATS_RUN_TIME));
	if (fd >= 0)
		close(fd);
	SHOW(bpf_enable_stats(99));
	/* A minimal BTF blob: one int. */
	struct {
		struct btf_header hdr;
		__u32 type[4];
		char strs[5];
	} __attribute__((packed)) blob = {
		.hdr = { .magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(struct btf_header),
			 .type_off = 0, .type_len = 16, .str_off = 16, .str_len = 5 },
		.type = { 1, BTF_KIND_INT << 24, 4, BTF_INT_SIGNED << 24 | 32 },
		.strs = "\0int",
	};
	fd = SHOW(bpf_btf_load(&blob, sizeof(blob), NULL));
	if (fd >= 0) {
		struct bpf_btf_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		SHOW(bpf_obj_get_info_by_fd(fd, &info, &len));
		printf("btf size %u\n", info.btf_size);
		close(fd);
	}
	char log[1024] = "";
	blob.type[1] = 25u << 24; /* unknown kind */
	LIBBPF_OPTS(bpf_btf_load_opts, bopts, .log_buf = log, .log_size = sizeof(log));
	SHOW(bpf_btf_load(&blob, sizeof(blob), &bopts));
	printf("btf retry log: %s\n", log[0] ? "non-empty" : "empty");
	LIBBPF_OPTS(bpf_btf_load_opts, nobuf, .log_size = 10);
	SHOW(bpf_btf_load(&blob, sizeof(blob), &nobuf));
}

int main(void)
{
	int fds_before, fds_after;

	libbpf_set_print(collect);
	fds_before = count_fds();
	hash_map_ops();
	array_map_ops();
	prog_ops();
	opts_sz_rules();
	misc_ops();
	fds_after = count_fds();
	printf("fds: %s\n", fds_before == fds_after ? "none leaked" : "LEAKED");
	return 0;
}
