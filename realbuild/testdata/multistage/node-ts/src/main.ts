import ms = require("ms");

// node's own process, without @types/node.
declare const process: { exit(code: number): never };

const spans: number[] = [1500, 90_000, 3 * 3600_000, 9 * 86400_000];

for (const span of spans) {
  console.log(`${span} ms is ${ms(span, { long: true })}`);
}
if (ms("2 days") !== 172800000) {
  console.error("ms cannot read its own words");
  process.exit(1);
}
process.exit(3);
