/**
 * The presence half of a scripted DeviceBackend: a device that is always there, or one a test
 * takes away (`lose`) and brings back (`restore`), as the adb server's tracker would report it.
 */
import { DeviceUnavailableError } from '../../lib/device/errors.js';
import type { Presence, PresenceLoss } from '../../lib/device/adb.js';

export class ScriptedPresence {
  available = true;
  private watches: { lost: PresenceLoss }[] = [];

  constructor(readonly serial: string) {}

  async ensureAvailable(): Promise<void> {
    if (!this.available) throw new DeviceUnavailableError(this.serial, 'absent');
  }

  async watchPresence(): Promise<Presence> {
    const state = { lost: null as PresenceLoss };
    this.watches.push(state);
    return {
      alive: true,
      get lost() {
        return state.lost;
      },
      reset: () => {
        state.lost = null;
      },
      close: () => undefined,
    };
  }

  /** The device drops off adb: every watch sees it, and ensureAvailable fails until restore(). */
  lose(): void {
    this.available = false;
    for (const w of this.watches) w.lost ??= { what: 'device', detail: `${this.serial} dropped off adb` };
  }

  restore(): void {
    this.available = true;
  }
}

/** For scripted devices whose presence never changes. */
export const alwaysPresent = (serial: string) => {
  const presence = new ScriptedPresence(serial);
  return { ensureAvailable: () => presence.ensureAvailable(), watchPresence: () => presence.watchPresence() };
};
