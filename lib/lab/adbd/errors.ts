/** Bytes from the adb host that do not follow the protocol: the connection cannot go on. */
export class AdbProtocolError extends Error {
  constructor(
    /** Which framing failed: the transport, shell v2 packets or the sync protocol. */
    readonly layer: 'transport' | 'shell' | 'sync',
    /** Byte offset of the bad field from the start of that byte stream. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`adb ${layer} stream, byte offset ${offset}: ${reason}`);
    this.name = 'AdbProtocolError';
  }
}

/** A device path the handset does not expose (outside its storage, or a `..` escape). */
export class HandsetPathError extends Error {
  constructor(
    readonly devicePath: string,
    readonly reason: string,
  ) {
    super(`device path ${JSON.stringify(devicePath)}: ${reason}`);
    this.name = 'HandsetPathError';
  }
}

/** An adb public key (adbkey.pub, adb_keys, `lab up --adb-key`, AUTH RSAPUBLICKEY) that is not one. */
export class AdbKeyError extends Error {
  constructor(
    /** Where the key came from: a file and line, or what sent it. */
    readonly where: string,
    readonly reason: string,
  ) {
    super(`adb key in ${where}: ${reason}`);
    this.name = 'AdbKeyError';
  }
}
