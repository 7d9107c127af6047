/* Bad input to the object, program, map, bpf.h and btf.h APIs where libbpf 1.1 itself would
 * crash (it dereferences NULL, closed and freed handles, and NULL names; it frees twice on
 * double close), so no differential comparison is possible:
 * bpflink must answer like libbpf's convention for invalid arguments (NULL / -EINVAL with
 * errno EINVAL), log a message naming the function, and leak no fd. The cases libbpf does
 * handle are compared against libbpf by capi-tests/diff/object_dump.c and bpf_ops.c.
 *   test_bad_input OBJ   (an object with at least one program and one map) */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <errno.h>
#include <stdarg.h>

#include "harness.h"
#include "util.h"

static const char *obj_path;
static char last_message[512];
static int messages;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	messages++;
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	return 0;
}

/* Runs EXPR, which must fail with errno EINVAL and log a message that names API. */
#define EXPECT_EINVAL(api, expr, is_failure)                                                \
	do {                                                                                \
		messages = 0;                                                               \
		last_message[0] = 0;                                                        \
		errno = 0;                                                                  \
		__typeof__(expr) r = (expr);                                                \
		int e = errno;                                                              \
		if (!(is_failure)) {                                                        \
			printf("     %s:%d: %s did not fail\n", __FILE__, __LINE__, #expr);     \
			capi_current_failed = 1;                                            \
			return;                                                             \
		}                                                                           \
		CHECK_EQ_INT(e, EINVAL);                                                    \
		CHECK(messages > 0);                                                        \
		CHECK(strstr(last_message, api) != NULL);                                   \
	} while (0)
#define PTR_FAILS (r == NULL)
#define INT_FAILS (r == -EINVAL)

static void null_handles_to_object_functions(void)
{
	int fds = count_fds();
	struct bpf_object *obj = bpf_object__open(obj_path);

	CHECK(obj != NULL);
	EXPECT_EINVAL("bpf_object__next_program", bpf_object__next_program(NULL, NULL), PTR_FAILS);
	EXPECT_EINVAL("bpf_object__prev_map", bpf_object__prev_map(NULL, NULL), PTR_FAILS);
	EXPECT_EINVAL("bpf_object__find_program_by_name", bpf_object__find_program_by_name(NULL, "x"), PTR_FAILS);
	EXPECT_EINVAL("bpf_object__find_program_by_name", bpf_object__find_program_by_name(obj, NULL), PTR_FAILS);
	EXPECT_EINVAL("bpf_object__find_map_by_name", bpf_object__find_map_by_name(obj, NULL), PTR_FAILS);
	bpf_object__close(obj);
	CHECK_EQ_INT(count_fds(), fds);
}

static void null_handles_to_program_and_map_functions(void)
{
	__u32 key = 0;
	__u64 value = 0;
	size_t sz = 0;

	EXPECT_EINVAL("bpf_program__set_type", bpf_program__set_type(NULL, BPF_PROG_TYPE_XDP), INT_FAILS);
	EXPECT_EINVAL("bpf_program__set_autoload", bpf_program__set_autoload(NULL, false), INT_FAILS);
	EXPECT_EINVAL("bpf_program__section_name", bpf_program__section_name(NULL), PTR_FAILS);
	EXPECT_EINVAL("bpf_program__insns", bpf_program__insns(NULL), PTR_FAILS);
	EXPECT_EINVAL("bpf_program__log_buf", bpf_program__log_buf(NULL, &sz), PTR_FAILS);
	EXPECT_EINVAL("bpf_map__set_key_size", bpf_map__set_key_size(NULL, 4), INT_FAILS);
	EXPECT_EINVAL("bpf_map__set_max_entries", bpf_map__set_max_entries(NULL, 4), INT_FAILS);
	EXPECT_EINVAL("bpf_map__set_initial_value", bpf_map__set_initial_value(NULL, &value, 8), INT_FAILS);
	EXPECT_EINVAL("bpf_map__initial_value", bpf_map__initial_value(NULL, &sz), PTR_FAILS);
	EXPECT_EINVAL("bpf_map__set_pin_path", bpf_map__set_pin_path(NULL, "/sys/fs/bpf/x"), INT_FAILS);
	EXPECT_EINVAL("bpf_map__lookup_elem", bpf_map__lookup_elem(NULL, &key, 4, &value, 8, 0), INT_FAILS);
	EXPECT_EINVAL("bpf_map__get_next_key", bpf_map__get_next_key(NULL, NULL, &key, 4), INT_FAILS);
}

static void null_out_parameters(void)
{
	int fds = count_fds();
	struct bpf_object *obj = bpf_object__open(obj_path);
	struct bpf_program *prog;
	struct bpf_map *map;

	CHECK(obj != NULL);
	prog = bpf_object__next_program(obj, NULL);
	map = bpf_object__next_map(obj, NULL);
	CHECK(prog != NULL && map != NULL);
	EXPECT_EINVAL("bpf_program__log_buf", bpf_program__log_buf(prog, NULL), PTR_FAILS);
	/* A map with value memory needs somewhere to store its size. */
	bpf_object__for_each_map(map, obj) {
		size_t sz;

		if (bpf_map__initial_value(map, &sz))
			EXPECT_EINVAL("bpf_map__initial_value", bpf_map__initial_value(map, NULL), PTR_FAILS);
	}
	bpf_object__close(obj);
	CHECK_EQ_INT(count_fds(), fds);
}

static void null_arguments_to_btf_functions(void)
{
	struct btf *btf;
	int fds = count_fds();

	EXPECT_EINVAL("btf__type_by_id", btf__type_by_id(NULL, 1), PTR_FAILS);
	/* btf__name_by_offset is an alias of btf__str_by_offset, whose name the message carries. */
	EXPECT_EINVAL("btf__str_by_offset", btf__name_by_offset(NULL, 0), PTR_FAILS);
	btf = btf__parse(obj_path, NULL);
	CHECK(btf != NULL);
	messages = 0;
	errno = 0;
	int r = btf__find_by_name_kind(btf, NULL, BTF_KIND_INT);
	CHECK(r < 0);
	CHECK(messages > 0);
	btf__free(btf);
	CHECK_EQ_INT(count_fds(), fds);
}

/* Like EXPECT_EINVAL, for a handle that is no longer (or never was) live: the message says so. */
#define EXPECT_DEAD(api, expr, is_failure)                                                  \
	do {                                                                                \
		EXPECT_EINVAL(api, expr, is_failure);                                       \
		CHECK(strstr(last_message, "is not a live") != NULL);                       \
	} while (0)
#define ZERO_FAILS (r == 0)

/* Closing twice must not free twice: the second close is refused with a message. */
static void double_close_is_refused(void)
{
	int fds = count_fds();
	struct bpf_object *obj = bpf_object__open(obj_path);

	CHECK(obj != NULL);
	bpf_object__close(obj);
	CHECK_EQ_INT(count_fds(), fds);
	messages = 0;
	errno = 0;
	bpf_object__close(obj);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK(messages > 0);
	CHECK(strstr(last_message, "bpf_object__close") != NULL);
	CHECK(strstr(last_message, "is not a live bpf_object") != NULL);
	/* NULL stays a silent no-op. */
	messages = 0;
	bpf_object__close(NULL);
	CHECK_EQ_INT(messages, 0);
	CHECK_EQ_INT(count_fds(), fds);
}

static void object_functions_after_close(void)
{
	int fds = count_fds();
	struct bpf_object *obj = bpf_object__open(obj_path);

	CHECK(obj != NULL);
	bpf_object__close(obj);
	EXPECT_DEAD("bpf_object__load", bpf_object__load(obj), INT_FAILS);
	EXPECT_DEAD("bpf_object__name", bpf_object__name(obj), PTR_FAILS);
	EXPECT_DEAD("bpf_object__btf", bpf_object__btf(obj), PTR_FAILS);
	EXPECT_DEAD("bpf_object__next_program", bpf_object__next_program(obj, NULL), PTR_FAILS);
	EXPECT_DEAD("bpf_object__next_map", bpf_object__next_map(obj, NULL), PTR_FAILS);
	EXPECT_DEAD("bpf_object__find_program_by_name", bpf_object__find_program_by_name(obj, "x"), PTR_FAILS);
	EXPECT_DEAD("bpf_object__find_map_by_name", bpf_object__find_map_by_name(obj, "x"), PTR_FAILS);
	EXPECT_DEAD("bpf_object__pin_maps", bpf_object__pin_maps(obj, NULL), INT_FAILS);
	CHECK_EQ_INT(count_fds(), fds);
}

static void program_and_map_functions_after_close(void)
{
	int fds = count_fds();
	struct bpf_object *obj = bpf_object__open(obj_path);
	struct bpf_program *prog;
	struct bpf_map *map;
	__u32 key = 0;
	size_t sz = 0;

	CHECK(obj != NULL);
	prog = bpf_object__next_program(obj, NULL);
	map = bpf_object__next_map(obj, NULL);
	CHECK(prog != NULL && map != NULL);
	bpf_object__close(obj);
	EXPECT_DEAD("bpf_program__name", bpf_program__name(prog), PTR_FAILS);
	EXPECT_DEAD("bpf_program__fd", bpf_program__fd(prog), INT_FAILS);
	EXPECT_DEAD("bpf_program__insn_cnt", bpf_program__insn_cnt(prog), ZERO_FAILS);
	EXPECT_DEAD("bpf_program__set_autoload", bpf_program__set_autoload(prog, false), INT_FAILS);
	EXPECT_DEAD("bpf_program__log_buf", bpf_program__log_buf(prog, &sz), PTR_FAILS);
	EXPECT_DEAD("bpf_map__fd", bpf_map__fd(map), INT_FAILS);
	EXPECT_DEAD("bpf_map__name", bpf_map__name(map), PTR_FAILS);
	EXPECT_DEAD("bpf_map__key_size", bpf_map__key_size(map), ZERO_FAILS);
	EXPECT_DEAD("bpf_map__set_max_entries", bpf_map__set_max_entries(map, 8), INT_FAILS);
	EXPECT_DEAD("bpf_map__get_next_key", bpf_map__get_next_key(map, NULL, &key, 4), INT_FAILS);
	CHECK_EQ_INT(count_fds(), fds);
}

/* Pointers this library never handed out, including one into the middle of a live handle. */
static void foreign_pointers_are_refused(void)
{
	int fds = count_fds();
	struct bpf_object *obj = bpf_object__open(obj_path);
	struct bpf_program *prog;
	struct bpf_map *map;
	long fake[64] = { 0 };

	CHECK(obj != NULL);
	prog = bpf_object__next_program(obj, NULL);
	map = bpf_object__next_map(obj, NULL);
	CHECK(prog != NULL && map != NULL);
	EXPECT_DEAD("bpf_object__name", bpf_object__name((struct bpf_object *)fake), PTR_FAILS);
	EXPECT_DEAD("bpf_program__name", bpf_program__name((struct bpf_program *)((char *)prog + 1)), PTR_FAILS);
	EXPECT_DEAD("bpf_map__fd", bpf_map__fd((struct bpf_map *)((char *)map + 1)), INT_FAILS);
	EXPECT_DEAD("bpf_program__fd", bpf_program__fd((struct bpf_program *)map), INT_FAILS);
	EXPECT_DEAD("btf__type_cnt", btf__type_cnt((struct btf *)fake), ZERO_FAILS);
	messages = 0;
	errno = 0;
	bpf_object__close((struct bpf_object *)fake);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK(messages > 0);
	/* The live handles still work after all that. */
	CHECK(bpf_program__name(prog) != NULL);
	CHECK(bpf_map__name(map) != NULL);
	bpf_object__close(obj);
	CHECK_EQ_INT(count_fds(), fds);
}

static void btf_free_twice_is_refused(void)
{
	int fds = count_fds();
	struct btf *btf = btf__parse(obj_path, NULL);

	CHECK(btf != NULL);
	CHECK(btf__type_cnt(btf) > 1);
	btf__free(btf);
	EXPECT_DEAD("btf__type_cnt", btf__type_cnt(btf), ZERO_FAILS);
	EXPECT_DEAD("btf__type_by_id", btf__type_by_id(btf, 1), PTR_FAILS);
	messages = 0;
	errno = 0;
	btf__free(btf);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK(messages > 0);
	CHECK(strstr(last_message, "btf__free") != NULL);
	messages = 0;
	btf__free(NULL);
	CHECK_EQ_INT(messages, 0);
	CHECK_EQ_INT(count_fds(), fds);
}

/* The object's BTF belongs to the object: btf__free refuses it, and it dies with the object. */
static void object_btf_lives_and_dies_with_its_object(void)
{
	int fds = count_fds();
	struct bpf_object *obj = bpf_object__open(obj_path);
	struct btf *btf;
	__u32 types;

	CHECK(obj != NULL);
	btf = bpf_object__btf(obj);
	CHECK(btf != NULL);
	types = btf__type_cnt(btf);
	CHECK(types > 1);
	messages = 0;
	errno = 0;
	btf__free(btf);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK(strstr(last_message, "bpf_object__close") != NULL);
	CHECK_EQ_INT(btf__type_cnt(btf), types);
	bpf_object__close(obj);
	EXPECT_DEAD("btf__type_cnt", btf__type_cnt(btf), ZERO_FAILS);
	CHECK_EQ_INT(count_fds(), fds);
}

int main(int argc, char **argv)
{
	static const struct capi_test tests[] = {
		TEST_ENTRY(null_handles_to_object_functions),
		TEST_ENTRY(null_handles_to_program_and_map_functions),
		TEST_ENTRY(null_out_parameters),
		TEST_ENTRY(null_arguments_to_btf_functions),
		TEST_ENTRY(double_close_is_refused),
		TEST_ENTRY(object_functions_after_close),
		TEST_ENTRY(program_and_map_functions_after_close),
		TEST_ENTRY(foreign_pointers_are_refused),
		TEST_ENTRY(btf_free_twice_is_refused),
		TEST_ENTRY(object_btf_lives_and_dies_with_its_object),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_bad_input OBJ\n");
		return 2;
	}
	obj_path = argv[1];
	libbpf_set_print(capture);
	return capi_run("bad-input", tests, sizeof(tests) / sizeof(tests[0]));
}
