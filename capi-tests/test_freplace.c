/* libbpf's explicit freplace API, as a transcript of return values and verdicts that must be
 * identical when built against the system libbpf and against bpflink (tests/kernel_freplace.rs
 * builds and diffs both). Needs a kernel that loads BPF_PROG_TYPE_EXT.
 *   test_freplace TARGET.bpf.o EXT.bpf.o BPFFS_DIR
 * TARGET: freplace_target.bpf.o (xdp_target calls placeholder: XDP_PASS);
 * EXT: freplace_ext.bpf.o (drop_all in SEC("freplace/placeholder"): XDP_DROP). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static int verdict(int prog_fd)
{
	unsigned char frame[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &run))
		return -errno;
	return (int)run.retval;
}

/* Prints an int result with errno for failures (errno is part of libbpf's contract). */
static void show(const char *what, long ret)
{
	if (ret < 0)
		printf("%s = %ld (errno %d)\n", what, ret, errno);
	else
		printf("%s = ok\n", what);
}

static void show_ptr(const char *what, const void *p)
{
	if (!p)
		printf("%s = NULL (errno %d)\n", what, errno);
	else
		printf("%s = ok\n", what);
}

int main(int argc, char **argv)
{
	struct bpf_object *target, *ext, *ext2;
	struct bpf_program *prog, *prog2;
	struct bpf_link *link, *link2, *opened;
	char pin[512];
	int tfd, fds_before;

	if (argc != 4) {
		fprintf(stderr, "usage: %s TARGET.bpf.o EXT.bpf.o BPFFS_DIR\n", argv[0]);
		return 2;
	}
	libbpf_set_print(quiet);
	snprintf(pin, sizeof(pin), "%s/freplace_link", argv[3]);
	fds_before = count_fds();

	target = bpf_object__open_file(argv[1], NULL);
	if (!target || bpf_object__load(target)) {
		fprintf(stderr, "loading %s failed\n", argv[1]);
		return 1;
	}
	tfd = bpf_program__fd(bpf_object__find_program_by_name(target, "xdp_target"));
	printf("target verdict %d\n", verdict(tfd));

	ext = bpf_object__open_file(argv[2], NULL);
	prog = bpf_object__find_program_by_name(ext, "drop_all");
	printf("ext prog type %d\n", bpf_program__type(prog));
	show("set_attach_target(fd -1)", bpf_program__set_attach_target(prog, -1, NULL));
	show("set_attach_target(0, NULL)", bpf_program__set_attach_target(prog, 0, NULL));
	show("set_attach_target(fd, \"nope\")", bpf_program__set_attach_target(prog, tfd, "nope"));
	show("set_attach_target(fd, \"placeholder\")", bpf_program__set_attach_target(prog, tfd, "placeholder"));
	show("attach_freplace before load", (long)(bpf_program__attach_freplace(prog, tfd, "placeholder") ? 0 : -1));
	show("load ext", bpf_object__load(ext));
	show("set_attach_target after load", bpf_program__set_attach_target(prog, tfd, "placeholder"));
	printf("verdict after load %d\n", verdict(tfd));

	show_ptr("attach_freplace(fd, NULL)", bpf_program__attach_freplace(prog, tfd, NULL));
	show_ptr("attach_freplace(xdp prog)",
		 bpf_program__attach_freplace(bpf_object__find_program_by_name(target, "xdp_target"), tfd,
					      "placeholder"));
	link = bpf_program__attach_freplace(prog, 0, NULL);
	show_ptr("attach_freplace(0, NULL)", link);
	printf("verdict attached %d\n", verdict(tfd));
	show("link destroy", bpf_link__destroy(link));
	printf("verdict destroyed %d\n", verdict(tfd));
	show_ptr("attach_freplace(0, NULL) again", bpf_program__attach_freplace(prog, 0, NULL));

	link = bpf_program__attach_freplace(prog, tfd, "placeholder");
	show_ptr("attach_freplace(fd, placeholder)", link);
	printf("link fd valid %d\n", bpf_link__fd(link) > 0);
	printf("verdict attached %d\n", verdict(tfd));

	ext2 = bpf_object__open_file(argv[2], NULL);
	prog2 = bpf_object__find_program_by_name(ext2, "drop_all");
	show("set_attach_target 2", bpf_program__set_attach_target(prog2, tfd, NULL));
	show("load ext 2", bpf_object__load(ext2));
	link2 = bpf_program__attach_freplace(prog2, tfd, "placeholder");
	show_ptr("second freplace of placeholder", link2);

	printf("pin_path before pin %s\n", bpf_link__pin_path(link) ? "set" : "NULL");
	show("unpin unpinned", bpf_link__unpin(link));
	show("pin", bpf_link__pin(link, pin));
	printf("pin_path %s\n", bpf_link__pin_path(link) && !strcmp(bpf_link__pin_path(link), pin) ? "matches" : "wrong");
	show("pin twice", bpf_link__pin(link, pin));
	opened = bpf_link__open(pin);
	show_ptr("link open", opened);
	printf("opened pin_path %s\n", opened && bpf_link__pin_path(opened) && !strcmp(bpf_link__pin_path(opened), pin) ? "matches" : "wrong");
	show("update_program", bpf_link__update_program(opened, prog2));
	printf("verdict after update %d\n", verdict(tfd));
	show("detach", bpf_link__detach(opened));
	show("destroy opened", bpf_link__destroy(opened));
	show("unpin", bpf_link__unpin(link));
	printf("verdict pinned+unpinned %d\n", verdict(tfd));
	show("destroy", bpf_link__destroy(link));
	printf("verdict destroyed %d\n", verdict(tfd));
	show_ptr("link open after unpin", bpf_link__open(pin));

	link2 = bpf_program__attach_freplace(prog2, tfd, "placeholder");
	show_ptr("second ext once free", link2);
	printf("verdict %d\n", verdict(tfd));
	show("destroy 2", bpf_link__destroy(link2));
	printf("verdict %d\n", verdict(tfd));
	show("destroy NULL", bpf_link__destroy(NULL));

	bpf_object__close(ext2);
	bpf_object__close(ext);
	bpf_object__close(target);
	printf("fds leaked %d\n", count_fds() - fds_before);
	return 0;
}
