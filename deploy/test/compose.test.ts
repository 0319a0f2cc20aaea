import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOY_DIR, REPO_ROOT } from './run-script.js';

// There is no Docker engine in CI, so these checks read the files' structure; docs/simulation.md
// and docs/local-setup.md say so.

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  restart?: string;
  healthcheck?: { test: string[] };
  deploy?: { resources?: { limits?: { memory?: string } } };
  volumes?: string[];
  networks?: string[];
  network_mode?: string;
  environment?: Record<string, string>;
  command?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  user?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { driver?: string }>;
}

function readText(name: string): string {
  return readFileSync(join(DEPLOY_DIR, name), 'utf8');
}
function compose(name: string): ComposeFile {
  return parse(readText(name), { merge: true }) as ComposeFile;
}
function envExampleKeys(): Set<string> {
  return new Set(
    readText('.env.local.example')
      .split('\n')
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => line.slice(0, line.indexOf('='))),
  );
}
/** Named volumes a service mounts (not bind mounts of paths). */
function namedVolumes(service: Service): string[] {
  return (service.volumes ?? [])
    .map((v) => v.split(':')[0] ?? '')
    .filter((source) => !source.startsWith('.') && !source.startsWith('/'));
}
function memoryLimit(service: Service): string | undefined {
  return service.deploy?.resources?.limits?.memory;
}

describe('docker-compose.local.yml', () => {
  const file = compose('docker-compose.local.yml');
  const { services } = file;

  it('should define the node, PostgreSQL with pgvector, Ollama and monitoring', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'node', 'ollama', 'postgres', 'prometheus']);
    expect(services.node?.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    expect(services.node?.image).toMatch(/\$\{ALLERAC_IMAGE_TAG:-\d+\.\d+\.\d+\}$/);
    expect(services.postgres?.image).toMatch(/^pgvector\/pgvector:/);
    expect(services.node?.environment?.DATABASE_URL).toMatch(
      /^postgres:\/\/.*POSTGRES_PASSWORD.*@127\.0\.0\.1:/,
    );
    expect(services.node?.depends_on?.postgres?.condition).toBe('service_healthy');
  });

  it('should put Ollama and monitoring behind profiles, and nothing else', () => {
    expect(services.ollama?.profiles).toEqual(['ollama']);
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.grafana?.profiles).toEqual(['monitoring']);
    expect(services.node?.profiles).toBeUndefined();
    expect(services.postgres?.profiles).toBeUndefined();
  });

  it('should give every service a healthcheck, a restart policy and a memory limit', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(1);
      expect(service.restart, name).toBe('unless-stopped');
      expect(memoryLimit(service), name).toMatch(/^\$\{[A-Z_]+:-\d+[mg]\}$/);
    }
  });

  it('should pin every image tag', () => {
    for (const [name, service] of Object.entries(services)) {
      const image = service.image ?? '';
      expect(image, name).toMatch(/:\$\{[A-Z_]+_TAG:-[^}]+\}$/);
      expect(image, name).not.toContain('latest');
    }
  });

  it('should declare every named volume and mount only files that exist', () => {
    const declared = Object.keys(file.volumes ?? {});
    for (const [name, service] of Object.entries(services)) {
      for (const volume of namedVolumes(service)) expect(declared, `${name}: ${volume}`).toContain(volume);
      for (const mount of service.volumes ?? []) {
        if (mount.startsWith('./'))
          expect(existsSync(join(DEPLOY_DIR, mount.split(':')[0] ?? '')), mount).toBe(true);
      }
    }
    // Its data, and Ollama's models read-only, so that peers can copy models from it (#16).
    expect(namedVolumes(services.node as Service)).toEqual(['node-data', 'ollama-models']);
    expect((services.node as Service).volumes).toContain('ollama-models:/ollama:ro');
  });

  it('should run the node on the host network so mDNS reaches the home LAN', () => {
    expect(services.node?.network_mode).toBe('host');
    expect(services.node?.user).toBe('node');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose variable, not a JS template
    expect(services.postgres?.ports).toEqual(['127.0.0.1:${POSTGRES_PORT:-5432}:5432']);
  });

  it('should document every variable it uses in .env.local.example', () => {
    const keys = envExampleKeys();
    const used = new Set(
      [...readText('docker-compose.local.yml').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string),
    );
    expect(used.size).toBeGreaterThan(10);
    for (const variable of used) expect(keys, variable).toContain(variable);
    for (const flag of [
      'ALLERAC_NAME',
      'ALLERAC_HTTP_PORT',
      'ALLERAC_HTTP_HOST',
      'ALLERAC_P2P_PORT',
      'ALLERAC_DATA_DIR',
      'ALLERAC_MESH_KEY_FILE',
      'ALLERAC_JOIN',
      'OLLAMA_HOST',
      'DATABASE_URL',
    ]) {
      expect(keys, flag).toContain(flag);
    }
    expect(readText('.env.local.example')).toMatch(/^POSTGRES_PASSWORD=__GENERATE__$/m);
  });
});

describe('docker-compose.sim.yml', () => {
  const file = compose('docker-compose.sim.yml');
  const { services } = file;
  const nodes = ['kitchen', 'office', 'bedroom'];

  it('should define three nodes and three ollama-sim backends with their hardware profiles', () => {
    expect(Object.keys(services).sort()).toEqual([
      'bedroom',
      'bedroom-ollama',
      'kitchen',
      'kitchen-ollama',
      'mesh-key',
      'office',
      'office-ollama',
    ]);
    const profile = (name: string) => {
      const command = services[name]?.command ?? [];
      return command[command.indexOf('--profile') + 1];
    };
    expect([profile('kitchen-ollama'), profile('office-ollama'), profile('bedroom-ollama')]).toEqual([
      'cpu',
      'gpu',
      'cpu',
    ]);
    expect(services['office-ollama']?.command?.join(' ')).toContain('llama3.1:8b');
    for (const name of nodes) {
      expect(services[name]?.build?.dockerfile, name).toBe('deploy/Dockerfile');
      expect(services[`${name}-ollama`]?.build?.dockerfile, name).toBe('deploy/Dockerfile.ollama-sim');
      expect(services[name]?.environment?.OLLAMA_HOST, name).toBe(`http://${name}-ollama:11434`);
      expect(services[name]?.environment?.ALLERAC_NAME, name).toBe(name);
    }
  });

  it('should put every service on one bridge network', () => {
    expect(file.networks?.home?.driver).toBe('bridge');
    for (const [name, service] of Object.entries(services)) expect(service.networks, name).toEqual(['home']);
  });

  it('should give the nodes one mesh key, written before any node starts', () => {
    for (const name of nodes) {
      const node = services[name] as Service;
      expect(node.environment?.ALLERAC_MESH_KEY_FILE, name).toBe('/mesh/mesh.key');
      expect(node.volumes, name).toContain('mesh-key:/mesh:ro');
      expect(node.depends_on?.['mesh-key']?.condition, name).toBe('service_completed_successfully');
      expect(node.depends_on?.[`${name}-ollama`]?.condition, name).toBe('service_healthy');
    }
    expect(services['mesh-key']?.command?.join(' ')).toContain('/key/swarm/psk/1.0.0/');
  });

  it('should give each node a healthcheck, a memory limit and its own loopback port', () => {
    const ports = nodes.map((name) => services[name]?.ports?.[0]);
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:\d+:8080$/);
    for (const [name, service] of Object.entries(services)) {
      expect(memoryLimit(service), name).toBeDefined();
      if (name !== 'mesh-key') expect(service.healthcheck?.test, name).toBeDefined();
    }
  });
});

describe('Dockerfiles', () => {
  /** Instructions of a Dockerfile, continuation lines joined. */
  function instructions(name: string): string[] {
    return readText(name)
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
  }

  for (const name of ['Dockerfile', 'Dockerfile.ollama-sim']) {
    it(`should build ${name} multi-stage on Node 24, non-root, with a healthcheck`, () => {
      const lines = instructions(name);
      expect(readText(name)).toMatch(/^ARG NODE_IMAGE=node:24[-\w.]*$/m);
      expect(lines.filter((line) => line.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
      const users = lines.filter((line) => line.startsWith('USER '));
      expect(users.length).toBeGreaterThan(0);
      expect(users.at(-1)).not.toMatch(/^USER (root|0)(:|$)/);
      expect(lines.some((line) => line.startsWith('HEALTHCHECK ') && line.includes('CMD'))).toBe(true);
      expect(existsSync(join(DEPLOY_DIR, `${name}.dockerignore`))).toBe(true);
      expect(readText(`${name}.dockerignore`)).toContain('**/node_modules');
    });
  }

  it('should expose the HTTP and mesh ports, keep /data in a volume and build with npm ci', () => {
    const lines = instructions('Dockerfile');
    expect(lines).toContain('EXPOSE 8080 4001');
    expect(lines).toContain('VOLUME ["/data"]');
    expect(lines.some((line) => line.startsWith('RUN npm ci'))).toBe(true);
    expect(lines.some((line) => line.includes('npm prune --omit=dev'))).toBe(true);
    expect(lines).toContain('ENTRYPOINT ["allerac"]');
  });
});

describe('monitoring', () => {
  const dashboard = JSON.parse(readText('monitoring/grafana/dashboards/allerac-node.json')) as {
    uid: string;
    panels: { title: string; targets: { expr: string }[] }[];
  };

  it('should provision Prometheus as a datasource and the dashboards directory that compose mounts', () => {
    const datasources = parse(readText('monitoring/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; type: string }[];
    };
    expect(datasources.datasources[0]?.type).toBe('prometheus');
    const providers = parse(readText('monitoring/grafana/provisioning/dashboards/allerac.yml')) as {
      providers: { options: { path: string } }[];
    };
    const mounts = compose('docker-compose.local.yml').services.grafana?.volumes ?? [];
    expect(mounts).toContain(`./monitoring/grafana/dashboards:${providers.providers[0]?.options.path}:ro`);
    const prometheus = parse(readText('monitoring/prometheus/prometheus.yml')) as {
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    expect(prometheus.scrape_configs[0]?.metrics_path).toBe('/metrics');
    expect(prometheus.scrape_configs[0]?.static_configs[0]?.targets).toEqual(['127.0.0.1:8080']);
  });

  it('should chart request rate, latency, tokens and the backend state', () => {
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n');
    expect(exprs).toContain('rate(allerac_http_requests_total');
    expect(exprs).toContain(
      'histogram_quantile(0.95, sum by (le) (rate(allerac_http_request_duration_seconds_bucket',
    );
    expect(exprs).toContain('allerac_tokens_total');
    expect(exprs).toContain('allerac_backend_up');
    expect(dashboard.uid).toBe('allerac-node');
  });

  it('should only chart metrics the node defines', () => {
    // The names come from the node's own metrics module, so a renamed metric fails here.
    const source = readFileSync(join(REPO_ROOT, 'packages/node/src/http/metrics.ts'), 'utf8');
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n');
    const names = new Set([...exprs.matchAll(/\ballerac_[a-z_]+/g)].map((m) => m[0]));
    for (const name of names) {
      if (name.startsWith('allerac_process_')) continue; // prom-client's default metrics, checked live
      const base = name.replace(/_(bucket|sum|count)$/, '');
      expect(source, name).toContain(`'${base}'`);
    }
  });
});
