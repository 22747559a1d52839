import * as E from 'fp-ts/Either';
import type { InvalidSchemaName } from '../errors';

/**
 * Schema names are spliced into SQL (migrations, function bodies, NOTIFY channel names), so only
 * plain lower-case identifiers are accepted, short enough that "<schema>_events" still fits
 * PostgreSQL's 63-byte identifier limit. Anything else is refused before any SQL runs.
 */
const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

export const DEFAULT_SCHEMA = 'orbit';

/**
 * Schemas Orbit never uses: PostgreSQL's own (pg_*: CREATE SCHEMA fails with 42939;
 * information_schema) and `public`, which every role can usually read and the application's own
 * tables share, so the journal's GRANTs (docs/AUDIT.md) could not be kept to Orbit's tables.
 */
const isReserved = (schema: string): boolean =>
  schema.startsWith('pg_') || schema === 'information_schema' || schema === 'public';

export const validateSchemaName = (schema: string): E.Either<InvalidSchemaName, string> =>
  PLAIN_IDENTIFIER.test(schema) && !isReserved(schema) ? E.right(schema) : E.left({ _tag: 'InvalidSchemaName', schema });

/** Double-quotes an identifier; safe for any string, though Orbit only quotes validated names. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The LISTEN/NOTIFY channel of a schema: ids of runs whose state a listener acts on. */
export const channelFor = (schema: string): string => `${schema}_events`;
