#!/usr/bin/env node
// The README's first command: a real pipeline, killed with SIGKILL in the middle of a step, found
// by `orbit check-interrupted`, finished by `orbit resume`, its journal printed by `orbit history`.
// Uses DATABASE_URL when set, else Orbit's embedded PostgreSQL under ./.orbit (started on demand).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli', 'main.js');
const schema = process.env.ORBIT_SCHEMA || 'orbit_demo';
const common = ['--schema', schema, '--pipelines', path.join(root, 'examples', 'data-pipeline.js')];
const threshold = '2s';
const env = { ...process.env };
// The demo's schema may not exist yet: each command creates or upgrades it first (needs DDL rights;
// in production the schema's owner runs `orbit migrate` once instead).
env.ORBIT_MIGRATE ??= '1';
if (process.stdout.isTTY) env.FORCE_COLOR = '1';

const bold = (s) => (process.stdout.isTTY && !('NO_COLOR' in process.env) ? `\x1b[1m${s}\x1b[0m` : s);
const banner = (text) => process.stdout.write(`\n${bold(`== ${text}`)}\n\n`);
// Commands are printed as they can be pasted into a shell at the repository's root.
const quote = (w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
const shown = (args) =>
  ['node', 'dist/cli/main.js', '--schema', schema, '--pipelines', 'examples/data-pipeline.js', ...args].map(quote).join(' ');
const orbit = (args) => {
  process.stdout.write(`$ ${shown(args)}\n`);
  const r = spawnSync(process.execPath, [cli, ...common, ...args], { cwd: root, env, stdio: 'inherit' });
  return r.status ?? 1;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const batchId = `demo-${Date.now().toString(36)}`;
  banner('1. Run data-pipeline, and kill -9 the process while transform-data is running');
  const args = ['run', 'data-pipeline', '--metadata', JSON.stringify({ batchId, size: 4 })];
  process.stdout.write(`$ ${shown(args)}\n`);
  const child = spawn(process.execPath, [cli, ...common, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let runId;
  const killed = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal)));
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    out += chunk.toString();
    runId ??= /\(run (run_[a-z0-9]+)\)/.exec(out)?.[1];
    if (/extract-data/.test(out) && !child.killed) {
      // transform-data has just started (it takes about a second): pull the plug.
      setTimeout(() => {
        process.stdout.write(`\n  ** kill -9 ${child.pid} (in the middle of transform-data) **\n`);
        child.kill('SIGKILL');
      }, 400);
    }
  });
  const signal = await killed;
  if (signal !== 'SIGKILL' || !runId) {
    process.stderr.write(`demo: the run was not interrupted as planned (signal ${signal}, run ${runId})\n`);
    process.exit(1);
  }

  banner(
    `2. Wait out the interrupted-run threshold (${threshold} for this demo; 10m by default), then look for interrupted runs`,
  );
  await sleep(2500);
  if (orbit(['check-interrupted', '--threshold', threshold]) !== 0) process.exit(1);

  banner('3. Resume it: extract-data is not run again; transform-data (in flight when killed) runs again');
  if (orbit(['resume', runId, '--threshold', threshold]) !== 0) process.exit(1);

  banner('4. The journal of the run (run_events): every transition, hash-chained, append-only');
  if (orbit(['history', runId]) !== 0) process.exit(1);

  banner('5. Verify: the hash chain holds and the projections equal the fold of the journal');
  if (orbit(['verify', runId]) !== 0) process.exit(1);
  process.stdout.write(`\nDone. Output of load-data: .orbit/demo-output/${batchId}.json\n`);
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err.stack || err}\n`);
  process.exit(1);
});
