import fc from 'fast-check';
import { MAX_DURATION_SECONDS, formatIsoDuration, parseIsoDuration } from '../../src/business-time';

describe('parseIsoDuration', () => {
  it.each([
    ['PT16H', 16 * 3600],
    ['PT30M', 1800],
    ['PT45S', 45],
    ['P1D', 86_400],
    ['P2W', 14 * 86_400],
    ['P1DT2H30M5S', 86_400 + 2 * 3600 + 30 * 60 + 5],
    ['P1W2D', 9 * 86_400],
    ['PT0S', 0],
    ['P0D', 0],
    ['PT90M', 5400],
    ['P3653D', MAX_DURATION_SECONDS],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseIsoDuration(text)).toBe(seconds);
  });

  it.each([
    ['', 'empty'],
    ['P', 'no component'],
    ['PT', 'no time component'],
    ['P1D T2H', 'a space'],
    ['P1Y', 'years have no fixed length'],
    ['P1M', 'months have no fixed length'],
    ['P1Y2M3DT4H', 'years and months'],
    ['PT1.5S', 'fractional seconds'],
    ['PT0,5H', 'fractional hours'],
    ['-PT1H', 'negative'],
    ['P-1D', 'negative component'],
    ['pt1h', 'lower case'],
    ['PT1H2H', 'repeated component'],
    ['PT2M1H', 'components out of order'],
    ['P1H', 'hours without T'],
    ['16h', 'not ISO 8601'],
    ['P3654D', 'more than ten years'],
    ['PT99999999999999999999S', 'beyond any safe integer'],
  ])('refuses %j (%s)', (text) => {
    expect(parseIsoDuration(text)).toBeNull();
  });
});

describe('formatIsoDuration', () => {
  it('writes the canonical form', () => {
    expect(formatIsoDuration(93_784)).toBe('P1DT2H3M4S');
    expect(formatIsoDuration(0)).toBe('PT0S');
    expect(formatIsoDuration(57_600)).toBe('PT16H');
    expect(formatIsoDuration(7 * 86_400)).toBe('P7D');
    expect(formatIsoDuration(86_400 + 5)).toBe('P1DT5S');
  });

  it('refuses negative and fractional seconds', () => {
    expect(() => formatIsoDuration(-1)).toThrow(RangeError);
    expect(() => formatIsoDuration(1.5)).toThrow(RangeError);
  });

  it('round-trips through parseIsoDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_SECONDS }), (seconds) => {
        expect(parseIsoDuration(formatIsoDuration(seconds))).toBe(seconds);
      }),
    );
  });
});
