import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { describeDecodeError, firstDecodeFailure } from '../../src/events/decodeErrors';

const failureOf = <A>(codec: t.Type<A, unknown, unknown>, value: unknown): t.Errors => {
  const d = codec.decode(value);
  if (E.isRight(d)) throw new Error('expected a decode failure');
  return d.left;
};

describe('the io-ts error formatter', () => {
  it('names the field by its keys, leaving out array indexes', () => {
    const codec = t.type({ items: t.array(t.type({ id: t.string })) });
    expect(describeDecodeError(failureOf(codec, { items: [{ id: 'a' }, { id: 7 }] }))).toBe('items.id: expected string, got 7');
  });

  it('a value that is wrong as a whole is "value"', () => {
    expect(describeDecodeError(failureOf(t.string, 42))).toBe('value: expected string, got 42');
  });

  it('prefers the codec’s own message', () => {
    const even = new t.Type<number, number, unknown>(
      'Even',
      (u): u is number => typeof u === 'number' && u % 2 === 0,
      (u, c) => (typeof u === 'number' && u % 2 === 0 ? t.success(u) : t.failure(u, c, 'not an even number')),
      t.identity,
    );
    expect(firstDecodeFailure(failureOf(t.type({ n: even }), { n: 3 }))).toEqual({ path: ['n'], message: 'not an even number' });
  });

  it('cuts long values, so a huge payload does not flood the message', () => {
    const message = firstDecodeFailure(failureOf(t.type({ s: t.number }), { s: 'x'.repeat(500) })).message;
    expect(message.length).toBeLessThan(100);
    expect(message).toMatch(/^expected number, got "x+\.\.\.$/);
  });
});
