/* A plain libbpf tool: open an object, load it, run one XDP program on a few packets with
 * BPF_PROG_TEST_RUN and print verdicts and map contents. It builds unchanged against the
 * system libbpf or against bpflink (`pkg-config bpflink`), and its -lbpf build runs on
 * bpflink's drop-in libbpf.so.1.
 *   xdp_run OBJ PROG [EXT_OBJ...]
 * Each EXT_OBJ is then opened and loaded while OBJ stays loaded, the packets are run through
 * PROG again, and EXT_OBJ is closed and the packets run once more: with bpflink, loading an
 * object that defines a function OBJ has as a __weak placeholder replaces it at run time. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const char *verdict_name(int v)
{
	static const char *names[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };
	return v >= 0 && v <= 4 ? names[v] : "?";
}

static size_t make_packet(unsigned char *buf, int proto, size_t len)
{
	struct ethhdr *eth = (void *)buf;
	struct iphdr *ip = (void *)(eth + 1);

	memset(buf, 0, len);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->protocol = proto;
	ip->tot_len = htons(len - sizeof(*eth));
	return len;
}

static void print_u64_map(struct bpf_map *map)
{
	__u32 key, next, *prev = NULL;
	__u64 value;

	printf("  map %s:", bpf_map__name(map));
	while (!bpf_map__get_next_key(map, prev, &next, sizeof(next))) {
		key = next;
		prev = &key;
		if (!bpf_map__lookup_elem(map, &key, sizeof(key), &value, sizeof(value), 0) && value)
			printf(" [%u]=%llu", key, (unsigned long long)value);
	}
	printf("\n");
}

static void run_packets(struct bpf_program *prog)
{
	static const struct { const char *what; int proto; size_t len; } packets[] = {
		{ "TCP, 100 bytes", IPPROTO_TCP, 100 },
		{ "UDP, 100 bytes", IPPROTO_UDP, 100 },
		{ "TCP, 1000 bytes", IPPROTO_TCP, 1000 },
	};
	unsigned char buf[1500];
	int err;

	for (size_t i = 0; i < sizeof(packets) / sizeof(packets[0]); i++) {
		LIBBPF_OPTS(bpf_test_run_opts, run,
			.data_in = buf,
			.data_size_in = make_packet(buf, packets[i].proto, packets[i].len),
			.repeat = 1);
		err = bpf_prog_test_run_opts(bpf_program__fd(prog), &run);
		printf("  packet %-16s -> %s\n", packets[i].what, err ? "test run failed" : verdict_name(run.retval));
	}
}

/* Loads EXT_OBJ next to the loaded target, reruns the packets, closes it, reruns them. */
static int with_extension(const char *path, struct bpf_program *prog)
{
	struct bpf_object *ext = bpf_object__open_file(path, NULL);
	int err;

	if (!ext) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return 1;
	}
	err = bpf_object__load(ext);
	if (err) {
		fprintf(stderr, "load %s: %s\n", path, strerror(-err));
		bpf_object__close(ext);
		return 1;
	}
	printf("loaded %s next to it:\n", path);
	run_packets(prog);
	bpf_object__close(ext);
	printf("closed %s:\n", path);
	run_packets(prog);
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJ PROG [EXT_OBJ...]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);	/* keep our lines in order with the library's log */
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (err || !prog) {
		fprintf(stderr, "load %s: %s\n", argv[1], err ? strerror(-err) : "no such program");
		bpf_object__close(obj);
		return 1;
	}
	printf("loaded %s: program %s, %zu instructions\n", argv[1], argv[2], bpf_program__insn_cnt(prog));
	run_packets(prog);
	for (int i = 3; i < argc && !err; i++)
		err = with_extension(argv[i], prog);
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__value_size(map) == sizeof(__u64) && bpf_map__key_size(map) == sizeof(__u32))
			print_u64_map(map);
	}
	bpf_object__close(obj);
	return err ? 1 : 0;
}
