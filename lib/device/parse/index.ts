/** Pure parsers of Android's command output: text in, typed data out, no I/O. */
export { DeviceOutputError } from './errors.js';
export { parseGetprop } from './getprop.js';
export {
  parseIpAddr,
  parseIpRoute,
  networkDefaultRoutes,
  IP_ADDR_FLAGS,
  type IpAddrFlag,
  type InterfaceAddress,
  type InterfaceAddresses,
  type Route,
} from './ip.js';
export {
  parseIfInet6,
  parseProcNetSockets,
  IF_INET6_FLAGS,
  TCP_STATES,
  type IfInet6Address,
  type IfInet6Flag,
  type ProcNetSocket,
  type SocketEndpoint,
  type TcpState,
} from './proc-net.js';
export {
  parseDumpsysConnectivity,
  parseLinkProperties,
  parseClatTracker,
  parseNetworkAgentInfo,
  parseNat464XlatBlock,
  mobileInternetNetwork,
  defaultNetwork,
  detailsOfNetwork,
  clatOf,
  DumpsysRefusedError,
  type DumpsysConnectivity,
  type NetworkDetails,
  type ClatdState,
  type ClatForwardingRule,
  type Nat464XlatDump,
  type InternetNetworkChoice,
  type InternetNetworkBasis,
  type ClatIdentity,
  type ClatSource,
  type Sourced,
  type NetworkAgent,
  type LinkProperties,
  type LinkAddress,
  type LinkRoute,
  type ClatTracker,
} from './connectivity.js';
export {
  parseContentRows,
  parsePreferredApn,
  contentRefusal,
  isContentDenied,
  PREFERRED_APN_URI,
  type ContentRow,
  type ContentDenied,
  type PreferredApn,
} from './content.js';
export { parseDumpsysPackage, dumpsysPackageNotFound, type PackageInfo } from './package.js';
export { parseSettingsGet } from './settings.js';
