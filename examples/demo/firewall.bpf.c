// A firewall policy: the strong definition that replaces the rootlet's weak placeholder.
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "demo.h"

const volatile __u32 max_len = 512;   /* tunable before load */

int xdp_firewall_placeholder(struct xdp_md *ctx, struct flow_keys *keys)
{
	if (!keys)		/* global functions are verified for any argument, NULL included */
		return XDP_ABORTED;
	if (keys->ip_proto == IPPROTO_UDP)
		return XDP_DROP;
	if (keys->len > max_len)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
