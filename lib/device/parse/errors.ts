/**
 * The one error the pure parsers throw: the output lacks the structure that identifies it (no
 * header, no line of the expected shape), so nothing in it can be trusted. A single malformed
 * line is skipped instead.
 */
export class DeviceOutputError extends Error {
  /**
   * @param source the command whose output this was, e.g. `getprop`, `/proc/net/tcp6`
   * @param reason what is missing, in a few words
   * @param line 1-based line number where the problem was seen, when there is one
   */
  constructor(
    readonly source: string,
    readonly reason: string,
    readonly line?: number,
  ) {
    super(`${source}: ${reason}${line === undefined ? '' : ` (line ${line})`}; is this the output of \`${source}\`, complete and in English?`);
    this.name = 'DeviceOutputError';
  }
}
