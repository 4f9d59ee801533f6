/** LINKTYPE_* values (tcpdump.org/linktypes.html) that the decoder reads. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  /** Raw IP on some platforms' DLT numbering, as written in pcap files. */
  RAW_12: 12,
  RAW_14: 14,
  PPP_HDLC: 50,
  RAW: 101,
  C_HDLC: 104,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

const NAMES: ReadonlyMap<number, string> = new Map([
  [LinkType.NULL, 'BSD loopback'],
  [LinkType.ETHERNET, 'Ethernet'],
  [LinkType.PPP, 'PPP'],
  [LinkType.RAW_12, 'raw IP'],
  [LinkType.RAW_14, 'raw IP'],
  [LinkType.PPP_HDLC, 'PPP in HDLC framing'],
  [LinkType.RAW, 'raw IP'],
  [LinkType.C_HDLC, 'Cisco HDLC'],
  [LinkType.LOOP, 'OpenBSD loopback'],
  [LinkType.LINUX_SLL, 'Linux cooked v1'],
  [LinkType.IPV4, 'raw IPv4'],
  [LinkType.IPV6, 'raw IPv6'],
  [LinkType.NFLOG, 'Linux NFLOG'],
  [LinkType.LINUX_SLL2, 'Linux cooked v2'],
  [105, 'IEEE 802.11'],
  [127, 'IEEE 802.11 radiotap'],
  [147, 'user-defined (147)'],
  [220, 'USB Linux mmapped'],
  [249, 'USB Linux'],
]);

export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `link type ${linkType}`;
}
