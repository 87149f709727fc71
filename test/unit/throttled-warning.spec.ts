import { ThrottledWarning } from '../../src/common/throttled-warning';

describe('ThrottledWarning', () => {
  afterEach(() => jest.useRealTimers());

  it('writes the first occurrence at once, then one line per interval counting everything in between', () => {
    jest.useFakeTimers({ now: new Date('2026-12-07T10:00:00Z') });
    const lines: string[] = [];
    const warning = new ThrottledWarning({ warn: (line) => lines.push(line) }, 10_000, (count, last) => `${count} since the last line; last: ${last}`);
    warning.note(3, 'first');
    warning.note(2, 'second');
    jest.setSystemTime(new Date('2026-12-07T10:00:09.999Z'));
    warning.note(1, 'third');
    expect(lines).toEqual(['3 since the last line; last: first']);
    jest.setSystemTime(new Date('2026-12-07T10:00:10Z'));
    warning.note(4, 'fourth');
    expect(lines).toEqual(['3 since the last line; last: first', '7 since the last line; last: fourth']);
  });
});
