import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** The lines of a file (`-`: stdin), streamed. */
export const readLines = (file: string): AsyncIterable<string> =>
  createInterface({ input: file === '-' ? process.stdin : createReadStream(file, 'utf8'), crlfDelay: Infinity });
