/**
 * Usage errors that say what is wrong: an unknown command is named as such, with the nearest
 * known command when one is close (yargs' own suggestion replaced the real message).
 */

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
export const editDistance = (a: string, b: string): number => {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.MAX_SAFE_INTEGER;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
};

/** The known name nearest to `word`, if it is near enough to be a typo (or a prefix of it). */
export const nearest = (word: string, known: Iterable<string>): string | undefined => {
  let best: { name: string; dist: number } | undefined;
  for (const name of known) {
    const dist = name.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word.toLowerCase(), name);
    if (best === undefined || dist < best.dist) best = { name, dist };
  }
  return best !== undefined && best.dist <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
};

/**
 * The positional words of `argv` (the command word first), skipping options and the values of
 * options that take one (`valueOptions`, without dashes); everything after `--` is positional.
 */
export const positionalWords = (argv: readonly string[], valueOptions: ReadonlySet<string>): string[] => {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] ?? '';
    if (tok === '--') return [...words, ...argv.slice(i + 1)];
    if (tok.startsWith('-')) {
      if (!tok.includes('=') && valueOptions.has(tok.replace(/^-+/, ''))) i++;
      continue;
    }
    words.push(tok);
  }
  return words;
};

/** The command word of `argv`: its first positional word. */
export const commandWord = (argv: readonly string[], valueOptions: ReadonlySet<string>): string | undefined =>
  positionalWords(argv, valueOptions)[0];

/** The message for a usage error: an unknown command, or yargs' message as one sentence. */
export const usageMessage = (
  msg: string,
  argv: readonly string[],
  commands: ReadonlySet<string>,
  valueOptions: ReadonlySet<string>,
): string => {
  const word = commandWord(argv, valueOptions);
  if (word !== undefined && !commands.has(word)) {
    const near = nearest(word, commands);
    return `unknown command "${word}"${near ? `. Did you mean "${near}"?` : '.'}`;
  }
  const text = unknownArguments(msg.replace(/\s*\n\s*/g, ' ').trim(), argv);
  return /[.?!]$/.test(text) ? text : `${text}.`;
};

const camel = (name: string): string => name.replace(/-+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * yargs names an unknown `--bogus-flag` twice (`bogus-flag, bogusFlag`: its camelCase alias) and
 * splits `-5m` into letters (`5, m`): name each as it was typed, once.
 */
const unknownArguments = (text: string, argv: readonly string[]): string => {
  const m = /^Unknown arguments?: (.*)$/.exec(text);
  if (m === null) return text;
  const names = (m[1] ?? '').split(', ');
  const dashed = new Set(names.filter((n) => n.includes('-')).map(camel));
  let left = names.filter((n) => n.includes('-') || !dashed.has(n));
  // Letters of one short-option cluster (`-5m`): the token as typed.
  const cluster = argv.find((a) => /^-[^-]/.test(a) && a.slice(1).split('').join(', ') === left.join(', '));
  if (cluster !== undefined) left = [cluster];
  return `Unknown argument${left.length === 1 ? '' : 's'}: ${left.join(', ')}`;
};
