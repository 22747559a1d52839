import { spawnSync } from 'node:child_process';
import { CLI_PATH } from '../support/cli';
import { commandWord, editDistance, nearest, usageMessage } from '../../src/cli/suggest';

const COMMANDS = new Set(['run', 'runs', 'resume', 'recover', 'history', 'stats', 'check-interrupted']);
const VALUE_OPTIONS = new Set(['schema', 'database-url', 'pipelines']);

describe('usage messages', () => {
  it('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('histroy', 'history')).toBe(1);
    expect(editDistance('stats', 'stats')).toBe(0);
    expect(editDistance('', 'run')).toBe(3);
  });

  it('suggests the nearest command for a typo or a prefix, nothing for a far word', () => {
    expect(nearest('histroy', COMMANDS)).toBe('history');
    expect(nearest('check', COMMANDS)).toBe('check-interrupted');
    expect(nearest('recovr', COMMANDS)).toBe('recover');
    expect(nearest('frobnicate', COMMANDS)).toBeUndefined();
  });

  it('finds the command word after options and their values', () => {
    expect(commandWord(['--schema', 'x', 'histroy'], VALUE_OPTIONS)).toBe('histroy');
    expect(commandWord(['--schema=x', '--json', 'runs'], VALUE_OPTIONS)).toBe('runs');
    expect(commandWord(['--json'], VALUE_OPTIONS)).toBeUndefined();
  });

  it('keeps yargs’ message, as one sentence, when the command is known', () => {
    expect(usageMessage('Unknown argument: bogus', ['runs', '--bogus'], COMMANDS, VALUE_OPTIONS)).toBe(
      'Unknown argument: bogus.',
    );
    expect(usageMessage('Unknown argument: histroy', ['histroy'], COMMANDS, VALUE_OPTIONS)).toBe(
      'unknown command "histroy". Did you mean "history"?',
    );
  });

  it('names an unknown option once, as typed (yargs adds its camelCase alias, splits a -5m)', () => {
    expect(usageMessage('Unknown arguments: bogus-flag, bogusFlag', ['runs', '--bogus-flag'], COMMANDS, VALUE_OPTIONS)).toBe(
      'Unknown argument: bogus-flag.',
    );
    expect(usageMessage('Unknown arguments: 5, m', ['run', 'p', '--queue', '--at', '-5m'], COMMANDS, VALUE_OPTIONS)).toBe(
      'Unknown argument: -5m.',
    );
    expect(usageMessage('Unknown arguments: x, y', ['runs', '--x', '--y'], COMMANDS, VALUE_OPTIONS)).toBe(
      'Unknown arguments: x, y.',
    );
    // The real CLI: yargs fails before anything connects.
    const r = spawnSync(process.execPath, [CLI_PATH, 'runs', '--bogus-flag'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('Error: Unknown argument: bogus-flag. Run "orbit --help" for usage.\n');
  });
});
