/**
 * src/api/internal/: what the CLI uses beyond the public functions of src/api/, and nothing else
 * does. Not re-exported by src/index.ts. Each file re-exports a concept or wraps a pool-taking
 * internal in a client-taking function, so the CLI stays a client of the same boundary as library
 * users (test/structure/importCycles.test.ts pins: src/cli/ imports only src/api/ and src/cli/).
 *
 * This file: the error values and their one-line rendering.
 */
export { assertNever, formatError, OrbitErrors } from '../../errors';
export type { ConnectFailure, DbFailure, InvalidInput, OrbitError, ResumeFailure } from '../../errors';
export { OrbitErrorCodec } from '../../orbitErrorCodec';
