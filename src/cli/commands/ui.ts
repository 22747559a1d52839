import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { refuse, runCommand, type GlobalArgs, readingSession } from '../session';
import { checkExposure, startUiServer } from '../ui/server';
import { OrbitErrors } from '../../api/internal/errors';

interface UiArgs extends GlobalArgs {
  readonly port: string;
  readonly host: string;
  readonly token?: string;
  readonly readOnly: boolean;
  readonly user?: string;
}

export const uiCommand: CommandModule<GlobalArgs, UiArgs> = {
  command: 'ui',
  describe:
    "Serve the dashboard: runs (live), each run's timeline, workers, pipelines, recovery; resume, cancel, fork, send an event",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('port', { type: 'string', default: '4300', describe: 'Port to listen on (0: any free port)' })
      .option('host', {
        type: 'string',
        default: '127.0.0.1',
        describe: 'Address to bind; anything but loopback needs --token',
      })
      .option('token', {
        type: 'string',
        describe: 'Secret every request must carry (open the page once with ?token=…); default $ORBIT_UI_TOKEN',
      })
      .option('read-only', {
        type: 'boolean',
        default: false,
        describe: 'Hide and refuse every action (resume, cancel, fork, send)',
      })
      .option('user', {
        type: 'string',
        describe: 'Name journaled with each action, as ui:<user> (default $ORBIT_UI_USER, else just "ui")',
      })
      .example('$0 ui', 'Dashboard on http://127.0.0.1:4300/')
      .example('$0 ui --read-only --user alice', 'Look, do not touch; the journal names alice if actions are enabled')
      .example('ORBIT_UI_TOKEN=$(openssl rand -hex 24) $0 ui --host 0.0.0.0', 'Reachable from other machines, with a token')
      .epilogue('See docs/UI.md.') as unknown as Argv<UiArgs>,
  handler: (args) => {
    const port = Number(args.port);
    if (!/^\d+$/.test(args.port) || port > 65535)
      return refuse(
        args,
        OrbitErrors.invalidInput('--port', `${JSON.stringify(args.port)} is not a port (use 0 to 65535; 0: any free port)`),
      );
    const token = args.token ?? process.env.ORBIT_UI_TOKEN;
    const exposure = checkExposure(args.host, token);
    if (E.isLeft(exposure)) return refuse(args, OrbitErrors.invalidInput('--host', exposure.left));
    // Pipelines are loaded: a resume asked from the dashboard executes here, as `orbit resume` does.
    return runCommand(args, { pipelines: true }, async (session) => {
      const { client, out } = session;
      // The pages read through the public functions, which use the read replica when there is one.
      await readingSession(session);
      const server = await startUiServer({
        client,
        host: args.host,
        port,
        token,
        readOnly: args.readOnly,
        user: args.user ?? process.env.ORBIT_UI_USER,
      });
      if (E.isLeft(server)) return server;
      if (out.json) out.document({ url: server.right.url, readOnly: args.readOnly });
      else out.line(`Orbit dashboard on ${server.right.url}${args.readOnly ? ' (read-only)' : ''} — Ctrl+C to stop`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.right.close();
      return E.right(ExitCode.ok);
    });
  },
};
