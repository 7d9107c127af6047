/* Types shared by the demo objects. */
#ifndef BPFLINK_DEMO_H
#define BPFLINK_DEMO_H
struct flow_keys {
	__u32 ip_proto;
	__u32 len;
};
#endif
