/** A capture whose structure cannot be read: the run cannot go on with it. */
export class CaptureFormatError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
    readonly source?: string,
  ) {
    super(`${source ? `${source}: ` : ''}byte offset ${offset}: ${reason}`);
    this.name = 'CaptureFormatError';
  }
}
