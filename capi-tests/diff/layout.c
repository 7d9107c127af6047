/* Differential test of struct layouts: prints the size of each libbpf opts struct and the
 * offset and size of every field. Built against the system headers and against bpflink's
 * (capi-tests/build.sh); the outputs must be identical, or binaries built against one would
 * pass garbage to the other.
 *   layout */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <stddef.h>
#include <stdio.h>

#define S(type) printf("struct %s: size %zu align %zu\n", #type, sizeof(struct type), _Alignof(struct type))
#define F(type, field)                                                                     \
	printf("  %s.%s: offset %zu size %zu\n", #type, #field, offsetof(struct type, field), \
	       sizeof(((struct type *)0)->field))

int main(void)
{
	S(bpf_map_create_opts);
	F(bpf_map_create_opts, sz);
	F(bpf_map_create_opts, btf_fd);
	F(bpf_map_create_opts, btf_key_type_id);
	F(bpf_map_create_opts, btf_value_type_id);
	F(bpf_map_create_opts, btf_vmlinux_value_type_id);
	F(bpf_map_create_opts, inner_map_fd);
	F(bpf_map_create_opts, map_flags);
	F(bpf_map_create_opts, map_extra);
	F(bpf_map_create_opts, numa_node);
	F(bpf_map_create_opts, map_ifindex);

	S(bpf_prog_load_opts);
	F(bpf_prog_load_opts, sz);
	F(bpf_prog_load_opts, attempts);
	F(bpf_prog_load_opts, expected_attach_type);
	F(bpf_prog_load_opts, prog_btf_fd);
	F(bpf_prog_load_opts, prog_flags);
	F(bpf_prog_load_opts, prog_ifindex);
	F(bpf_prog_load_opts, kern_version);
	F(bpf_prog_load_opts, attach_btf_id);
	F(bpf_prog_load_opts, attach_prog_fd);
	F(bpf_prog_load_opts, attach_btf_obj_fd);
	F(bpf_prog_load_opts, fd_array);
	F(bpf_prog_load_opts, func_info);
	F(bpf_prog_load_opts, func_info_cnt);
	F(bpf_prog_load_opts, func_info_rec_size);
	F(bpf_prog_load_opts, line_info);
	F(bpf_prog_load_opts, line_info_cnt);
	F(bpf_prog_load_opts, line_info_rec_size);
	F(bpf_prog_load_opts, log_level);
	F(bpf_prog_load_opts, log_size);
	F(bpf_prog_load_opts, log_buf);

	S(bpf_btf_load_opts);
	F(bpf_btf_load_opts, sz);
	F(bpf_btf_load_opts, log_buf);
	F(bpf_btf_load_opts, log_level);
	F(bpf_btf_load_opts, log_size);

	S(bpf_map_batch_opts);
	F(bpf_map_batch_opts, sz);
	F(bpf_map_batch_opts, elem_flags);
	F(bpf_map_batch_opts, flags);

	S(bpf_obj_get_opts);
	F(bpf_obj_get_opts, sz);
	F(bpf_obj_get_opts, file_flags);

	S(bpf_get_fd_by_id_opts);
	F(bpf_get_fd_by_id_opts, sz);
	F(bpf_get_fd_by_id_opts, open_flags);

	S(bpf_test_run_opts);
	F(bpf_test_run_opts, sz);
	F(bpf_test_run_opts, data_in);
	F(bpf_test_run_opts, data_out);
	F(bpf_test_run_opts, data_size_in);
	F(bpf_test_run_opts, data_size_out);
	F(bpf_test_run_opts, ctx_in);
	F(bpf_test_run_opts, ctx_out);
	F(bpf_test_run_opts, ctx_size_in);
	F(bpf_test_run_opts, ctx_size_out);
	F(bpf_test_run_opts, retval);
	F(bpf_test_run_opts, repeat);
	F(bpf_test_run_opts, duration);
	F(bpf_test_run_opts, flags);
	F(bpf_test_run_opts, cpu);
	F(bpf_test_run_opts, batch_size);
#if 1 /* bpf_object_open_opts */
	S(bpf_object_open_opts);
	F(bpf_object_open_opts, sz);
	F(bpf_object_open_opts, object_name);
	F(bpf_object_open_opts, relaxed_maps);
	F(bpf_object_open_opts, pin_root_path);
	F(bpf_object_open_opts, kconfig);
	F(bpf_object_open_opts, btf_custom_path);
	F(bpf_object_open_opts, kernel_log_buf);
	F(bpf_object_open_opts, kernel_log_size);
	F(bpf_object_open_opts, kernel_log_level);
#endif
	return 0;
}
