import { DeviceOutputError } from './errors.js';
import { completeLines, dumpsysCutNotice, indentation, withinLineCap } from './lines.js';

export interface PackageInfo {
  /** The app's Linux uid (`userId=10105`), the owner of its sockets in /proc/net. */
  readonly userId: number | null;
  readonly versionName: string | null;
  readonly codePath: string | null;
}

/**
 * Parses `dumpsys package PKG`: the first `Package [PKG] (...)` block, its own lines only (not
 * those of nested blocks such as `User 0:`).
 * @returns null when there is no block for `pkg` (not installed, or not this command's output)
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
  //   Package [com.example.news] (3bc27ba9):
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
    //     userId=10105
    //     versionName=1.0
    //     codePath=/data/app/com.example.news-1
    const match = /^(userId|versionName|codePath)=(.*)$/.exec(line.trim());
    if (match && !values.has(match[1]!)) values.set(match[1]!, match[2]!);
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
