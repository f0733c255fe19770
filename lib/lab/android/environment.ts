/**
 * What every process of a virtual handset starts with, inside its container (../container.ts):
 * Android's directories, its own commands first on PATH, as on a phone.
 */

/** The environment every process of the handset starts with: Android's dirs, its commands first on PATH. */
export function handsetEnvironment(dir: string): Record<string, string> {
  return {
    PATH: '/system/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    V6LAB_HANDSET_DIR: dir,
    V6LAB_HANDSET_ROOT: '/',
    HOME: '/data/local/tmp',
    TMPDIR: '/data/local/tmp',
    ANDROID_DATA: '/data',
    EXTERNAL_STORAGE: '/sdcard',
    LANG: 'C',
  };
}
