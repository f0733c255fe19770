/**
 * The virtual carrier network of `v6lab lab up|status|down` (issue 3, lab.md): network
 * namespaces for an internet, a carrier gateway per handset (APN `ipv6` with DNS64/NAT64,
 * `ipv4v6`, `ipv4`), handsets with `rmnet_data0` (and a CLAT on IPv6-only attaches), and a Wi-Fi
 * access point per handset; each handset's own IPv6 settings applied to its kernel, and a phone's
 * background traffic from system uids. Needs root; changes nothing in the host's own namespace.
 */
export { labDown, type LabDownOptions } from './down.js';
export { LabAlreadyUpError, LabCommandError, LabPlanError, LabStateError, LabStepError } from './errors.js';
export {
  attachFamilies,
  BACKGROUND_HOSTS,
  BACKGROUND_UIDS,
  handsetSettings,
  handsetNamespace,
  internetNamespace,
  gatewayNamespace,
  accessPointNamespace,
  NAT64_PREFIX,
  CLAT_IPV4,
  CLAT_INTERFACE,
  MOBILE_INTERFACE,
  WIFI_INTERFACE,
} from './plan.js';
export type { LabProcess } from './process.js';
export { readState } from './state.js';
export { labStatus } from './status.js';
export { labUp, reattach, setWifi } from './up.js';
export * from './types.js';
