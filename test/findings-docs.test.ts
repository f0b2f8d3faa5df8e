import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_FINDINGS } from '../pipeline/findings/findings-settings.js';
import { MODIFIERS } from '../pipeline/findings/modifier-registry.js';
import { DETECTORS, FINDING_TYPES } from '../pipeline/findings/registry.js';
import { repoRoot } from './support/paths.js';

// docs/findings.md's tables follow from the registries: a detector or a modifier added, renamed or
// given new defaults without its row fails here, and the message holds the table to paste.

const DOC = readFileSync(join(repoRoot, 'docs', 'findings.md'), 'utf8');

function block(name: string): string {
  const start = DOC.indexOf(`<!-- registry: ${name} -->\n`);
  assert.ok(start >= 0, `docs/findings.md has no "<!-- registry: ${name} -->" block`);
  const end = DOC.indexOf('<!-- end registry -->', start);
  return DOC.slice(DOC.indexOf('\n', start) + 1, end);
}

function detectorTable(): string {
  const rows = DETECTORS.map((d) => {
    const t = d.defaults.thresholds;
    return `| \`${d.type}\` | \`findings.${d.key}\` | ${d.logs.join(', ')} | \`{ ${[t.min, t.low, t.medium, t.high, t.critical].join(', ')} }\` | ${d.about} |`;
  });
  return ['| type | config key | reads | default thresholds | finds |', '|---|---|---|---|---|', ...rows, ''].join('\n');
}

function modifierTable(): string {
  const rows = MODIFIERS.map((m) => `| ${m.names.join(', ')} | \`findings.modifiers.${m.key}\` | ${m.logs.join(', ')} | \`${JSON.stringify(m.defaults).replace(/,/g, ', ').replace(/:/g, ': ').replace(/^\{/, '{ ').replace(/\}$/, ' }')}\` | ${m.about} |`);
  return ['| modifier | config key | reads | defaults | says |', '|---|---|---|---|---|', ...rows, ''].join('\n');
}

test("docs/findings.md's detector table is the registry's: each type, its config key, the logs it reads and its default thresholds", () => {
  assert.equal(block('detectors'), detectorTable(), `paste this between the markers:\n${detectorTable()}`);
});

test("docs/findings.md's modifier table is the modifier registry's: each key, its names and defaults", () => {
  assert.equal(block('modifiers'), modifierTable(), `paste this between the markers:\n${modifierTable()}`);
});

test('docs/findings.md has a section for every finding type, and none for a type the registry does not have', () => {
  const sections = [...DOC.matchAll(/^### `([a-z-]+)`$/gm)].map((m) => m[1]);
  assert.deepEqual(sections, [...FINDING_TYPES]);
});

test('the config defaults hold a section for every detector and every shared modifier, at the key the docs name', () => {
  for (const d of DETECTORS) assert.deepEqual((DEFAULT_FINDINGS as unknown as Record<string, unknown>)[d.key], d.defaults, d.key);
  for (const m of MODIFIERS) assert.deepEqual((DEFAULT_FINDINGS.modifiers as unknown as Record<string, unknown>)[m.key], m.defaults, m.key);
});
