/**
 * Rows for the labels under a timeline (markers such as "claimed" and "resumed", and "now"), so
 * that labels close in time do not print over one another: each label takes the first row where
 * it overlaps no label already placed, up to `maxRows`; a label that fits in none gets `null` and
 * is left out (its line and tooltip stay). Pure, so the placement is tested without a browser.
 */
export interface BottomLabel {
  /** Where the label is anchored, in the drawing's units. */
  readonly x: number;
  readonly text: string;
  readonly anchor: 'start' | 'middle' | 'end';
}

/** 11 px system-ui: about 6.5 units a character, plus a gap either side. */
const CHAR_W = 6.5;
const GAP = 4;

const extentOf = (l: BottomLabel): readonly [number, number] => {
  const w = l.text.length * CHAR_W;
  const left = l.anchor === 'start' ? l.x : l.anchor === 'end' ? l.x - w : l.x - w / 2;
  return [left - GAP, left + w + GAP];
};

export const labelRows = (labels: readonly BottomLabel[], maxRows = 3): (number | null)[] => {
  const taken: (readonly [number, number])[][] = [];
  return labels.map((l) => {
    const [a, b] = extentOf(l);
    for (let row = 0; row < maxRows; row++) {
      const spans = (taken[row] ??= []);
      if (spans.every(([c, d]) => b <= c || a >= d)) {
        spans.push([a, b]);
        return row;
      }
    }
    return null;
  });
};
