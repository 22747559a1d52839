import { loadMigrations } from '../../src/migrations/migrate';

/*
 * The migration runner records a migration by its number: two files with one number (two
 * branches that each took the next free one and landed a minute apart, as happened with 023)
 * would leave one of them never applied on a database that had the other. So the numbers of
 * sql/NNN_name.sql are unique and run 1, 2, 3, … with no hole.
 */
describe('migration numbers', () => {
  it('are unique and contiguous from 001', async () => {
    const versions = (await loadMigrations()).map((m) => m.version);
    const names = (await loadMigrations()).map((m) => m.name);
    const duplicates = names.filter((_, i) => versions.indexOf(versions[i] as number) !== i);
    expect(duplicates).toEqual([]);
    expect(versions.length).toBeGreaterThan(20);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  });
});
