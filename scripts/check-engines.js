// Fails when an installed package declares an `engines.node` range that the
// oldest Node we support (root package.json `engines.node`) does not satisfy,
// so the engines field we publish stays honest.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

const root = join(import.meta.dirname, '..');
const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node;
const oldest = semver.minVersion(range).version;
const bad = [];
const seen = new Set();

function visit(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      visit(path);
      continue;
    }
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const key = `${pkg.name}@${pkg.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const wants = pkg.engines?.node;
    if (typeof wants === 'string' && semver.validRange(wants) && !semver.satisfies(oldest, wants)) {
      bad.push(`${key} needs node ${wants}`);
    }
    visit(join(path, 'node_modules'));
  }
}

visit(join(root, 'node_modules'));
if (bad.length > 0) {
  console.error(
    `These packages do not support node ${oldest} (engines.node "${range}"):\n  ${bad.join('\n  ')}`,
  );
  process.exit(1);
}
console.log(`engines: ${seen.size} packages support node ${oldest}`);
