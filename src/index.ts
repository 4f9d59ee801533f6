// The library's public face: re-exports only.
export { CapturedFrame, frameTimeNs } from './capture/captured-frame.js';
export { CaptureFormatError } from './capture/capture-format-error.js';
export { CaptureFormat, type CaptureWarning, type FrameReader } from './capture/frame-reader.js';
export { openCapture } from './capture/open-capture.js';
export { forEachFrame } from './capture/frame-stream.js';
export { PacketDecoder } from './decode/packet-decoder.js';
export { DecodeIssue, DecodeStats, type IssueCount } from './decode/decode-stats.js';
export { TcpFlag, TcpSegment } from './decode/tcp-segment.js';
export { LinkType, linkTypeName } from './decode/link-types.js';
export { formatEndpoint, formatIpv4, formatIpv6 } from './decode/format-address.js';
