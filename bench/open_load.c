/* Benchmark: open + load + close of every object given, ITER times, with whichever libbpf
 * implementation this file is linked against (system libbpf or bpflink). Prints one line:
 *   loaded=N failed=M iterations=I user_s=U sys_s=S wall_s=W maxrss_kib=R
 * Run each build in its own process (their symbols collide). */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static double seconds(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct timespec start, end;
	struct rusage usage;
	int iterations, loaded = 0, failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s ITERATIONS OBJ...\n", argv[0]);
		return 2;
	}
	iterations = atoi(argv[1]);
	libbpf_set_print(quiet);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int it = 0; it < iterations; it++) {
		for (int i = 2; i < argc; i++) {
			struct bpf_object *obj = bpf_object__open_file(argv[i], NULL);

			if (!obj) {
				failed++;
				continue;
			}
			if (bpf_object__load(obj))
				failed++;
			else
				loaded++;
			bpf_object__close(obj);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	getrusage(RUSAGE_SELF, &usage);
	printf("loaded=%d failed=%d iterations=%d user_s=%.3f sys_s=%.3f wall_s=%.3f maxrss_kib=%ld\n",
	       loaded, failed, iterations, seconds(usage.ru_utime), seconds(usage.ru_stime),
	       (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9, usage.ru_maxrss);
	return failed ? 1 : 0;
}
