/* bpflink's dynamic linking through the C API: plain bpf_object__open_file + __load of a
 * library and of an object calling it, the graph as JSON, the export API's error conventions.
 *   test_dynlink OBJ_DIR     (OBJ_DIR holds dyn_classifier.bpf.o and dyn_caller.bpf.o)
 * The kernel tests need BPF_PROG_TYPE_EXT: where the kernel refuses it they print SKIPPED,
 * unless BPFLINK_REQUIRE_KERNEL_FEATURES=1 (the guest run), where that is a failure. */
#include <bpflink.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"

static const char *obj_dir;

static struct bpf_object *open_obj(const char *stem)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s.bpf.o", obj_dir, stem);
	return bpf_object__open_file(path, NULL);
}

static int verdict(struct bpf_object *obj, const char *prog, unsigned char first)
{
	unsigned char frame[64] = { [0] = first, [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame), .repeat = 1);
	struct bpf_program *p = bpf_object__find_program_by_name(obj, prog);

	if (!p || bpf_prog_test_run_opts(bpf_program__fd(p), &run))
		return -1;
	return (int)run.retval;
}

/* The number of times `needle` occurs in `hay`. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *at = hay; (at = strstr(at, needle)); at += strlen(needle))
		n++;
	return n;
}

static void bad_arguments_follow_libbpf_conventions(void)
{
	char *json = NULL;
	struct bpf_object *lib;

	errno = 0;
	CHECK_EQ_INT(bpflink_graph_json(NULL), -EINVAL);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_EQ_INT(bpflink_object__export(NULL, NULL), -EINVAL);
	CHECK_EQ_INT(bpflink_unexport(NULL), -EINVAL);
	CHECK_EQ_INT(bpflink_system_graph_json("/nonexistent", NULL), -EINVAL);
	lib = open_obj("dyn_classifier");
	CHECK(lib);
	/* Exporting needs a loaded object. */
	CHECK_EQ_INT(bpflink_object__export(lib, "/nonexistent"), -ENOENT);
	bpf_object__close(lib);
	CHECK_EQ_INT(bpflink_system_graph_json("/nonexistent", &json), 0);
	CHECK(strstr(json, "\"objects\":[]"));
	bpflink_free_string(json);
}

static void an_unresolved_call_fails_with_esrch(void)
{
	struct bpf_object *caller = open_obj("dyn_caller");

	CHECK(caller);
	CHECK_EQ_INT(bpflink_set_library_path("/nonexistent:/also/not"), 0);
	errno = 0;
	CHECK_EQ_INT(bpf_object__load(caller), -ESRCH);
	CHECK_EQ_INT(errno, ESRCH);
	bpf_object__close(caller);
	CHECK_EQ_INT(bpflink_set_library_path(NULL), 0);
}

static void a_caller_runs_the_library_and_the_graph_shows_it(void)
{
	struct bpf_object *lib, *caller;
	char *json = NULL;
	int fds = count_fds(), err;

	lib = open_obj("dyn_classifier");
	CHECK(lib);
	CHECK_EQ_INT(bpf_object__load(lib), 0);
	caller = open_obj("dyn_caller");
	CHECK(caller);
	err = bpf_object__load(caller);
	if (err == -EPERM && !getenv("BPFLINK_REQUIRE_KERNEL_FEATURES")) {
		bpf_object__close(caller);
		bpf_object__close(lib);
		SKIP("this kernel refuses BPF_PROG_TYPE_EXT (set BPFLINK_REQUIRE_KERNEL_FEATURES=1 to fail instead)");
	}
	CHECK_EQ_INT(err, 0);
	CHECK_EQ_INT(verdict(caller, "dyn_caller", 0xff), XDP_DROP);
	CHECK_EQ_INT(verdict(caller, "dyn_caller2", 0), XDP_TX);
	CHECK_EQ_INT(bpflink_graph_json(&json), 0);
	CHECK_EQ_INT(occurrences(json, "\"mechanism\":\"stub+freplace\""), 2);
	CHECK_EQ_INT(occurrences(json, "\"to\":\"dyn_classifier\""), 2);
	bpflink_free_string(json);
	bpf_object__close(caller);
	bpf_object__close(lib);
	CHECK_EQ_INT(bpflink_graph_json(&json), 0);
	CHECK_EQ_STR(json, "{\"edges\":[],\"objects\":[]}");
	bpflink_free_string(json);
	CHECK_EQ_INT(count_fds(), fds);
}

int main(int argc, char **argv)
{
	static const struct capi_test tests[] = {
		TEST_ENTRY(bad_arguments_follow_libbpf_conventions),
		TEST_ENTRY(an_unresolved_call_fails_with_esrch),
		TEST_ENTRY(a_caller_runs_the_library_and_the_graph_shows_it),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJ_DIR\n", argv[0]);
		return 2;
	}
	obj_dir = argv[1];
	libbpf_set_print(quiet);
	return RUN_TESTS("dynlink", tests);
}
