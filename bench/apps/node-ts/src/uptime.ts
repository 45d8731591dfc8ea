import ms from 'ms';

// describeUptime says how long, in words, rounded to the largest unit.
export function describeUptime(elapsed: number): string {
  return ms(elapsed, { long: true });
}
