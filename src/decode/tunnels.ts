/**
 * The tunnels the decoder follows to the TCP inside: one row each, from which the kind
 * union, the database's column text and the docs' lists are derived (a test checks the
 * decoder names every row and the docs mention every one).
 */
export const TUNNELS = [
  { kind: 'ipip', name: 'IP in IP', carried: 'IPv4 in IPv4 (IP protocol 4)', id: null },
  { kind: '4in6', name: 'IPv4 in IPv6', carried: 'IPv4 in IPv6 (next header 4)', id: null },
  { kind: '6in4', name: 'IPv6 in IPv4', carried: 'IPv6 in IPv4 (IP protocol 41)', id: null },
  { kind: '6in6', name: 'IPv6 in IPv6', carried: 'IPv6 in IPv6 (next header 41)', id: null },
  { kind: 'gre', name: 'GRE', carried: 'GRE (IP protocol 47): IP, bridged Ethernet, Aruba 802.11', id: 'GRE key' },
  { kind: 'pptp', name: 'PPTP', carried: "PPTP's enhanced GRE carrying PPP", id: 'PPTP call id' },
  { kind: 'erspan', name: 'ERSPAN', carried: 'ERSPAN I, II and III (in GRE)', id: 'ERSPAN session' },
  { kind: 'vxlan', name: 'VXLAN', carried: 'VXLAN (UDP 4789)', id: 'VNI' },
  { kind: 'geneve', name: 'Geneve', carried: 'Geneve (UDP 6081)', id: 'VNI' },
  { kind: 'gtp-u', name: 'GTP-U', carried: 'GTPv1-U (UDP 2152)', id: 'TEID (of the first packet)' },
  { kind: 'teredo', name: 'Teredo', carried: 'Teredo (UDP 3544)', id: null },
] as const;

/** One tunnel's kind, as stored in `flows.tunnel` (nested ones joined outermost first: `gre>vxlan`). */
export type TunnelKind = (typeof TUNNELS)[number]['kind'];

/** The kinds, as a list for text: `gre`, `vxlan`, …. */
export const TUNNEL_KINDS: readonly TunnelKind[] = TUNNELS.map((t) => t.kind);
