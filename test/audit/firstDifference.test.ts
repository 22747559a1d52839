import { firstDifference } from '../../src/audit/diffRuns';

describe('firstDifference names the first JSON path where two results differ', () => {
  it.each([
    [{ a: 1 }, { a: 1 }, null],
    [{ a: 1, b: [1, 2] }, { a: 1, b: [1, 3] }, '$.b[1]'],
    [{ rows: [{ id: 1 }] }, { rows: [{ id: 1 }, { id: 2 }] }, '$.rows[1]'],
    [{ 'odd key': true }, { 'odd key': false }, '$["odd key"]'],
    [{ a: 1 }, { b: 1 }, '$.a'],
    [[1], { 0: 1 }, '$'],
    [null, 0, '$'],
    ['x', 'x', null],
  ])('%j vs %j: %s', (a, b, path) => {
    expect(firstDifference(a, b)).toBe(path);
  });
});
