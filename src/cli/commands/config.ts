import type { CommandModule } from 'yargs';
import { loadSettings, type Setting } from '../config';
import { ExitCode } from '../exitCodes';
import { createOutput } from '../output';
import type { GlobalArgs } from '../session';

/** A URL's password is never printed. */
const redact = (url: string | undefined): string | undefined => {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
};

/** `orbit config`: every setting, its value and where it came from (flag > env > file > default). */
export const configCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'config',
  describe: 'Show the settings in effect and where each comes from (flag > environment > orbit.config.js > default)',
  handler: async (args) => {
    const out = createOutput({ json: args.json, color: args.color });
    const loaded = await loadSettings(args, process.env, process.cwd());
    if (loaded._tag === 'Left') {
      out.error(loaded.left);
      process.exitCode = ExitCode.error;
      return;
    }
    const s = loaded.right;
    const rows: Array<[string, Setting]> = [
      ['databaseUrl', { ...s.databaseUrl, value: redact(s.databaseUrl.value) }],
      ['readUrl', { ...s.readUrl, value: redact(s.readUrl.value) }],
      ['schema', s.schema],
      ['threshold', s.threshold],
      ['lease', s.lease],
      ['maxResultBytes', s.maxResultBytes],
      ['dataDir', s.dataDir],
      ['pipelines', s.pipelines],
    ];
    if (out.json) {
      out.document({ configFile: s.file?.path ?? null, ...Object.fromEntries(rows) });
      return;
    }
    out.line(`config file: ${s.file?.path ?? 'none (orbit.config.js, .mjs or .cjs in this directory or at the project root)'}`);
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [key, setting] of rows) {
      const where =
        setting.source === 'default'
          ? `default${setting.from !== 'default' ? `: ${setting.from}` : ''}`
          : `${setting.source}: ${setting.from}`;
      out.line(`${key.padEnd(width)}  ${setting.value ?? '(none)'}  ${out.dim(`(${where})`)}`);
    }
  },
};
