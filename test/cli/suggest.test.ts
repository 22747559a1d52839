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
});
