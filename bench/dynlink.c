/* Benchmark of dynamic vs static linking (issue 5): loads objects with whichever libbpf
 * implementation this file is linked against (system libbpf, or bpflink) and reports what the
 * kernel did. Run each build in its own process (their symbols collide).
 *
 *   dynlink load OBJ...          open+load each OBJ in order (later ones may call earlier ones:
 *                                bpflink links them dynamically); prints one line:
 *                                load_ms=T progs=N verified_insns=V
 *                                counting every program the loads created in the kernel
 *   dynlink pkt PROG REPEAT OBJ...   the same loads, then BPF_PROG_TEST_RUN of program PROG
 *                                (of the last object) REPEAT times on a 64-byte frame:
 *                                ns_per_run=D retval=R
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_OBJS 8
#define MAX_IDS 4096

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Every program id currently in the kernel, ascending; returns the count. */
static int prog_ids(__u32 *ids)
{
	__u32 id = 0;
	int n = 0;

	while (n < MAX_IDS && bpf_prog_get_next_id(id, &id) == 0)
		ids[n++] = id;
	return n;
}

static int contains(const __u32 *ids, int n, __u32 id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* Programs created since `before`, and the instructions the verifier processed for them. */
static void new_programs(const __u32 *before, int n_before, int *progs, unsigned long long *insns)
{
	static __u32 after[MAX_IDS];
	int n_after = prog_ids(after);

	*progs = 0;
	*insns = 0;
	for (int i = 0; i < n_after; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd;

		if (contains(before, n_before, after[i]))
			continue;
		fd = bpf_prog_get_fd_by_id(after[i]);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			(*progs)++;
			*insns += info.verified_insns;
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	static __u32 before[MAX_IDS];
	struct bpf_object *objs[MAX_OBJS] = { 0 };
	const char *prog_name = NULL;
	int first = 2, repeat = 0, nobj, n_before, progs;
	unsigned long long insns;
	double start, elapsed;

	if (argc < 3 || (strcmp(argv[1], "load") && strcmp(argv[1], "pkt"))) {
		fprintf(stderr, "usage: %s load OBJ... | pkt PROG REPEAT OBJ...\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "pkt")) {
		if (argc < 5)
			return 2;
		prog_name = argv[2];
		repeat = atoi(argv[3]);
		first = 4;
	}
	nobj = argc - first;
	if (nobj > MAX_OBJS)
		return 2;
	libbpf_set_print(quiet);
	n_before = prog_ids(before);
	start = now_ms();
	for (int i = 0; i < nobj; i++) {
		objs[i] = bpf_object__open_file(argv[first + i], NULL);
		if (!objs[i] || bpf_object__load(objs[i])) {
			fprintf(stderr, "loading %s failed\n", argv[first + i]);
			return 1;
		}
	}
	elapsed = now_ms() - start;
	new_programs(before, n_before, &progs, &insns);
	if (!prog_name) {
		printf("load_ms=%.1f progs=%d verified_insns=%llu\n", elapsed, progs, insns);
	} else {
		struct bpf_program *prog = bpf_object__find_program_by_name(objs[nobj - 1], prog_name);
		unsigned char frame[64] = { 0 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame), .repeat = repeat);

		frame[12] = 0x08;
		if (!prog || bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
			fprintf(stderr, "test run of %s failed\n", prog_name);
			return 1;
		}
		printf("ns_per_run=%u retval=%u\n", opts.duration, opts.retval);
	}
	for (int i = nobj - 1; i >= 0; i--)
		bpf_object__close(objs[i]);
	return 0;
}
