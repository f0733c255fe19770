import { DeviceOutputError } from './errors.js';
import { completeLines, dumpsysCutNotice, indentation, withinLineCap } from './lines.js';

export interface PackageInfo {
  /**
   * The app's Linux uid for user 0, the owner of its sockets in /proc/net: printed `userId=10105`
   * up to Android 13 and `appId=10311` from Android 14 (the same number, the app id; user N's
   * processes run as N * 100000 + it). The name stays `userId` for the callers that read it.
   */
  readonly userId: number | null;
  readonly versionName: string | null;
  readonly codePath: string | null;
}

// Unable to find package: com.does.not.exist.foo123
// (Pixel 8a, Android 16; AOSP's dump returns with it once the package manager has a
// getPackageStateInternal, Android 13 or so. Older versions print their section headers and no
// Package block.)
const NOT_FOUND = 'Unable to find package: ';

/**
 * Whether `dumpsys package PKG` said in words that PKG is not installed (recent versions).
 * Older versions say it only by printing no `Package [PKG]` block, which parseDumpsysPackage
 * answers with null.
 */
export function dumpsysPackageNotFound(text: string, pkg: string): boolean {
  return completeLines(text).some((l) => withinLineCap(l.text) && l.text.trim() === `${NOT_FOUND}${pkg}`);
}

/**
 * Parses `dumpsys package PKG`: the first `Package [PKG] (...)` block, its own lines only (not
 * those of nested blocks such as `User 0:`).
 * @returns null when PKG is not installed (`Unable to find package: PKG`, or no block for it: not
 *   installed on older versions, or not this command's output), never a package without its uid
 *   for that reason
 * @throws DeviceOutputError when dumpsys says the dump was cut
 */
export function parseDumpsysPackage(text: string, pkg: string): PackageInfo | null {
  const lines = completeLines(text);
  const cut = dumpsysCutNotice(lines);
  if (cut)
    throw new DeviceOutputError(
      'dumpsys package',
      `the dump stopped early (${JSON.stringify(cut.text.trim())}), so its last line may be a cut one; run it again`,
      cut.number,
    );
  //   Package [io.heckel.ntfy] (bd53fa4):
  const headerAt = lines.findIndex((l) => l.text.trimStart().startsWith(`Package [${pkg}] (`));
  if (headerAt < 0) return null;
  const headerIndent = indentation(lines[headerAt]!.text);
  let childIndent: number | null = null;
  const values = new Map<string, string>();
  for (const { text: line } of lines.slice(headerAt + 1)) {
    if (line.trim() === '') continue;
    const indent = indentation(line);
    if (indent <= headerIndent) break;
    childIndent ??= indent;
    if (indent !== childIndent || !withinLineCap(line)) continue;
    // Android 14 and later (Pixel 8a, Android 16):  appId=10311
    // up to Android 13 (Samsung, Android 10/11):    userId=10143
    //     versionName=1.24.0
    //     codePath=/data/app/~~ny1aVKTNxKUDyWLDzM5bPw==/io.heckel.ntfy-K2BhGdAlPTfLZs8XlI-moA==
    const match = /^(userId|appId|versionName|codePath)=(.*)$/.exec(line.trim());
    if (!match) continue;
    // both names hold the same app id; the first printed wins, as for every key
    const key = match[1] === 'appId' ? 'userId' : match[1]!;
    if (!values.has(key)) values.set(key, match[2]!);
  }
  // userId=10105 (some versions follow it with " gids=[...]")
  const userId = /^(\d+)(?:\s|$)/.exec(values.get('userId') ?? '');
  const versionName = values.get('versionName');
  const codePath = values.get('codePath');
  return {
    userId: userId ? Number(userId[1]) : null,
    versionName: versionName === undefined || versionName === 'null' ? null : versionName,
    codePath: codePath === undefined || codePath === '' ? null : codePath,
  };
}
