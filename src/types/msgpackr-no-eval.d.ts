/**
 * msgpackr's build of its decoder without `new Function` (package export
 * `msgpackr/unpack-no-eval`, which ships no declarations of its own): the same Unpackr.
 */
declare module 'msgpackr/unpack-no-eval' {
  export { Unpackr } from 'msgpackr';
}
