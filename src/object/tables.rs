// @generated from libbpf v1.7.0 (include/uapi/linux/bpf.h enums, libbpf.c name tables and
// section_defs) by a one-off script; kernel ABI numbers and libbpf's names, no logic.

/// (kernel constant, value, libbpf's name)
pub(crate) const PROG_TYPES: &[(&str, u32, &str)] = &[
    ("BPF_PROG_TYPE_UNSPEC", 0, "unspec"),
    ("BPF_PROG_TYPE_SOCKET_FILTER", 1, "socket_filter"),
    ("BPF_PROG_TYPE_KPROBE", 2, "kprobe"),
    ("BPF_PROG_TYPE_SCHED_CLS", 3, "sched_cls"),
    ("BPF_PROG_TYPE_SCHED_ACT", 4, "sched_act"),
    ("BPF_PROG_TYPE_TRACEPOINT", 5, "tracepoint"),
    ("BPF_PROG_TYPE_XDP", 6, "xdp"),
    ("BPF_PROG_TYPE_PERF_EVENT", 7, "perf_event"),
    ("BPF_PROG_TYPE_CGROUP_SKB", 8, "cgroup_skb"),
    ("BPF_PROG_TYPE_CGROUP_SOCK", 9, "cgroup_sock"),
    ("BPF_PROG_TYPE_LWT_IN", 10, "lwt_in"),
    ("BPF_PROG_TYPE_LWT_OUT", 11, "lwt_out"),
    ("BPF_PROG_TYPE_LWT_XMIT", 12, "lwt_xmit"),
    ("BPF_PROG_TYPE_SOCK_OPS", 13, "sock_ops"),
    ("BPF_PROG_TYPE_SK_SKB", 14, "sk_skb"),
    ("BPF_PROG_TYPE_CGROUP_DEVICE", 15, "cgroup_device"),
    ("BPF_PROG_TYPE_SK_MSG", 16, "sk_msg"),
    ("BPF_PROG_TYPE_RAW_TRACEPOINT", 17, "raw_tracepoint"),
    ("BPF_PROG_TYPE_CGROUP_SOCK_ADDR", 18, "cgroup_sock_addr"),
    ("BPF_PROG_TYPE_LWT_SEG6LOCAL", 19, "lwt_seg6local"),
    ("BPF_PROG_TYPE_LIRC_MODE2", 20, "lirc_mode2"),
    ("BPF_PROG_TYPE_SK_REUSEPORT", 21, "sk_reuseport"),
    ("BPF_PROG_TYPE_FLOW_DISSECTOR", 22, "flow_dissector"),
    ("BPF_PROG_TYPE_CGROUP_SYSCTL", 23, "cgroup_sysctl"),
    ("BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", 24, "raw_tracepoint_writable"),
    ("BPF_PROG_TYPE_CGROUP_SOCKOPT", 25, "cgroup_sockopt"),
    ("BPF_PROG_TYPE_TRACING", 26, "tracing"),
    ("BPF_PROG_TYPE_STRUCT_OPS", 27, "struct_ops"),
    ("BPF_PROG_TYPE_EXT", 28, "ext"),
    ("BPF_PROG_TYPE_LSM", 29, "lsm"),
    ("BPF_PROG_TYPE_SK_LOOKUP", 30, "sk_lookup"),
    ("BPF_PROG_TYPE_SYSCALL", 31, "syscall"),
    ("BPF_PROG_TYPE_NETFILTER", 32, "netfilter"),
];

/// (kernel constant, value, libbpf's name)
pub(crate) const ATTACH_TYPES: &[(&str, u32, &str)] = &[
    ("BPF_CGROUP_INET_INGRESS", 0, "cgroup_inet_ingress"),
    ("BPF_CGROUP_INET_EGRESS", 1, "cgroup_inet_egress"),
    ("BPF_CGROUP_INET_SOCK_CREATE", 2, "cgroup_inet_sock_create"),
    ("BPF_CGROUP_SOCK_OPS", 3, "cgroup_sock_ops"),
    ("BPF_SK_SKB_STREAM_PARSER", 4, "sk_skb_stream_parser"),
    ("BPF_SK_SKB_STREAM_VERDICT", 5, "sk_skb_stream_verdict"),
    ("BPF_CGROUP_DEVICE", 6, "cgroup_device"),
    ("BPF_SK_MSG_VERDICT", 7, "sk_msg_verdict"),
    ("BPF_CGROUP_INET4_BIND", 8, "cgroup_inet4_bind"),
    ("BPF_CGROUP_INET6_BIND", 9, "cgroup_inet6_bind"),
    ("BPF_CGROUP_INET4_CONNECT", 10, "cgroup_inet4_connect"),
    ("BPF_CGROUP_INET6_CONNECT", 11, "cgroup_inet6_connect"),
    ("BPF_CGROUP_INET4_POST_BIND", 12, "cgroup_inet4_post_bind"),
    ("BPF_CGROUP_INET6_POST_BIND", 13, "cgroup_inet6_post_bind"),
    ("BPF_CGROUP_UDP4_SENDMSG", 14, "cgroup_udp4_sendmsg"),
    ("BPF_CGROUP_UDP6_SENDMSG", 15, "cgroup_udp6_sendmsg"),
    ("BPF_LIRC_MODE2", 16, "lirc_mode2"),
    ("BPF_FLOW_DISSECTOR", 17, "flow_dissector"),
    ("BPF_CGROUP_SYSCTL", 18, "cgroup_sysctl"),
    ("BPF_CGROUP_UDP4_RECVMSG", 19, "cgroup_udp4_recvmsg"),
    ("BPF_CGROUP_UDP6_RECVMSG", 20, "cgroup_udp6_recvmsg"),
    ("BPF_CGROUP_GETSOCKOPT", 21, "cgroup_getsockopt"),
    ("BPF_CGROUP_SETSOCKOPT", 22, "cgroup_setsockopt"),
    ("BPF_TRACE_RAW_TP", 23, "trace_raw_tp"),
    ("BPF_TRACE_FENTRY", 24, "trace_fentry"),
    ("BPF_TRACE_FEXIT", 25, "trace_fexit"),
    ("BPF_MODIFY_RETURN", 26, "modify_return"),
    ("BPF_LSM_MAC", 27, "lsm_mac"),
    ("BPF_TRACE_ITER", 28, "trace_iter"),
    ("BPF_CGROUP_INET4_GETPEERNAME", 29, "cgroup_inet4_getpeername"),
    ("BPF_CGROUP_INET6_GETPEERNAME", 30, "cgroup_inet6_getpeername"),
    ("BPF_CGROUP_INET4_GETSOCKNAME", 31, "cgroup_inet4_getsockname"),
    ("BPF_CGROUP_INET6_GETSOCKNAME", 32, "cgroup_inet6_getsockname"),
    ("BPF_XDP_DEVMAP", 33, "xdp_devmap"),
    ("BPF_CGROUP_INET_SOCK_RELEASE", 34, "cgroup_inet_sock_release"),
    ("BPF_XDP_CPUMAP", 35, "xdp_cpumap"),
    ("BPF_SK_LOOKUP", 36, "sk_lookup"),
    ("BPF_XDP", 37, "xdp"),
    ("BPF_SK_SKB_VERDICT", 38, "sk_skb_verdict"),
    ("BPF_SK_REUSEPORT_SELECT", 39, "sk_reuseport_select"),
    ("BPF_SK_REUSEPORT_SELECT_OR_MIGRATE", 40, "sk_reuseport_select_or_migrate"),
    ("BPF_PERF_EVENT", 41, "perf_event"),
    ("BPF_TRACE_KPROBE_MULTI", 42, "trace_kprobe_multi"),
    ("BPF_LSM_CGROUP", 43, "lsm_cgroup"),
    ("BPF_STRUCT_OPS", 44, "struct_ops"),
    ("BPF_NETFILTER", 45, "netfilter"),
    ("BPF_TCX_INGRESS", 46, "tcx_ingress"),
    ("BPF_TCX_EGRESS", 47, "tcx_egress"),
    ("BPF_TRACE_UPROBE_MULTI", 48, "trace_uprobe_multi"),
    ("BPF_CGROUP_UNIX_CONNECT", 49, "cgroup_unix_connect"),
    ("BPF_CGROUP_UNIX_SENDMSG", 50, "cgroup_unix_sendmsg"),
    ("BPF_CGROUP_UNIX_RECVMSG", 51, "cgroup_unix_recvmsg"),
    ("BPF_CGROUP_UNIX_GETPEERNAME", 52, "cgroup_unix_getpeername"),
    ("BPF_CGROUP_UNIX_GETSOCKNAME", 53, "cgroup_unix_getsockname"),
    ("BPF_NETKIT_PRIMARY", 54, "netkit_primary"),
    ("BPF_NETKIT_PEER", 55, "netkit_peer"),
    ("BPF_TRACE_KPROBE_SESSION", 56, "trace_kprobe_session"),
    ("BPF_TRACE_UPROBE_SESSION", 57, "trace_uprobe_session"),
    ("BPF_TRACE_FSESSION", 58, "trace_fsession"),
];

/// (kernel constant, value, libbpf's name)
pub(crate) const MAP_TYPES: &[(&str, u32, &str)] = &[
    ("BPF_MAP_TYPE_UNSPEC", 0, "unspec"),
    ("BPF_MAP_TYPE_HASH", 1, "hash"),
    ("BPF_MAP_TYPE_ARRAY", 2, "array"),
    ("BPF_MAP_TYPE_PROG_ARRAY", 3, "prog_array"),
    ("BPF_MAP_TYPE_PERF_EVENT_ARRAY", 4, "perf_event_array"),
    ("BPF_MAP_TYPE_PERCPU_HASH", 5, "percpu_hash"),
    ("BPF_MAP_TYPE_PERCPU_ARRAY", 6, "percpu_array"),
    ("BPF_MAP_TYPE_STACK_TRACE", 7, "stack_trace"),
    ("BPF_MAP_TYPE_CGROUP_ARRAY", 8, "cgroup_array"),
    ("BPF_MAP_TYPE_LRU_HASH", 9, "lru_hash"),
    ("BPF_MAP_TYPE_LRU_PERCPU_HASH", 10, "lru_percpu_hash"),
    ("BPF_MAP_TYPE_LPM_TRIE", 11, "lpm_trie"),
    ("BPF_MAP_TYPE_ARRAY_OF_MAPS", 12, "array_of_maps"),
    ("BPF_MAP_TYPE_HASH_OF_MAPS", 13, "hash_of_maps"),
    ("BPF_MAP_TYPE_DEVMAP", 14, "devmap"),
    ("BPF_MAP_TYPE_SOCKMAP", 15, "sockmap"),
    ("BPF_MAP_TYPE_CPUMAP", 16, "cpumap"),
    ("BPF_MAP_TYPE_XSKMAP", 17, "xskmap"),
    ("BPF_MAP_TYPE_SOCKHASH", 18, "sockhash"),
    ("BPF_MAP_TYPE_REUSEPORT_SOCKARRAY", 20, "reuseport_sockarray"),
    ("BPF_MAP_TYPE_QUEUE", 22, "queue"),
    ("BPF_MAP_TYPE_STACK", 23, "stack"),
    ("BPF_MAP_TYPE_SK_STORAGE", 24, "sk_storage"),
    ("BPF_MAP_TYPE_DEVMAP_HASH", 25, "devmap_hash"),
    ("BPF_MAP_TYPE_STRUCT_OPS", 26, "struct_ops"),
    ("BPF_MAP_TYPE_RINGBUF", 27, "ringbuf"),
    ("BPF_MAP_TYPE_INODE_STORAGE", 28, "inode_storage"),
    ("BPF_MAP_TYPE_TASK_STORAGE", 29, "task_storage"),
    ("BPF_MAP_TYPE_BLOOM_FILTER", 30, "bloom_filter"),
    ("BPF_MAP_TYPE_USER_RINGBUF", 31, "user_ringbuf"),
    ("BPF_MAP_TYPE_CGRP_STORAGE", 32, "cgrp_storage"),
    ("BPF_MAP_TYPE_ARENA", 33, "arena"),
    ("BPF_MAP_TYPE_INSN_ARRAY", 34, "insn_array"),
];

/// libbpf's section_defs in match order: (pattern, prog type, expected attach type, SEC_* flags).
pub(crate) const SECTION_DEFS: &[(&str, u32, u32, u32)] = &[
    ("socket", 1, 0, 0), // SOCKET_FILTER, 0
    ("sk_reuseport/migrate", 21, 40, 2), // SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE
    ("sk_reuseport", 21, 39, 2), // SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT
    ("kprobe+", 2, 0, 0), // KPROBE, 0
    ("uprobe+", 2, 0, 0), // KPROBE, 0
    ("uprobe.s+", 2, 0, 8), // KPROBE, 0
    ("kretprobe+", 2, 0, 0), // KPROBE, 0
    ("uretprobe+", 2, 0, 0), // KPROBE, 0
    ("uretprobe.s+", 2, 0, 8), // KPROBE, 0
    ("kprobe.multi+", 2, 42, 0), // KPROBE, BPF_TRACE_KPROBE_MULTI
    ("kretprobe.multi+", 2, 42, 0), // KPROBE, BPF_TRACE_KPROBE_MULTI
    ("kprobe.session+", 2, 56, 0), // KPROBE, BPF_TRACE_KPROBE_SESSION
    ("uprobe.multi+", 2, 48, 0), // KPROBE, BPF_TRACE_UPROBE_MULTI
    ("uretprobe.multi+", 2, 48, 0), // KPROBE, BPF_TRACE_UPROBE_MULTI
    ("uprobe.session+", 2, 57, 0), // KPROBE, BPF_TRACE_UPROBE_SESSION
    ("uprobe.multi.s+", 2, 48, 8), // KPROBE, BPF_TRACE_UPROBE_MULTI
    ("uretprobe.multi.s+", 2, 48, 8), // KPROBE, BPF_TRACE_UPROBE_MULTI
    ("uprobe.session.s+", 2, 57, 8), // KPROBE, BPF_TRACE_UPROBE_SESSION
    ("ksyscall+", 2, 0, 0), // KPROBE, 0
    ("kretsyscall+", 2, 0, 0), // KPROBE, 0
    ("usdt+", 2, 0, 32), // KPROBE, 0
    ("usdt.s+", 2, 0, 40), // KPROBE, 0
    ("tc/ingress", 3, 46, 0), // SCHED_CLS, BPF_TCX_INGRESS
    ("tc/egress", 3, 47, 0), // SCHED_CLS, BPF_TCX_EGRESS
    ("tcx/ingress", 3, 46, 0), // SCHED_CLS, BPF_TCX_INGRESS
    ("tcx/egress", 3, 47, 0), // SCHED_CLS, BPF_TCX_EGRESS
    ("tc", 3, 0, 0), // SCHED_CLS, 0
    ("classifier", 3, 0, 0), // SCHED_CLS, 0
    ("action", 4, 0, 0), // SCHED_ACT, 0
    ("netkit/primary", 3, 54, 0), // SCHED_CLS, BPF_NETKIT_PRIMARY
    ("netkit/peer", 3, 55, 0), // SCHED_CLS, BPF_NETKIT_PEER
    ("tracepoint+", 5, 0, 0), // TRACEPOINT, 0
    ("tp+", 5, 0, 0), // TRACEPOINT, 0
    ("raw_tracepoint+", 17, 0, 0), // RAW_TRACEPOINT, 0
    ("raw_tp+", 17, 0, 0), // RAW_TRACEPOINT, 0
    ("raw_tracepoint.w+", 24, 0, 0), // RAW_TRACEPOINT_WRITABLE, 0
    ("raw_tp.w+", 24, 0, 0), // RAW_TRACEPOINT_WRITABLE, 0
    ("tp_btf+", 26, 23, 4), // TRACING, BPF_TRACE_RAW_TP
    ("fentry+", 26, 24, 4), // TRACING, BPF_TRACE_FENTRY
    ("fmod_ret+", 26, 26, 4), // TRACING, BPF_MODIFY_RETURN
    ("fexit+", 26, 25, 4), // TRACING, BPF_TRACE_FEXIT
    ("fentry.s+", 26, 24, 12), // TRACING, BPF_TRACE_FENTRY
    ("fmod_ret.s+", 26, 26, 12), // TRACING, BPF_MODIFY_RETURN
    ("fexit.s+", 26, 25, 12), // TRACING, BPF_TRACE_FEXIT
    ("fsession+", 26, 58, 4), // TRACING, BPF_TRACE_FSESSION
    ("fsession.s+", 26, 58, 12), // TRACING, BPF_TRACE_FSESSION
    ("freplace+", 28, 0, 4), // EXT, 0
    ("lsm+", 29, 27, 4), // LSM, BPF_LSM_MAC
    ("lsm.s+", 29, 27, 12), // LSM, BPF_LSM_MAC
    ("lsm_cgroup+", 29, 43, 4), // LSM, BPF_LSM_CGROUP
    ("iter+", 26, 28, 4), // TRACING, BPF_TRACE_ITER
    ("iter.s+", 26, 28, 12), // TRACING, BPF_TRACE_ITER
    ("syscall", 31, 0, 8), // SYSCALL, 0
    ("xdp.frags/devmap", 6, 33, 16), // XDP, BPF_XDP_DEVMAP
    ("xdp/devmap", 6, 33, 2), // XDP, BPF_XDP_DEVMAP
    ("xdp.frags/cpumap", 6, 35, 16), // XDP, BPF_XDP_CPUMAP
    ("xdp/cpumap", 6, 35, 2), // XDP, BPF_XDP_CPUMAP
    ("xdp.frags", 6, 37, 16), // XDP, BPF_XDP
    ("xdp", 6, 37, 3), // XDP, BPF_XDP
    ("perf_event", 7, 0, 0), // PERF_EVENT, 0
    ("lwt_in", 10, 0, 0), // LWT_IN, 0
    ("lwt_out", 11, 0, 0), // LWT_OUT, 0
    ("lwt_xmit", 12, 0, 0), // LWT_XMIT, 0
    ("lwt_seg6local", 19, 0, 0), // LWT_SEG6LOCAL, 0
    ("sockops", 13, 3, 3), // SOCK_OPS, BPF_CGROUP_SOCK_OPS
    ("sk_skb/stream_parser", 14, 4, 3), // SK_SKB, BPF_SK_SKB_STREAM_PARSER
    ("sk_skb/stream_verdict", 14, 5, 3), // SK_SKB, BPF_SK_SKB_STREAM_VERDICT
    ("sk_skb/verdict", 14, 38, 3), // SK_SKB, BPF_SK_SKB_VERDICT
    ("sk_skb", 14, 0, 0), // SK_SKB, 0
    ("sk_msg", 16, 7, 3), // SK_MSG, BPF_SK_MSG_VERDICT
    ("lirc_mode2", 20, 16, 3), // LIRC_MODE2, BPF_LIRC_MODE2
    ("flow_dissector", 22, 17, 3), // FLOW_DISSECTOR, BPF_FLOW_DISSECTOR
    ("cgroup_skb/ingress", 8, 0, 3), // CGROUP_SKB, BPF_CGROUP_INET_INGRESS
    ("cgroup_skb/egress", 8, 1, 3), // CGROUP_SKB, BPF_CGROUP_INET_EGRESS
    ("cgroup/skb", 8, 0, 0), // CGROUP_SKB, 0
    ("cgroup/sock_create", 9, 2, 2), // CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE
    ("cgroup/sock_release", 9, 34, 2), // CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE
    ("cgroup/sock", 9, 2, 3), // CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE
    ("cgroup/post_bind4", 9, 12, 2), // CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND
    ("cgroup/post_bind6", 9, 13, 2), // CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND
    ("cgroup/bind4", 18, 8, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND
    ("cgroup/bind6", 18, 9, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND
    ("cgroup/connect4", 18, 10, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT
    ("cgroup/connect6", 18, 11, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT
    ("cgroup/connect_unix", 18, 49, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UNIX_CONNECT
    ("cgroup/sendmsg4", 18, 14, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG
    ("cgroup/sendmsg6", 18, 15, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG
    ("cgroup/sendmsg_unix", 18, 50, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UNIX_SENDMSG
    ("cgroup/recvmsg4", 18, 19, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG
    ("cgroup/recvmsg6", 18, 20, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG
    ("cgroup/recvmsg_unix", 18, 51, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UNIX_RECVMSG
    ("cgroup/getpeername4", 18, 29, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME
    ("cgroup/getpeername6", 18, 30, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME
    ("cgroup/getpeername_unix", 18, 52, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UNIX_GETPEERNAME
    ("cgroup/getsockname4", 18, 31, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME
    ("cgroup/getsockname6", 18, 32, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME
    ("cgroup/getsockname_unix", 18, 53, 2), // CGROUP_SOCK_ADDR, BPF_CGROUP_UNIX_GETSOCKNAME
    ("cgroup/sysctl", 23, 18, 2), // CGROUP_SYSCTL, BPF_CGROUP_SYSCTL
    ("cgroup/getsockopt", 25, 21, 2), // CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT
    ("cgroup/setsockopt", 25, 22, 2), // CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT
    ("cgroup/dev", 15, 6, 3), // CGROUP_DEVICE, BPF_CGROUP_DEVICE
    ("struct_ops+", 27, 0, 0), // STRUCT_OPS, 0
    ("struct_ops.s+", 27, 0, 8), // STRUCT_OPS, 0
    ("sk_lookup", 30, 36, 2), // SK_LOOKUP, BPF_SK_LOOKUP
    ("netfilter", 32, 45, 0), // NETFILTER, BPF_NETFILTER
];
