import * as E from 'fp-ts/Either';
import { decodeSuspendedOn } from '../../src/projections/suspendedOn';

/* The runs listings' `suspended` jsonb column is decoded at the boundary, not trusted (issue 19 item 7). */

describe('decodeSuspendedOn', () => {
  it('a sleep, a wait without timeout, and no wait', () => {
    expect(
      decodeSuspendedOn('r1', { type: 'step.sleeping', step: 'nap', until: '2026-12-08T01:00:00.5+00:00', event: null }),
    ).toEqual(E.right({ kind: 'sleep', step: 'nap', until: '2026-12-08T01:00:00.500Z', event: null }));
    expect(decodeSuspendedOn('r1', { type: 'step.waiting', step: 'approve', until: null, event: 'approved' })).toEqual(
      E.right({ kind: 'wait', step: 'approve', until: null, event: 'approved' }),
    );
    expect(decodeSuspendedOn('r1', null)).toEqual(E.right(undefined));
    // A wait whose event came (due now): `received`, absent when false.
    expect(
      decodeSuspendedOn('r1', { type: 'step.waiting', step: 'approve', until: null, event: 'approved', received: true }),
    ).toEqual(E.right({ kind: 'wait', step: 'approve', until: null, event: 'approved', received: true }));
    expect(
      decodeSuspendedOn('r1', { type: 'step.waiting', step: 'approve', until: null, event: 'approved', received: false }),
    ).toEqual(E.right({ kind: 'wait', step: 'approve', until: null, event: 'approved' }));
  });

  it('a column that does not decode is a DatabaseError naming the run', () => {
    const bad = decodeSuspendedOn('r1', { type: 'step.started', step: 'nap', until: null, event: null });
    expect(bad).toMatchObject(E.left({ _tag: 'DatabaseError' }));
    expect(E.isLeft(bad) && bad.left.message).toMatch(/^run r1: its sleeping or waiting step does not decode: /);
    expect(decodeSuspendedOn('r2', { type: 'step.sleeping', step: 'nap', until: 'soon', event: null })).toMatchObject(
      E.left({ _tag: 'DatabaseError', message: 'run r2: soon is not a time' }),
    );
  });
});
