import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/**
 * Readers for the deployment artefacts under deploy/ and the Dockerfile, for
 * the tests that check them against each other and against the server's own
 * configuration schema. Each reader understands exactly what the artefacts
 * use and throws on anything else, so a new feature in a file fails a test
 * rather than passing unchecked.
 */

export type Env = Record<string, string>;

/** A YAML file with anchors and `<<` merge keys resolved (as Compose does). */
export function readYaml(path: string): unknown {
  return parseYaml(readFileSync(path, 'utf8'), { merge: true });
}

/**
 * An env file as Compose's `env_file`, kustomize's `envs` and systemd's
 * `EnvironmentFile` read the simple form all three share: `KEY=value` lines,
 * blank lines and `#` comments. Quotes, `export` and continuation lines are
 * refused.
 */
export function parseEnvFile(text: string): Env {
  const env: Env = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = line.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    if (!match) throw new Error(`line ${i + 1} is not KEY=value: ${raw}`);
    const value = match[2]!;
    if (/^["']|\\$/.test(value)) throw new Error(`line ${i + 1}: quotes and continuations are not supported`);
    env[match[1]!] = value;
  }
  return env;
}

export interface Dockerfile {
  /** ENV of the final stage. */
  env: Env;
  expose: string[];
  user: string | undefined;
  volumes: string[];
  cmd: string[] | undefined;
  healthcheck: string[] | undefined;
  stopSignal: string | undefined;
  /** ARG defaults before the first FROM. */
  globalArgs: Env;
}

/** The final stage of a Dockerfile, for the instructions the project's uses. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (current === '' && /^\s*(#|$)/.test(raw)) continue;
    if (current !== '' && /^\s*#/.test(raw)) continue;
    if (raw.endsWith('\\')) {
      current += `${raw.slice(0, -1)} `;
      continue;
    }
    instructions.push(current + raw);
    current = '';
  }
  const result: Dockerfile = {
    env: {},
    expose: [],
    user: undefined,
    volumes: [],
    cmd: undefined,
    healthcheck: undefined,
    stopSignal: undefined,
    globalArgs: {},
  };
  let stages = 0;
  for (const instruction of instructions) {
    const [, keyword = '', rest = ''] = instruction.trim().match(/^(\S+)\s*(.*)$/) ?? [];
    const word = keyword.toUpperCase();
    if (word === 'FROM') {
      stages += 1;
      result.env = {};
      result.expose = [];
      result.user = undefined;
      result.volumes = [];
      result.cmd = undefined;
      result.healthcheck = undefined;
      result.stopSignal = undefined;
      continue;
    }
    if (word === 'ARG' && stages === 0) {
      const [name, value = ''] = rest.trim().split('=');
      result.globalArgs[name!] = value;
    }
    if (word === 'ENV') {
      for (const pair of rest.trim().split(/\s+/)) {
        const match = pair.match(/^([A-Za-z_][A-Za-z0-9_]*)=([^"'\s]*)$/);
        if (!match) throw new Error(`ENV form not supported here: ${pair}`);
        result.env[match[1]!] = match[2]!;
      }
    }
    if (word === 'EXPOSE') result.expose.push(...rest.trim().split(/\s+/));
    if (word === 'USER') result.user = rest.trim();
    if (word === 'VOLUME') result.volumes.push(...rest.trim().split(/\s+/));
    if (word === 'STOPSIGNAL') result.stopSignal = rest.trim();
    if (word === 'CMD') result.cmd = JSON.parse(rest) as string[];
    if (word === 'HEALTHCHECK') {
      const json = rest.slice(rest.indexOf('CMD') + 3).trim();
      result.healthcheck = JSON.parse(json) as string[];
    }
  }
  return result;
}

/** A Compose or systemd duration (`30s`, `1m30s`, `500ms`, or bare seconds for systemd) in seconds. */
export function durationSeconds(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const units: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const match = rest.match(/^(\d+(?:\.\d+)?)(us|ms|s|m|h)/);
    if (!match) throw new Error(`not a duration: ${text}`);
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** A systemd unit file: section → key → every value given (in order). */
export function parseUnitFile(text: string): Record<string, Record<string, string[]>> {
  const unit: Record<string, Record<string, string[]>> = {};
  let section: Record<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) {
      section = unit[header[1]!] ?? {};
      unit[header[1]!] = section;
      continue;
    }
    const match = line.match(/^([A-Za-z]+)=(.*)$/);
    if (!match || !section) throw new Error(`not a unit file line: ${raw}`);
    const values = section[match[1]!] ?? [];
    values.push(match[2]!);
    section[match[1]!] = values;
  }
  return unit;
}

// ---------------------------------------------------------------- kustomize

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface SecretGenerator {
  name: string;
  type?: string;
  envs?: string[];
  literals?: string[];
  files?: string[];
}

interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'PersistentVolume',
]);
const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'secretGenerator', 'images']);

/**
 * Renders a kustomization the way `kubectl kustomize` does, for the subset
 * deploy/kubernetes uses: file resources, `namespace`, `secretGenerator`
 * (with a content-hash name suffix and the references to it rewritten) and
 * `images`. Any other field is refused. The suffix is a hash of the Secret's
 * content as kustomize's is, though not spelt the same way.
 */
export function renderKustomization(
  dir: string,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): K8sObject[] {
  const kustomization = parseYaml(readFile(join(dir, 'kustomization.yaml'))) as Record<string, unknown>;
  for (const key of Object.keys(kustomization)) {
    if (!SUPPORTED.has(key)) throw new Error(`kustomization field not supported by this renderer: ${key}`);
  }
  if (kustomization.kind !== 'Kustomization') throw new Error('not a Kustomization');

  const objects: K8sObject[] = [];
  for (const resource of (kustomization.resources as string[] | undefined) ?? []) {
    const path = join(dir, resource);
    if (statSync(path).isDirectory()) throw new Error(`directory resources are not supported: ${resource}`);
    for (const doc of parseAllDocuments(readFile(path))) {
      if (doc.errors.length > 0) throw new Error(`${resource}: ${doc.errors[0]!.message}`);
      const object = doc.toJS() as K8sObject | null;
      if (object) objects.push(object);
    }
  }

  const renamed = new Map<string, string>();
  for (const generator of (kustomization.secretGenerator as SecretGenerator[] | undefined) ?? []) {
    const data: Record<string, string> = {};
    for (const file of generator.envs ?? []) Object.assign(data, parseEnvFile(readFile(join(dir, file))));
    for (const literal of generator.literals ?? []) {
      const at = literal.indexOf('=');
      if (at <= 0) throw new Error(`literal is not KEY=value: ${literal}`);
      data[literal.slice(0, at)] = literal.slice(at + 1);
    }
    for (const file of generator.files ?? []) {
      const [key, source = key] = file.split('=');
      data[key!.split('/').pop()!] = readFile(join(dir, source!));
    }
    const type = generator.type ?? 'Opaque';
    const encoded = Object.fromEntries(
      Object.entries(data)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    );
    const hash = createHash('sha256')
      .update(JSON.stringify({ data: encoded, kind: 'Secret', name: generator.name, type }))
      .digest('hex')
      .slice(0, 10);
    const name = `${generator.name}-${hash}`;
    renamed.set(generator.name, name);
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type, data: encoded });
  }

  const namespace = kustomization.namespace as string | undefined;
  const images = (kustomization.images as ImageOverride[] | undefined) ?? [];
  for (const object of objects) {
    if (namespace && !CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = namespace;
    const podSpec = podSpecOf(object);
    if (!podSpec) continue;
    const secretName = (ref: { name?: string } | undefined) => {
      if (ref?.name && renamed.has(ref.name)) ref.name = renamed.get(ref.name)!;
    };
    for (const container of [...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])]) {
      for (const source of container.envFrom ?? []) secretName(source.secretRef);
      for (const variable of container.env ?? []) secretName(variable.valueFrom?.secretKeyRef);
      const override = images.find((i) => imageName(container.image) === i.name);
      if (override) {
        const name = override.newName ?? override.name;
        container.image = override.digest
          ? `${name}@${override.digest}`
          : `${name}:${override.newTag ?? imageTag(container.image) ?? 'latest'}`;
      }
    }
    for (const volume of podSpec.volumes ?? []) {
      if (volume.secret?.secretName && renamed.has(volume.secret.secretName)) {
        volume.secret.secretName = renamed.get(volume.secret.secretName)!;
      }
    }
    for (const pull of podSpec.imagePullSecrets ?? []) secretName(pull);
  }
  return objects;
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name?: string; key: string } };
  }[];
  envFrom?: { secretRef?: { name?: string }; configMapRef?: { name?: string } }[];
  [field: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: { secretName?: string } }[];
  imagePullSecrets?: { name?: string }[];
  [field: string]: unknown;
}

export function podSpecOf(object: K8sObject): PodSpec | undefined {
  const spec = object.spec as { template?: { spec?: PodSpec } } | undefined;
  return spec?.template?.spec;
}

function imageName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

function imageTag(image: string): string | undefined {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : undefined;
}

/**
 * A container's environment as the kubelet builds it for a pod: `envFrom`
 * sources first, then `env` in order, with the downward API's
 * `metadata.name`/`metadata.namespace` and `$(VAR)` references to variables
 * defined before.
 */
export function containerEnv(
  container: Container,
  pod: { name: string; namespace: string },
  secrets: Map<string, Env>,
): Env {
  const env: Env = {};
  for (const source of container.envFrom ?? []) {
    if (!source.secretRef?.name) throw new Error('only secretRef envFrom sources are supported');
    const data = secrets.get(source.secretRef.name);
    if (!data) throw new Error(`envFrom names a Secret that is not rendered: ${source.secretRef.name}`);
    Object.assign(env, data);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = variable.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) =>
        name in env ? env[name]! : whole,
      );
    } else if (variable.valueFrom?.fieldRef) {
      const path = variable.valueFrom.fieldRef.fieldPath;
      if (path === 'metadata.name') env[variable.name] = pod.name;
      else if (path === 'metadata.namespace') env[variable.name] = pod.namespace;
      else throw new Error(`fieldRef not supported here: ${path}`);
    } else if (variable.valueFrom?.secretKeyRef) {
      const ref = variable.valueFrom.secretKeyRef;
      const value = secrets.get(ref.name ?? '')?.[ref.key];
      if (value === undefined) throw new Error(`secretKeyRef to a missing key: ${ref.name}/${ref.key}`);
      env[variable.name] = value;
    } else {
      throw new Error(`env ${variable.name} has neither a value nor a supported valueFrom`);
    }
  }
  return env;
}

/** Secrets rendered by `renderKustomization`, decoded, by name. */
export function decodedSecrets(objects: K8sObject[]): Map<string, Env> {
  const secrets = new Map<string, Env>();
  for (const object of objects.filter((o) => o.kind === 'Secret')) {
    const data = (object.data as Record<string, string> | undefined) ?? {};
    secrets.set(
      object.metadata.name,
      Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      ),
    );
  }
  return secrets;
}
