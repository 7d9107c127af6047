/* Differential test tool for the btf.h layer: built against the system libbpf and against
 * bpflink (see capi-tests/build.sh); run.sh compares the outputs line by line.
 *   btf_dump FILE...     dumps every type of each file's BTF (raw BTF or an ELF's .BTF)
 *   btf_dump --vmlinux   the kernel's BTF: type count and a hash of the same dump
 * Everything printed must be identical between implementations: ids, kinds, names, sizes
 * (btf__resolve_size), name lookups, and the errors of out-of-range requests. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../util.h"

static uint64_t hash = 1469598103934665603ULL;
static int hash_only;

static void out(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (!hash_only) {
		fputs(line, stdout);
		return;
	}
	for (const char *p = line; *p; p++) {
		hash ^= (unsigned char)*p;
		hash *= 1099511628211ULL;
	}
}

static const char *name_of(const struct btf *btf, __u32 off)
{
	const char *s = btf__name_by_offset(btf, off);

	return s ? s : "(bad offset)";
}

static void dump_type(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	__u16 i, vlen;

	if (!t) {
		out("[%u] NULL errno %d\n", id, errno);
		return;
	}
	vlen = btf_vlen(t);
	out("[%u] kind %u name '%s' vlen %u kflag %d size/type %u", id, btf_kind(t),
	    name_of(btf, t->name_off), vlen, btf_kflag(t), t->size);
	errno = 0;
	long long size = btf__resolve_size(btf, id);
	out(" resolve_size %lld%s\n", size, size < 0 ? (errno ? " (errno set)" : " (errno 0)") : "");
	if (btf_is_int(t))
		out("  int enc %u off %u bits %u\n", btf_int_encoding(t), btf_int_offset(t), btf_int_bits(t));
	if (btf_is_array(t))
		out("  array elem %u index %u nelems %u\n", btf_array(t)->type, btf_array(t)->index_type,
		    btf_array(t)->nelems);
	if (btf_is_composite(t))
		for (i = 0; i < vlen; i++)
			out("  member '%s' type %u bit_offset %u bitfield %u\n",
			    name_of(btf, btf_members(t)[i].name_off), btf_members(t)[i].type,
			    btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i));
	if (btf_is_enum(t))
		for (i = 0; i < vlen; i++)
			out("  enum '%s' = %d\n", name_of(btf, btf_enum(t)[i].name_off), btf_enum(t)[i].val);
	if (btf_is_enum64(t))
		for (i = 0; i < vlen; i++)
			out("  enum64 '%s' = %llu\n", name_of(btf, btf_enum64(t)[i].name_off),
			    (unsigned long long)btf_enum64_value(&btf_enum64(t)[i]));
	if (btf_is_func_proto(t))
		for (i = 0; i < vlen; i++)
			out("  param '%s' type %u\n", name_of(btf, btf_params(t)[i].name_off), btf_params(t)[i].type);
	if (btf_is_var(t))
		out("  var linkage %u\n", btf_var(t)->linkage);
	if (btf_is_datasec(t))
		for (i = 0; i < vlen; i++)
			out("  secinfo type %u offset %u size %u\n", btf_var_secinfos(t)[i].type,
			    btf_var_secinfos(t)[i].offset, btf_var_secinfos(t)[i].size);
	if (btf_is_decl_tag(t))
		out("  decl_tag component_idx %d\n", btf_decl_tag(t)->component_idx);
	/* Name lookups are linear scans: on the kernel's BTF, sample them to keep the run short. */
	if (t->name_off && !btf_is_var(t) && (!hash_only || id % 97 == 0)) {
		int found = btf__find_by_name_kind(btf, name_of(btf, t->name_off), btf_kind(t));
		out("  find_by_name_kind -> %d\n", found);
	}
	out("  is: mod %d any_enum %d core_compat_self %d\n", btf_is_mod(t), btf_is_any_enum(t), btf_kind_core_compat(t, t));
}

static void dump(const struct btf *btf)
{
	__u32 id, cnt = btf__type_cnt(btf);

	out("type_cnt %u fd %d\n", cnt, btf__fd(btf));
	for (id = 0; id < cnt; id++)
		dump_type(btf, id);
	errno = 0;
	out("type_by_id(cnt) %s errno %d\n", btf__type_by_id(btf, cnt) ? "non-NULL" : "NULL", errno);
	errno = 0;
	out("str_by_offset(1<<30) %s errno %d\n", btf__str_by_offset(btf, 1u << 30) ? "non-NULL" : "NULL", errno);
	errno = 0;
	out("find_by_name_kind(no_such_type) %d errno %d\n",
	    btf__find_by_name_kind(btf, "no_such_type_anywhere", BTF_KIND_STRUCT), errno);
	out("find_by_name_kind(void) %d\n", btf__find_by_name_kind(btf, "void", BTF_KIND_UNKN));
	errno = 0;
	out("resolve_size(cnt) %lld errno %d\n", (long long)btf__resolve_size(btf, cnt), errno);
}

int main(int argc, char **argv)
{
	struct btf *btf;
	int i;

	libbpf_set_print(quiet);
	if (argc == 2 && !strcmp(argv[1], "--vmlinux")) {
		btf = btf__load_vmlinux_btf();
		if (!btf) {
			printf("vmlinux: NULL errno %d\n", errno);
			return 0;
		}
		hash_only = 1;
		dump(btf);
		printf("vmlinux: type_cnt %u dump hash %016llx\n", btf__type_cnt(btf), (unsigned long long)hash);
		printf("task_struct size %lld\n", (long long)
		       btf__resolve_size(btf, btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT)));
		btf__free(btf);
		return 0;
	}
	errno = 0;
	btf = btf__parse("/nonexistent/file.o", NULL);
	printf("parse(nonexistent) %s errno %d\n", btf ? "non-NULL" : "NULL", errno);
	btf__free(NULL);
	for (i = 1; i < argc; i++) {
		const char *base = strrchr(argv[i], '/');

		printf("== %s\n", base ? base + 1 : argv[i]);
		errno = 0;
		btf = btf__parse(argv[i], NULL);
		if (!btf) {
			printf("parse: NULL errno %d\n", errno);
			continue;
		}
		dump(btf);
		btf__free(btf);
	}
	return 0;
}
