/**
 * Decoding a post command's entry with and without msgpackr's compiled record readers
 * (`msgpackr` vs `msgpackr/unpack-no-eval`), for posts of 1 to 100 messages of 256 bytes
 * in the form nodes propose (entries, ids derived from seqs): what a replica that did not
 * propose a post pays to apply it. Blocks of 2,000 decodes alternate between the two
 * decoders; medians over the last 30 of 40 blocks. cluster/shard/commands.ts picks the
 * decoder by the entry's size from these numbers.
 *
 *   npx tsx bench/post-decode-readers.ts
 */
import { Unpackr } from 'msgpackr';
import { Unpackr as NoEvalUnpackr } from 'msgpackr/unpack-no-eval';
import { entriesPostCommand } from './post-command.js';

const compiled = new Unpackr({ useRecords: true, moreTypes: false });
const plain = new NoEvalUnpackr({ useRecords: true, moreTypes: false });

function median(values: number[]): number {
  const sorted = values.slice(10).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

console.log('| messages per post | entry bytes | compiled readers µs/decode | no compiling µs/decode | ratio |');
console.log('|---:|---:|---:|---:|---:|');
for (const count of [1, 4, 10, 20, 50, 100]) {
  const data = entriesPostCommand(count);
  const copies = Array.from({ length: 2000 }, () => Buffer.from(data));
  const times = { compiled: [] as number[], plain: [] as number[] };
  for (let block = 0; block < 40; block++) {
    for (const [name, unpackr] of [['compiled', compiled], ['plain', plain]] as const) {
      const start = performance.now();
      for (const copy of copies) unpackr.unpack(copy);
      times[name].push(((performance.now() - start) * 1000) / copies.length);
    }
  }
  const a = median(times.compiled);
  const b = median(times.plain);
  console.log(`| ${count} | ${data.byteLength} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b / a).toFixed(2)} |`);
}
