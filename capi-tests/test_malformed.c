/* The malformed-object corpus (tests/malformed, scripts/gen-malformed-corpus.py) through the
 * installed C library: for every file, bpf_object__open_file and bpf_object__open_mem return
 * NULL with errno set to the listed value (libbpf_get_error agrees), the message logged
 * through the print callback contains every listed piece (what is wrong and where), and no fd
 * is leaked. One "ok"/"FAIL" line per file and entry point.
 *   test_malformed CORPUS_DIR */
#include <bpf/libbpf.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_FIELDS 8

static char messages[8192];

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t used = strlen(messages);

	(void)level;
	if (used + 1 < sizeof(messages))
		vsnprintf(messages + used, sizeof(messages) - used, fmt, ap);
	return 0;
}

struct expectation {
	char *file;
	int errno_value;
	char *pieces[MAX_FIELDS];
	int n_pieces;
};

/* Splits one EXPECTED line (NAME \t ERRNO \t PIECE...) in place. */
static int parse_line(char *line, struct expectation *e)
{
	char *field, *save = NULL;

	line[strcspn(line, "\n")] = 0;
	if (line[0] == '#' || line[0] == 0)
		return 0;
	memset(e, 0, sizeof(*e));
	e->file = strtok_r(line, "\t", &save);
	field = strtok_r(NULL, "\t", &save);
	if (!e->file || !field)
		return -1;
	e->errno_value = atoi(field);
	while ((field = strtok_r(NULL, "\t", &save)) && e->n_pieces < MAX_FIELDS)
		e->pieces[e->n_pieces++] = field;
	return e->n_pieces > 0 ? 1 : -1;
}

/* The file's bytes, mapped read-only (the corpus has no empty file); NULL on error. */
static void *map_file(const char *path, size_t *size)
{
	struct stat st;
	void *data = MAP_FAILED;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		*size = (size_t)st.st_size;
		data = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
	}
	close(fd);
	return data == MAP_FAILED ? NULL : data;
}

/* Checks one failed open; prints the verdict line; returns 1 on failure. */
static int verdict(const char *api, const struct expectation *e, struct bpf_object *obj, int err, int fds_before)
{
	char why[512] = "";
	int i;

	if (obj) {
		snprintf(why, sizeof(why), "accepted the object");
		bpf_object__close(obj);
	} else if (err != e->errno_value) {
		snprintf(why, sizeof(why), "errno %d, expected %d", err, e->errno_value);
	} else if ((errno = err, libbpf_get_error(obj) != -e->errno_value)) {
		snprintf(why, sizeof(why), "libbpf_get_error(NULL) is %ld", libbpf_get_error(obj));
	} else if (count_fds() != fds_before) {
		snprintf(why, sizeof(why), "fd count %d -> %d", fds_before, count_fds());
	} else {
		for (i = 0; i < e->n_pieces; i++) {
			if (!strstr(messages, e->pieces[i])) {
				snprintf(why, sizeof(why), "the message lacks \"%.150s\": %.300s", e->pieces[i], messages);
				break;
			}
		}
	}
	printf("%s malformed.%s.%s%s%s\n", why[0] ? "FAIL" : "ok  ", api, e->file, why[0] ? ": " : "", why);
	return why[0] != 0;
}

static int check_file(const char *dir, const struct expectation *e)
{
	char path[4096];
	struct bpf_object *obj;
	size_t size = 0;
	void *data;
	int fds, err, failed = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, e->file);
	messages[0] = 0;
	fds = count_fds();
	errno = 0;
	obj = bpf_object__open_file(path, NULL);
	err = errno;
	failed += verdict("open_file", e, obj, err, fds);

	data = map_file(path, &size);
	if (!data) {
		printf("FAIL malformed.open_mem.%s: can't read %s\n", e->file, path);
		return failed + 1;
	}
	messages[0] = 0;
	fds = count_fds();
	errno = 0;
	/* libbpf refuses an empty buffer with EINVAL before parsing; the corpus has none. */
	obj = bpf_object__open_mem(data, size, NULL);
	err = errno;
	failed += verdict("open_mem", e, obj, err, fds);
	munmap(data, size);
	return failed;
}

int main(int argc, char **argv)
{
	char path[4096], line[4096];
	struct expectation e;
	int failed = 0, files = 0, r;
	FILE *list;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	libbpf_set_print(capture);
	snprintf(path, sizeof(path), "%s/EXPECTED", argv[1]);
	list = fopen(path, "r");
	if (!list) {
		printf("FAIL malformed.expected-list: can't open %s\n", path);
		return 1;
	}
	while (fgets(line, sizeof(line), list)) {
		r = parse_line(line, &e);
		if (r < 0) {
			printf("FAIL malformed.expected-list: bad line %s\n", line);
			failed++;
		} else if (r > 0) {
			files++;
			failed += check_file(argv[1], &e);
		}
	}
	fclose(list);
	return (files == 0 || failed) ? 1 : 0;
}
