/* bpf_linker__* from C, built twice: against the system libbpf and against bpflink.
 * Links two objects (one by path, one from memory), opens the result and prints its programs
 * and maps as "info" lines (run.sh compares them between the two builds), and prints
 * "ok NAME" / "FAIL NAME" for checks each build must pass on its own.
 *   linker_test OUTDIR A.bpf.o B.bpf.o
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef USE_BPFLINK
#include <bpflink.h>
#else
#include <bpf/libbpf.h>
#endif

static int failures;

static void check(int cond, const char *name)
{
	printf("%s %s\n", cond ? "ok  " : "FAIL", name);
	if (!cond)
		failures++;
}

static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(len);
		if (buf && fread(buf, 1, len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
		*size = len;
	}
	fclose(f);
	return buf;
}

/* libbpf 1.1 has no bpf_linker__add_buf: there the buffer goes through a temporary file,
 * which is what add_buf means. */
static int add_buf(struct bpf_linker *l, const char *dir, void *buf, size_t size)
{
#ifdef USE_BPFLINK
	(void)dir;
	return bpf_linker__add_buf(l, buf, size, NULL);
#else
	char path[4096];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/buf-%d.o", dir, (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	fwrite(buf, 1, size, f);
	fclose(f);
	err = bpf_linker__add_file(l, path, NULL);
	unlink(path);
	return err;
#endif
}

/* Programs and maps of an open object, one line each, prefixed by `tag`. */
static void describe(const char *tag, struct bpf_object *obj)
{
	struct bpf_program *p;
	struct bpf_map *m;

	for (p = bpf_object__next_program(obj, NULL); p; p = bpf_object__next_program(obj, p))
		printf("%s program %s section %s type %d\n", tag, bpf_program__name(p),
		       bpf_program__section_name(p), (int)bpf_program__type(p));
	for (m = bpf_object__next_map(obj, NULL); m; m = bpf_object__next_map(obj, m))
		printf("%s map %s type %d key %u value %u max_entries %u\n", tag, bpf_map__name(m),
		       (int)bpf_map__type(m), bpf_map__key_size(m), bpf_map__value_size(m),
		       bpf_map__max_entries(m));
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level; (void)fmt; (void)args;
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object_open_opts open_opts = { .sz = sizeof(open_opts), .object_name = "linked" };
	struct bpf_linker_opts bad_opts = { .sz = 1 };
	char out[4096], garbage[256];
	struct bpf_linker *l;
	struct bpf_object *obj;
	size_t size = 0;
	void *buf;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: %s OUTDIR A.bpf.o B.bpf.o\n", argv[0]);
		return 2;
	}
	libbpf_set_print(silent);
	snprintf(out, sizeof(out), "%s/linked-%d.o", argv[1], (int)getpid());
	buf = read_file(argv[3], &size);
	check(buf != NULL, "read the second input");
	if (!buf)
		return 1;

	/* The good path: new, add_file, add_buf, finalize, free; then the output opens. */
	l = bpf_linker__new(out, NULL);
	check(l != NULL, "bpf_linker__new");
	if (!l)
		return 1;
	check(bpf_linker__add_file(l, argv[2], NULL) == 0, "bpf_linker__add_file");
	check(add_buf(l, argv[1], buf, size) == 0, "bpf_linker__add_buf");
	check(bpf_linker__finalize(l) == 0, "bpf_linker__finalize");
	bpf_linker__free(l);
	obj = bpf_object__open_file(out, &open_opts);
	check(obj != NULL, "the linked object opens");
	if (obj) {
		describe("info", obj);
		bpf_object__close(obj);
	}

#ifdef USE_BPFLINK
	/* Linking in memory gives the same object. */
	{
		const char *paths[] = { argv[2], argv[3] };
		struct bpf_program *p, *q;
		struct bpf_map *m, *n;
		struct bpf_object *ref = bpf_object__open_file(out, &open_opts);
		int same = ref != NULL;

		obj = bpflink_object__open_files(paths, 2, &open_opts);
		check(obj != NULL, "bpflink_object__open_files");
		if (obj && ref) {
			for (p = bpf_object__next_program(obj, NULL), q = bpf_object__next_program(ref, NULL);
			     p || q; p = bpf_object__next_program(obj, p), q = bpf_object__next_program(ref, q))
				same &= p && q && !strcmp(bpf_program__name(p), bpf_program__name(q));
			for (m = bpf_object__next_map(obj, NULL), n = bpf_object__next_map(ref, NULL);
			     m || n; m = bpf_object__next_map(obj, m), n = bpf_object__next_map(ref, n))
				same &= m && n && !strcmp(bpf_map__name(m), bpf_map__name(n));
			check(same, "open_files has the programs and maps of the linked file");
		}
		bpf_object__close(obj);
		bpf_object__close(ref);
		errno = 0;
		check(bpflink_object__open_files(NULL, 2, NULL) == NULL && errno == EINVAL,
		      "bpflink_object__open_files(NULL) fails with EINVAL");
	}
#endif

	/* Bad input: libbpf's errors, no crash. */
	errno = 0;
	l = bpf_linker__new(out, &bad_opts);
	check(l == NULL && errno == EINVAL, "bpf_linker__new with opts.sz = 1: NULL, errno EINVAL");
	bpf_linker__free(l);
	bpf_linker__free(NULL);
	check(1, "bpf_linker__free(NULL) is a no-op");

	l = bpf_linker__new(out, NULL);
	check(l != NULL, "bpf_linker__new after a failure");
	if (l) {
		struct bpf_linker_file_opts bad_file_opts = { .sz = 1 };

		check(bpf_linker__add_file(l, argv[2], &bad_file_opts) == -EINVAL,
		      "bpf_linker__add_file with opts.sz = 1: -EINVAL");
		bpf_linker__free(l);
	}
	l = bpf_linker__new(out, NULL);
	if (l) {
		memset(garbage, 0x5a, sizeof(garbage));
		err = add_buf(l, argv[1], garbage, sizeof(garbage));
		check(err < 0, "bpf_linker__add_buf of a garbage buffer fails");
		printf("info garbage buffer rejected: %s\n", err < 0 ? "yes" : "no");
		bpf_linker__free(l);
	}
	l = bpf_linker__new(out, NULL);
	if (l) {
		err = bpf_linker__add_file(l, "/nonexistent/input.bpf.o", NULL);
		check(err == -ENOENT, "bpf_linker__add_file of a missing file: -ENOENT");
		bpf_linker__free(l);
	}
	unlink(out);
	free(buf);
	return failures ? 1 : 0;
}
