// The media relay's kernel path: a tc (tcx) ingress program that relays RTP and RTCP of streams whose
// both ends are latched and that need no SRTP work, without waking the relay thread.
//
// A packet is relayed here only when it arrives for a relay socket (its destination address and port
// are a key of `sw_relay_flows`) from exactly the address that side is latched to. It is rewritten as
// the relay's own socket on the other side would have sent it (source = that socket, destination = the
// other side) and either delivered locally (the other side is on this host) or sent out of the
// interface user space found for the destination. Anything else goes on up the stack untouched, to
// the relay thread: first packets (latching), packets from another address (NAT rebinding,
// strangers), RTCP on a multiplexed RTP port, IP options, fragments, IPv6 extension headers.
//
// Built with clang -target bpf; user space (kernel_path.cpp) owns the map and keeps it in step with
// the relay's sessions.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// Keep in step with kernel_path.hpp (FlowKey, FlowValue).
struct flow_key {
    __u8 addr[16];  // the relay socket's address (IPv4 in the first 4 bytes)
    __u16 port;     // its port, network order
    __u8 family;    // 4 or 6
    __u8 pad;
};

struct flow_value {
    __u8 peer_addr[16];  // packets are accepted only from here (the latched address)
    __u8 out_addr[16];   // the new source: the relay socket on the other side
    __u8 dst_addr[16];   // the new destination: the other side
    __u16 peer_port, out_port, dst_port;  // network order
    __u8 rtp_only;       // RTCP packet types (192-223) go to user space (RTCP on a muxed RTP port)
    __u8 tos;            // the DS field the packet leaves with (ECN bits kept); 0xff: the sender's
    __u8 ttl;            // the TTL / hop limit it leaves with, as the relay's sockets send (0: kept)
    __u8 pad[3];
    __u32 out_ifindex;   // 0: the other side is on this host (delivered here); else sent out there
    __u64 packets;
    __u64 bytes;
    __u64 last_ns;  // bpf_ktime_get_ns (CLOCK_MONOTONIC) of the last packet
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct flow_key);
    __type(value, struct flow_value);
} sw_relay_flows SEC(".maps");

// Not ours: the next program on the interface (another sipwarden, a firewall) gets the packet, then
// the stack. tcx ends the chain on TC_ACT_OK, so that is kept for packets this program rewrote.
#define NEXT TC_ACT_UNSPEC

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8

static __always_inline int is_rtcp(const __u8* rtp, const void* end) {
    if ((const void*)(rtp + 2) > end) return 0;
    return rtp[1] >= 192 && rtp[1] <= 223;
}

// The rewritten packet: delivered on this host, or sent out of the interface user space found for the
// destination, with the neighbour (MAC) the kernel resolves (bpf_redirect_neigh: no IP forwarding
// needed, the relay is an end point).
static __always_inline int send(const struct flow_value* v) {
    if (v->out_ifindex == 0) return TC_ACT_OK;  // rewritten: delivered here
    return bpf_redirect_neigh(v->out_ifindex, 0, 0, 0);
}

static __always_inline void count(struct flow_value* v, __u32 len) {
    __sync_fetch_and_add(&v->packets, 1);
    __sync_fetch_and_add(&v->bytes, len);
    v->last_ns = bpf_ktime_get_ns();
}

static __always_inline int relay4(struct __sk_buff* skb) {
    void* data = (void*)(long)skb->data;
    void* end = (void*)(long)skb->data_end;
    struct iphdr* ip = data + ETH_LEN;
    if ((void*)(ip + 1) > end) return NEXT;
    if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return NEXT;
    if (ip->frag_off & bpf_htons(0x3fff)) return NEXT;  // a fragment (MF or an offset)
    struct udphdr* udp = data + ETH_LEN + IP4_LEN;
    if ((void*)(udp + 1) > end) return NEXT;

    struct flow_key key = {};
    __builtin_memcpy(key.addr, &ip->daddr, 4);
    key.port = udp->dest;
    key.family = 4;
    struct flow_value* v = bpf_map_lookup_elem(&sw_relay_flows, &key);
    if (!v) return NEXT;
    __u32 peer;
    __builtin_memcpy(&peer, v->peer_addr, 4);
    if (ip->saddr != peer || udp->source != v->peer_port) return NEXT;
    if (v->rtp_only && is_rtcp((const __u8*)(udp + 1), end)) return NEXT;

    __u32 new_src, new_dst;
    __builtin_memcpy(&new_src, v->out_addr, 4);
    __builtin_memcpy(&new_dst, v->dst_addr, 4);

    const __u32 old_src = ip->saddr, old_dst = ip->daddr;
    const __u16 old_sport = udp->source, old_dport = udp->dest;
    const __u16 new_sport = v->out_port, new_dport = v->dst_port;
    const int has_csum = udp->check != 0;  // IPv4 UDP may go without a checksum
    // The DS field and the TTL as the relay's own socket would send them (the header's 16-bit words 0
    // and 4: version/IHL/TOS, TTL/protocol).
    const __u8 old_tos = ip->tos, old_ttl = ip->ttl;
    const __u8 new_tos = v->tos == 0xff ? old_tos : (__u8)(v->tos | (old_tos & 3));
    const __u8 new_ttl = v->ttl ? v->ttl : old_ttl;
    const __u16 old_w0 = bpf_htons((__u16)((0x45 << 8) | old_tos)), new_w0 = bpf_htons((__u16)((0x45 << 8) | new_tos));
    const __u16 old_w4 = bpf_htons((__u16)((old_ttl << 8) | IPPROTO_UDP));
    const __u16 new_w4 = bpf_htons((__u16)((new_ttl << 8) | IPPROTO_UDP));
    count(v, skb->len);

    const int ip_off = ETH_LEN;
    const int udp_off = ETH_LEN + IP4_LEN;
    const int csum = udp_off + __builtin_offsetof(struct udphdr, check);
    if (has_csum) {
        bpf_l4_csum_replace(skb, csum, old_src, new_src, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4);
        bpf_l4_csum_replace(skb, csum, old_dst, new_dst, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4);
        bpf_l4_csum_replace(skb, csum, old_sport, new_sport, BPF_F_MARK_MANGLED_0 | 2);
        bpf_l4_csum_replace(skb, csum, old_dport, new_dport, BPF_F_MARK_MANGLED_0 | 2);
    }
    const int ip_csum = ip_off + __builtin_offsetof(struct iphdr, check);
    bpf_l3_csum_replace(skb, ip_csum, old_src, new_src, 4);
    bpf_l3_csum_replace(skb, ip_csum, old_dst, new_dst, 4);
    if (new_tos != old_tos) {
        bpf_l3_csum_replace(skb, ip_csum, old_w0, new_w0, 2);
        bpf_skb_store_bytes(skb, ip_off + __builtin_offsetof(struct iphdr, tos), &new_tos, 1, 0);
    }
    if (new_ttl != old_ttl) {
        bpf_l3_csum_replace(skb, ip_csum, old_w4, new_w4, 2);
        bpf_skb_store_bytes(skb, ip_off + __builtin_offsetof(struct iphdr, ttl), &new_ttl, 1, 0);
    }
    bpf_skb_store_bytes(skb, ip_off + __builtin_offsetof(struct iphdr, saddr), &new_src, 4, 0);
    bpf_skb_store_bytes(skb, ip_off + __builtin_offsetof(struct iphdr, daddr), &new_dst, 4, 0);
    bpf_skb_store_bytes(skb, udp_off + __builtin_offsetof(struct udphdr, source), &new_sport, 2, 0);
    bpf_skb_store_bytes(skb, udp_off + __builtin_offsetof(struct udphdr, dest), &new_dport, 2, 0);
    return send(v);
}

static __always_inline int relay6(struct __sk_buff* skb) {
    void* data = (void*)(long)skb->data;
    void* end = (void*)(long)skb->data_end;
    struct ipv6hdr* ip = data + ETH_LEN;
    if ((void*)(ip + 1) > end) return NEXT;
    if (ip->nexthdr != IPPROTO_UDP) return NEXT;  // extension headers: user space
    struct udphdr* udp = data + ETH_LEN + IP6_LEN;
    if ((void*)(udp + 1) > end) return NEXT;

    struct flow_key key = {};
    __builtin_memcpy(key.addr, &ip->daddr, 16);
    key.port = udp->dest;
    key.family = 6;
    struct flow_value* v = bpf_map_lookup_elem(&sw_relay_flows, &key);
    if (!v) return NEXT;
    __u32 old_src[4], old_dst[4], new_src[4], new_dst[4], peer[4];
    __builtin_memcpy(old_src, &ip->saddr, 16);
    __builtin_memcpy(peer, v->peer_addr, 16);
    if (((old_src[0] ^ peer[0]) | (old_src[1] ^ peer[1]) | (old_src[2] ^ peer[2]) | (old_src[3] ^ peer[3])) != 0 ||
        udp->source != v->peer_port)
        return NEXT;
    if (v->rtp_only && is_rtcp((const __u8*)(udp + 1), end)) return NEXT;

    __builtin_memcpy(old_dst, &ip->daddr, 16);
    __builtin_memcpy(new_src, v->out_addr, 16);
    __builtin_memcpy(new_dst, v->dst_addr, 16);

    const __u16 old_sport = udp->source, old_dport = udp->dest;
    const __u16 new_sport = v->out_port, new_dport = v->dst_port;
    // The traffic class (bits 4-11 of the header, ECN bits kept) and the hop limit as the relay's own
    // socket would send them; neither is in a checksum.
    __u8 head[2];
    __builtin_memcpy(head, ip, 2);
    const __u8 old_tc = (__u8)(((head[0] & 0x0f) << 4) | (head[1] >> 4));
    const __u8 new_tc = v->tos == 0xff ? old_tc : (__u8)(v->tos | (old_tc & 3));
    head[0] = (__u8)(0x60 | (new_tc >> 4));
    head[1] = (__u8)(((new_tc & 0x0f) << 4) | (head[1] & 0x0f));
    const __u8 new_hops = v->ttl ? v->ttl : ip->hop_limit;
    count(v, skb->len);

    const int ip_off = ETH_LEN;
    const int udp_off = ETH_LEN + IP6_LEN;
    // No checksum covers them, but a device's CHECKSUM_COMPLETE sum does: recomputed with the bytes.
    bpf_skb_store_bytes(skb, ip_off, head, 2, BPF_F_RECOMPUTE_CSUM);
    bpf_skb_store_bytes(skb, ip_off + __builtin_offsetof(struct ipv6hdr, hop_limit), &new_hops, 1,
                        BPF_F_RECOMPUTE_CSUM);
    const int csum = udp_off + __builtin_offsetof(struct udphdr, check);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        bpf_l4_csum_replace(skb, csum, old_src[i], new_src[i], BPF_F_PSEUDO_HDR | 4);
        bpf_l4_csum_replace(skb, csum, old_dst[i], new_dst[i], BPF_F_PSEUDO_HDR | 4);
    }
    bpf_l4_csum_replace(skb, csum, old_sport, new_sport, 2);
    bpf_l4_csum_replace(skb, csum, old_dport, new_dport, 2);
    bpf_skb_store_bytes(skb, ip_off + __builtin_offsetof(struct ipv6hdr, saddr), new_src, 16, 0);
    bpf_skb_store_bytes(skb, ip_off + __builtin_offsetof(struct ipv6hdr, daddr), new_dst, 16, 0);
    bpf_skb_store_bytes(skb, udp_off + __builtin_offsetof(struct udphdr, source), &new_sport, 2, 0);
    bpf_skb_store_bytes(skb, udp_off + __builtin_offsetof(struct udphdr, dest), &new_dport, 2, 0);
    return send(v);
}

SEC("tc")
int sw_relay(struct __sk_buff* skb) {
    void* data = (void*)(long)skb->data;
    void* end = (void*)(long)skb->data_end;
    struct ethhdr* eth = data;
    if ((void*)(eth + 1) > end) return NEXT;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) return relay4(skb);
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) return relay6(skb);
    return NEXT;
}

char LICENSE[] SEC("license") = "GPL";
