import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { checkpointKey, readCheckpoint } from '../checkpointKey';
import { ExitCode } from '../exitCodes';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { takeCheckpoint } from '../../api/internal/checkpoint';

interface CheckpointArgs extends GlobalArgs {
  readonly previous?: string;
  readonly keyFile?: string;
}

export const checkpointCommand: CommandModule<GlobalArgs, CheckpointArgs> = {
  command: 'checkpoint',
  describe:
    "Print a checkpoint of every run's head (Merkle root, chained to the previous checkpoint, optionally signed) as JSON, to store outside the database",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('previous', { type: 'string', describe: 'The previous checkpoint file: this one is chained to it' })
      .option('key-file', {
        type: 'string',
        describe: 'Sign with HMAC-SHA256 using this file as key (default: $ORBIT_CHECKPOINT_KEY, else unsigned)',
      })
      .example('$0 checkpoint --previous cp-41.json > cp-42.json', 'Take the next checkpoint'),
  handler: (args) => {
    const key = checkpointKey(args.keyFile);
    if (E.isLeft(key)) return refuse(args, key.left);
    const previous = args.previous === undefined ? E.right(undefined) : readCheckpoint(args.previous);
    if (E.isLeft(previous)) return refuse(args, previous.left);
    return runCommand(args, { pipelines: false }, async ({ client, out }) => {
      const c = await takeCheckpoint(client, { previous: previous.right, key: key.right });
      if (E.isLeft(c)) return c;
      process.stdout.write(`${JSON.stringify(c.right, null, 2)}\n`);
      out.note(
        `Checkpoint of ${c.right.runs.length} run(s), root ${c.right.root.slice(0, 16)}…${c.right.mac === null ? ' (unsigned)' : ', signed'}: keep it outside the database`,
      );
      return E.right(ExitCode.ok);
    });
  },
};
