/** A WAL position as PostgreSQL prints it (`16/B374D848`), in bytes; null when it is not one. */
export const walBytes = (lsn: string | null): bigint | null => {
  const m = lsn === null ? null : /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  return m === null ? null : (BigInt(`0x${m[1] as string}`) << 32n) + BigInt(`0x${m[2] as string}`);
};
