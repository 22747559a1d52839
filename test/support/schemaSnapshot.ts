import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { channelFor } from '../../src/db/identifiers';

/** The checked-in schema: what every migration in sql/ builds, as pg_dump prints it. */
export const SNAPSHOT_FILE = path.resolve(__dirname, '..', '..', 'sql', 'schema.snapshot.sql');

/** Where the schema's name and its NOTIFY channel stand in the snapshot (as in the migrations). */
export const SCHEMA_PLACEHOLDER = '__SCHEMA__';
export const CHANNEL_PLACEHOLDER = '__CHANNEL__';

/** `schema`'s name and channel (quoted or not) replaced by the placeholders. */
const placeholders = (text: string, schema: string): string =>
  text
    .split(channelFor(schema))
    .join(CHANNEL_PLACEHOLDER)
    .split(`"${schema}"`)
    .join(SCHEMA_PLACEHOLDER)
    .split(schema)
    .join(SCHEMA_PLACEHOLDER);

const HEADER = `-- The schema every migration in sql/ builds, from pg_dump --schema-only (${SCHEMA_PLACEHOLDER} is the
-- schema's name and ${CHANNEL_PLACEHOLDER} its NOTIFY channel, as in the migrations). Generated: do not edit; after adding a migration, run
-- \`npm run schema:snapshot\`. test/db/schema-snapshot.test.ts fails when the two disagree.
`;

/**
 * pg_dump's output for one schema, made stable: the schema's name becomes the placeholder, and
 * the version banner and the per-dump random `\\restrict` key lines go.
 */
export const normaliseDump = (dump: string, schema: string): string => {
  const lines = dump
    .split('\n')
    .filter((l) => !/^\\(un)?restrict\b/.test(l) && !/^-- Dumped (from|by) /.test(l))
    .map((l) => placeholders(l, schema));
  return `${HEADER}${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
};

/**
 * The journal's monthly partitions (run_events_YYYY_MM, sql/014) depend on the month the schema
 * was migrated in: the snapshot and its comparison leave them out (their shape is the partitioned
 * table's, which is in both).
 */
const MONTHLY_PARTITION = /run_events_\d{4}_\d{2}/;

/** Runs pg_dump (`$PG_DUMP`, else `pg_dump` on the PATH) for one schema, without owners or grants. */
export const dumpSchema = async (url: string, schema: string): Promise<string> => {
  const bin = process.env.PG_DUMP ?? 'pg_dump';
  const { stdout } = await promisify(execFile)(
    bin,
    [
      '--schema-only',
      '--no-owner',
      '--no-privileges',
      `--schema=${schema}`,
      `--exclude-table=${schema}.run_events_[0-9][0-9][0-9][0-9]_[0-9][0-9]`,
      `--dbname=${url}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return normaliseDump(stdout, schema);
};

/** The snapshot's text with the schema's name put back, ready to run (pg_dump's `\\` lines left out). */
export const renderSnapshot = (snapshot: string, schema: string): string =>
  snapshot
    .split('\n')
    .filter((l) => !l.startsWith('\\'))
    .join('\n')
    .split(CHANNEL_PLACEHOLDER)
    .join(channelFor(schema))
    .split(SCHEMA_PLACEHOLDER)
    .join(`"${schema}"`);

/**
 * What a schema holds, one sorted line per object (relations, columns, constraints, indexes,
 * functions, triggers, types), with the schema's name replaced: equal lists, equal schemas.
 * Read from the catalogs, so it does not depend on the pg_dump or server version.
 */
export const catalogOf = async (pool: Pool, schema: string): Promise<string[]> => {
  const { rows } = await pool.query<{ line: string }>(
    `SELECT 'relation ' || c.relname || ' ' || c.relkind::text AS line
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1
     UNION ALL
     SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
            || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
            || CASE WHEN a.attgenerated <> '' THEN ' generated ' || a.attgenerated::text ELSE '' END
            || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     UNION ALL
     SELECT 'constraint ' || c.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
       FROM pg_constraint co
       JOIN pg_class c ON c.oid = co.conrelid
       JOIN pg_namespace n ON n.oid = co.connamespace
      -- PostgreSQL 18 names NOT NULL constraints (contype 'n'), and the names depend on the order
      -- tables were created and renamed in; a column's "not null" above already says what matters.
      WHERE n.nspname = $1 AND co.contype::text <> 'n'
     UNION ALL
     SELECT 'index ' || pg_get_indexdef(i.indexrelid)
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1
     UNION ALL
     SELECT 'function ' || pg_get_functiondef(p.oid)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.prokind IN ('f', 'p')
     UNION ALL
     SELECT 'trigger ' || pg_get_triggerdef(t.oid)
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT t.tgisinternal
     UNION ALL
     SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')
     UNION ALL
     SELECT 'type ' || t.typname || ' ' || t.typtype::text
            || coalesce(' ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'r')`,
    [schema],
  );
  return rows
    .filter((r) => !MONTHLY_PARTITION.test(r.line))
    .map((r) => placeholders(r.line, schema))
    .sort();
};
