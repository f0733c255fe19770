/**
 * Which phone, which build: what tells one firmware from another in a report and between runs.
 * Read from `getprop` (pure: properties in, identity out) and the kernel's release (`uname -r`,
 * which any shell user can run: it is a system call, where /proc/version may be kept from the
 * shell by SELinux on some vendors' builds). A property a device does not set is null, never
 * made up.
 */

/** One SIM slot's operator, as `gsm.sim.operator.numeric` / `.alpha` give it for that slot. */
export interface SimOperator {
  /** 0-based slot: the position in the comma-separated list a dual-SIM phone prints. */
  slot: number;
  /** Mobile country code (3 digits), or null when the slot's numeric is not MCC+MNC. */
  mcc: string | null;
  /** Mobile network code (2 or 3 digits). */
  mnc: string | null;
  /** The operator's name the SIM gives (its SPN), or null. */
  name: string | null;
}

export interface DeviceIdentity {
  manufacturer: string | null;
  model: string | null;
  /** `ro.build.version.release`: 14, 15, 16... */
  android: string | null;
  sdk: number | null;
  /** `ro.build.fingerprint`: brand/product/device:release/id/incremental:type/tags. */
  fingerprint: string | null;
  /** `ro.build.id`, e.g. BP4A.251205.006. */
  buildId: string | null;
  /** `ro.build.display.id`: what Settings shows as the build number. */
  displayId: string | null;
  /** `ro.build.version.incremental`: the vendor's build number (S936BXXUACZF1). */
  incremental: string | null;
  /** `ro.build.version.security_patch`: YYYY-MM-DD. */
  securityPatch: string | null;
  /** `gsm.version.baseband`: the modem firmware. */
  baseband: string | null;
  /** Every slot that holds a SIM (an empty slot is left out), in slot order. */
  sims: SimOperator[];
  /** The kernel's release (`uname -r`), or null when it could not be read. */
  kernel: string | null;
}

const value = (props: Readonly<Record<string, string>>, key: string): string | null => {
  const v = props[key]?.trim();
  return v === undefined || v === '' ? null : v;
};

/**
 * A `gsm.*` property's value per SIM slot. Dual-SIM phones print one comma-separated entry per
 * slot (TelephonyManager's setTelephonyProperty; real POCO F6 and Galaxy S25+:
 * `[gsm.sim.operator.numeric]: [405861,40444]`), an empty slot as an empty entry.
 */
function perSlot(raw: string | undefined): string[] {
  return raw === undefined ? [] : raw.split(',').map((s) => s.trim());
}

// MCC is always 3 digits, so the MNC is the rest: 21407 is 214/07, 405861 is 405/861.
const MCC_MNC = /^(\d{3})(\d{2,3})$/;

/**
 * The device's identity from its `getprop` properties, without the kernel (set it from
 * `uname -r`). Baseband: the first slot's non-empty entry (both samples print the same modem
 * firmware once per slot, and a phone has one modem); SIM operators: every slot that has one.
 */
export function identityFromProperties(props: Readonly<Record<string, string>>): DeviceIdentity {
  const sdk = Number(value(props, 'ro.build.version.sdk'));
  const numerics = perSlot(props['gsm.sim.operator.numeric']);
  const names = perSlot(props['gsm.sim.operator.alpha']);
  const sims: SimOperator[] = [];
  for (let slot = 0; slot < Math.max(numerics.length, names.length); slot++) {
    const numeric = numerics[slot] ?? '';
    const name = names[slot] ?? '';
    if (numeric === '' && name === '') continue;
    const m = MCC_MNC.exec(numeric);
    sims.push({ slot, mcc: m?.[1] ?? null, mnc: m?.[2] ?? null, name: name === '' ? null : name });
  }
  return {
    manufacturer: value(props, 'ro.product.manufacturer'),
    model: value(props, 'ro.product.model'),
    android: value(props, 'ro.build.version.release'),
    sdk: Number.isInteger(sdk) && sdk > 0 ? sdk : null,
    fingerprint: value(props, 'ro.build.fingerprint'),
    buildId: value(props, 'ro.build.id'),
    displayId: value(props, 'ro.build.display.id'),
    incremental: value(props, 'ro.build.version.incremental'),
    securityPatch: value(props, 'ro.build.version.security_patch'),
    baseband: perSlot(props['gsm.version.baseband']).find((b) => b !== '') ?? null,
    sims,
    kernel: null,
  };
}

// 6.6.30-android15-8-gdd9c02ccfe27-ab12345678-4k
/**
 * The kernel release from `uname -r` output: its one line, or null when there is none (an
 * unterminated line is a cut one, as for every parser here).
 */
export function parseKernelRelease(text: string): string | null {
  const newline = text.indexOf('\n');
  if (newline < 0) return null;
  const line = text.slice(0, newline).replace(/\r$/, '').trim();
  return line === '' || /\s/.test(line) ? null : line;
}
