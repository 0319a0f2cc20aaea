import { readFileSync } from 'node:fs';

/** The node's software version, read from its package.json so releases need one edit. */
export const SOFTWARE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
