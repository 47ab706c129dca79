#!/usr/bin/env node
// End-to-end test of the generated website, as a person would use it, in headless Chromium.
//
// Usage: node tests/site_e2e/run.mjs --dev GEN [--project DIR] [--cargo-target DIR] [--lock FILE]
//                                     [--out DIR] [--chromium PATH] [--python PATH]
//        node tests/site_e2e/run.mjs [--site DIR] [--lambda DIR] [--template FILE] [--out DIR]
//                                     [--chromium PATH] [--python PATH]
//        node tests/site_e2e/run.mjs --deployed DIR [--objects FILE] --template FILE [--lambda DIR]
//                                     [--out DIR] [--chromium PATH] [--python PATH]
//   --dev       the `gen` binary (e.g. target/release/gen): the app runs under `gen dev` (issue
//               16; tests/run's "site e2e" step). The project (default output/, with .gen/,
//               gen.yaml, functions/, site/) is COPIED to OUT/project, its gen.yaml given a free
//               port P (`api.cors_origin: http://127.0.0.1:P`, `site.port: P`), `npm install`
//               run in OUT/project/site; the provider is configured with the copy's
//               auth.client_id and auth.audience (read from its gen.yaml, so the config.js gen dev
//               serves and the audience gen dev gives the authorizer are gen.yaml's own, as
//               deployed), and `GEN dev --manifest OUT/project/gen.yaml --port 0 --auth-domain
//               <provider> --env authorizer:AUTH_ISSUER=... --env authorizer:AUTH_JWKS_URL=...`
//               runs with CARGO_TARGET_DIR=--cargo-target (default target/functions, the dir
//               tests/run's "functions" step warmed: the debug build is incremental), its stdout
//               and stderr in OUT/gen-dev.log (function lines also in OUT/authorizer.log and
//               OUT/user-profile.log). Its `gen dev: ready` line is awaited (600 s: a cold build;
//               the browser budget starts after it); the API and site URLs come from it. The
//               browser steps run against gen dev's gateway and site, then: handler.rs edited
//               (a new JSON field), gen dev's `built in` awaited (300 s), the API answers with
//               the field (edit -> new answer seconds printed); then SIGINT to gen dev: exit 0
//               within 15 s, `gen dev: stopped`, and none of its descendants (recorded from
//               /proc while it ran) still alive. --lock FILE: a Cargo.lock copied into the
//               copy's functions/ first (tests/run passes the one its "functions" step resolved,
//               so gen dev's build uses the same crate versions: incremental, no resolution).
//   --site      the generated site (default output/site); it is COPIED to OUT/site, where
//               `npm install` runs (its postinstall fills vendor/) and js/config.js is
//               replaced with the local tenant, client, audience and API
//   --lambda    the release bootstraps: LAMBDA/authorizer/bootstrap, LAMBDA/user-profile/bootstrap
//               (default target/lambda, built by tests/run's "release" step)
//   --template  the generated CloudFormation template (default output/infra/dev/template.json,
//               the example's default stage): the
//               local API takes the authorizer's identity validation expression, the preflight's
//               CORS headers and the gateway responses' headers from it
//   --out       artifacts: screenshots, logs, the site copy (default target/site-e2e)
//   --chromium  the browser (default /usr/bin/chromium; never downloaded)
//   --python    the Python with moto (default target/venv/bin/python): tests/moto_server.py runs
//               under it on a free loopback port as DynamoDB, holding the template's tables
//               (--dev: every stage's under OUT/project/infra/); the functions get
//               AWS_ENDPOINT_URL and test credentials (gen dev passes them through). Call API
//               then checks user-profile's answer carries the caller's item of `profiles`, that
//               the item is in the table the serving function's environment names and in no
//               other, and later calls (reload, rebuild) read it back unchanged
//   --deployed  instead of --site: the site as `gen deploy` left it in the bucket, the objects
//               read back into DIR (no package.json, no node_modules; vendor/ filled). DIR is
//               COPIED to OUT/site, only js/config.js replaced (as above; no npm install), and
//               served as the template's CloudFront distribution serves it (distribution.mjs):
//               `/` is the DefaultRootObject, each object with the Content-Type and
//               Cache-Control S3 stored, a missing key 404 (403 when the bucket policy does
//               not grant the distribution s3:ListBucket), the response headers policy's
//               security headers on every response, its Content-Security-Policy with the Auth0
//               tenant's and the API's origins replaced by the local provider's and API's. The
//               browser steps are the same, plus: the headers on `/`, a missing path 404,
//               index.html always `no-cache`, and no Content Security Policy violation at all.
//               (tests/run's "deploy e2e" step.)
//   --objects   with --deployed: the objects file (default DIR.objects.json, beside DIR):
//               {"<key>": {"ContentType": "...", "CacheControl": "..."}, ...}, one entry per
//               object of the bucket, as HeadObject gives them (keys `/`-separated, no leading
//               slash; other fields ignored); it must list exactly the files under DIR
//
// Everything listens on 127.0.0.1 only (different ports, the same host: this Chromium blocks
// third-party cookies, which silent authentication after a reload needs):
//   provider.mjs  a fake Auth0 tenant (oidc-provider) with one user and a password
//   dynamodb.mjs  tests/moto_server.py as DynamoDB (the user-profile function's table)
//   --dev:        `gen dev`: its gateway (the template's TOKEN authorizer, CORS, the stage in the
//                 path) in front of each function's debug bootstrap, and its site server
//   otherwise:    api.mjs, API Gateway's part: the real authorizer and user-profile release
//                 bootstraps, each behind its own Lambda Runtime API; the site served by
//                 local-web-server from the copy's own node_modules (--deployed:
//                 distribution.mjs, in this process)
// Prints one line per step and `site_e2e: N passed, M failed[, K skipped]`; exits non-zero on a
// failure. Every process it starts is stopped by PID, whatever happens. Waits are on DOM state
// and bounded; the whole browser part has a 60 s budget (--dev: gen dev's start and its rebuild
// after the edit have their own bounds, outside it).
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BUDGET_MS = 60_000; // servers + browser steps
const STEP_TIMEOUT_MS = 15_000;
const INSTALL_TIMEOUT_MS = 300_000;
const DEV_READY_TIMEOUT_MS = 600_000; // gen dev's start: regenerate + a possibly cold debug build
// gen dev's rebuild after the handler edit. Usually seconds; but its first rebuild of one crate in a
// target dir that only workspace-wide builds warmed (tests/run's "functions" step) compiles the
// shared dependencies again for that crate's own feature set: ~90 s on a busy 2-core machine.
const DEV_REBUILD_TIMEOUT_MS = 300_000;
const DEV_STOP_TIMEOUT_MS = 15_000; // SIGINT -> exit
const GREETING = 'edited by site-e2e';
const CLIENT_ID = 'site-e2e-spa-client';
const AUDIENCE = 'https://api.site-e2e.example';
const API_PATH = '/user-profile';
const USER = {
  id: 'auth0|site-e2e-viewer',
  email: 'viewer@site-e2e.example',
  password: 'correct horse battery staple',
  name: 'Ada Viewer',
};
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const VENDOR_SCRIPTS = ['vendor/auth0-spa-js.production.js', 'vendor/bootstrap.bundle.min.js'];

// ---------------------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = {
    site: path.join(ROOT, 'output/site'),
    lambda: path.join(ROOT, 'target/lambda'),
    template: path.join(ROOT, 'output/infra/dev/template.json'),
    out: path.join(ROOT, 'target/site-e2e'),
    chromium: '/usr/bin/chromium',
    deployed: null,
    objects: null,
    dev: null,
    project: path.join(ROOT, 'output'),
    'cargo-target': path.join(ROOT, 'target/functions'),
    lock: null,
    python: path.join(ROOT, 'target/venv/bin/python'),
  };
  const given = new Set();
  const usage = () => {
    console.error('usage: node tests/site_e2e/run.mjs --dev GEN [--project DIR] [--cargo-target DIR] [--lock FILE] [--out DIR] [--chromium PATH] [--python PATH]\n'
      + '       node tests/site_e2e/run.mjs [--site DIR] [--lambda DIR] [--template FILE] [--out DIR] [--chromium PATH] [--python PATH]\n'
      + '       node tests/site_e2e/run.mjs --deployed DIR [--objects FILE] --template FILE [--lambda DIR] [--out DIR] [--chromium PATH] [--python PATH]');
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(key in opts) || i + 1 >= argv.length) usage();
    opts[key] = path.resolve(argv[(i += 1)]);
    given.add(key);
  }
  if (opts.dev) {
    // gen dev serves the project's own site, functions and template.
    if (['site', 'lambda', 'template', 'deployed', 'objects'].some((k) => given.has(k))) usage();
  } else if (['project', 'cargo-target', 'lock'].some((k) => given.has(k))) {
    usage();
  } else if (opts.deployed) {
    // The deployed site is served by the template's distribution: no default template here.
    if (given.has('site') || !given.has('template')) usage();
    opts.objects ??= `${opts.deployed}.objects.json`;
  } else if (given.has('objects')) {
    usage();
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const OUT = opts.out;
mkdirSync(OUT, { recursive: true });
for (const f of ['provider.log', 'api.log', 'site-server.log', 'browser-console.log', 'site-npm-install.log',
  'authorizer.log', 'user-profile.log', 'gen-dev.log', 'moto.log', 'signed-in.png', 'signed-out.png', 'failure.png', 'csp.txt']) {
  rmSync(path.join(OUT, f), { force: true });
}
const logTo = (file) => (line) => appendFileSync(path.join(OUT, file), `${new Date().toISOString()} ${line}\n`);
const providerLog = logTo('provider.log');
const apiLog = logTo('api.log');
const consoleLog = logTo('browser-console.log');

// oidc-provider warns on stderr (unsupported runtime: node 20, in-memory adapter): into its log.
let providerWarnings = 0;
const warn = console.warn;
console.warn = (...args) => {
  if (String(args[0]).startsWith('oidc-provider')) {
    providerWarnings += 1;
    providerLog(args.join(' '));
  } else {
    warn(...args);
  }
};
const { startProvider } = await import('./provider.mjs');
const { LambdaFunction, gatewayFromTemplate, startApi } = await import('./api.mjs');
const distribution = await import('./distribution.mjs');
const dynamodb = await import('./dynamodb.mjs');
const { chromium } = await import('playwright-core');

// ---------------------------------------------------------------------------- steps

let passed = 0;
let failed = 0;
let skipped = 0;
const deadline = { at: Infinity };
const left = () => Math.max(1, Math.min(STEP_TIMEOUT_MS, deadline.at - Date.now()));
let onFailure = async () => {};

class StepFailed extends Error {}
const check = (cond, message) => {
  if (!cond) throw new StepFailed(message);
};

async function step(name, fn) {
  if (failed) {
    skipped += 1;
    console.log(`skip - ${name}`);
    return undefined;
  }
  const start = performance.now();
  try {
    if (Date.now() > deadline.at) throw new StepFailed(`over the ${BUDGET_MS / 1000} s budget`);
    const seen = await fn();
    passed += 1;
    console.log(`ok   - ${name}${seen ? `: ${seen}` : ''} [${((performance.now() - start) / 1000).toFixed(2)} s]`);
    return seen;
  } catch (err) {
    failed += 1;
    // Playwright's messages end with the browser's launch log: keep the call log only.
    const message = err instanceof StepFailed
      ? err.message
      : String(err.message ?? err).split('Browser logs:')[0].trim().split('\n').slice(0, 8).join('\n       ');
    console.log(`FAIL - ${name}: ${message} [${((performance.now() - start) / 1000).toFixed(2)} s]`);
    try {
      await onFailure();
    } catch (e) {
      console.log(`       (while collecting failure details: ${e.message})`);
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------- helpers

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function tail(file, lines = 15) {
  try {
    return readFileSync(path.join(OUT, file), 'utf8').trimEnd().split('\n').slice(-lines)
      .map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '')).join('\n       ');
  } catch {
    return '(none)';
  }
}

const children = []; // {name, proc}

function stopChild(child) {
  const { proc } = child;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      setTimeout(resolve, 200);
    }, 3000);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(proc.pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

async function waitForHttp(url, proc, ms) {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new StepFailed(`the server exited (${proc.exitCode ?? proc.signalCode}) before answering ${url}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return res;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, 100)); // polling a port, not waiting on the page
  }
  throw new StepFailed(`${url} did not answer 200 within ${ms / 1000} s (last: ${last})`);
}

// ---------------------------------------------------------------------------- --deployed

// The objects read back from the bucket, copied to `site` as they are: no npm project there.
function copyDeployed(site) {
  const dir = opts.deployed;
  check(existsSync(path.join(dir, 'index.html')), `${dir}/index.html is missing (is it the bucket's objects?)`);
  for (const npm of ['package.json', 'package-lock.json', 'node_modules']) {
    check(!existsSync(path.join(dir, npm)), `${dir}/${npm} exists: the deployed site must not hold the npm project`);
  }
  check(existsSync(opts.objects), `${opts.objects} (the objects' Content-Type and Cache-Control) is missing`);
  state.objects = distribution.readObjects(dir, opts.objects);
  const index = readFileSync(path.join(dir, 'index.html'), 'utf8');
  for (const script of [...VENDOR_SCRIPTS, 'js/config.js', 'js/user-controller.js']) {
    check(index.includes(`src="${script}"`), `index.html does not load ${script}`);
    check(state.objects.has(script), `${script} is not in the bucket`);
  }
  // The Auth0 tenant the deployed config.js names: the CSP must allow exactly it.
  const config = readFileSync(path.join(dir, 'js/config.js'), 'utf8');
  const domain = /\bdomain:\s*"([^"]+)"/.exec(config)?.[1];
  check(domain, `the deployed js/config.js names no auth0 domain: ${JSON.stringify(config.slice(0, 300))}`);
  state.auth0Domain = domain;
  rmSync(site, { recursive: true, force: true });
  cpSync(dir, site, { recursive: true });
  const index0 = state.objects.get('index.html');
  return `${state.objects.size} object(s) from ${path.relative(process.cwd(), dir) || '.'}; `
    + `index.html ${index0.ContentType ?? '(no Content-Type)'}, ${index0.CacheControl ?? '(no Cache-Control)'}; `
    + `config.js tenant ${domain}`;
}

// The copy served as the template's distribution serves it; returns what serves it.
async function serveDeployed(site, sitePort, provider, api) {
  const template = JSON.parse(readFileSync(opts.template, 'utf8'));
  const { distributionId, config, policyId, policy, listBucket } = distribution.siteFromTemplate(template);
  const csp = distribution.cspFromTemplate(policy, {
    auth0Domain: state.auth0Domain, providerOrigin: provider.origin, apiOrigin: api.origin,
  });
  writeFileSync(path.join(OUT, 'csp.txt'), `template:\n${csp.original}\n\nserved:\n${csp.value}\n`);
  check(csp.replaced.auth0 > 0, `the CSP names no https://${state.auth0Domain} (the tenant js/config.js names): ${csp.original}`);
  check(csp.replaced.api > 0, `the CSP names no https://\${RestApi}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}: ${csp.original}`);
  state.headers = distribution.policyHeaders(policy, csp.value);
  state.csp = csp;
  state.served = [];
  const siteLog = logTo('site-server.log');
  const server = await distribution.startDistribution({
    dir: site,
    objects: state.objects,
    headers: state.headers,
    config,
    listBucket,
    port: sitePort,
    record: (entry) => {
      state.served.push(entry);
      siteLog(JSON.stringify(entry));
    },
  });
  cleanups.push(() => server.close());
  await waitForHttp(`${state.siteOrigin}/`, { exitCode: null, signalCode: null }, 2000);
  return `distribution.mjs as ${distributionId ?? 'a distribution'} with ${policyId}; CSP: tenant x${csp.replaced.auth0}, `
    + `API x${csp.replaced.api}, https: x${csp.replaced.https}${csp.dropped.length ? `, dropped ${csp.dropped.join(', ')}` : ''} (csp.txt)`;
}

// Cache-Control's directives, lower case.
const directives = (value) => (value ?? '').toLowerCase().split(',').map((d) => d.trim()).filter(Boolean);

// ---------------------------------------------------------------------------- --dev

// Polls `cond` every 50 ms for at most `ms`; returns whether it held.
async function until(cond, ms) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50)); // a log line from another process, not the page
  }
  return true;
}

// A scalar of gen.yaml, as written: quotes and a trailing comment dropped.
const yamlScalar = (raw) => raw.replace(/\s+#.*$/, '').trim().replace(/^(['"])(.*)\1$/, '$2');

// OUT/project: a copy of the example project (.gen/, gen.yaml, functions/, site/; no
// node_modules, vendor/ or cargo target), its API's CORS origin and its site's port set to a free
// port. Sets state.siteOrigin, state.clientId, state.audience (gen.yaml's auth block).
async function copyProject() {
  const src = opts.project;
  const dest = path.join(OUT, 'project');
  for (const f of ['gen.yaml', '.gen', 'functions/Cargo.toml', 'functions/user-profile/src/handler.rs', 'site/index.html', 'site/package.json']) {
    check(existsSync(path.join(src, f)), `${src}/${f} is missing (is it a generated project?)`);
  }
  rmSync(dest, { recursive: true, force: true });
  cpSync(src, dest, {
    recursive: true,
    filter: (p) => {
      const [top, sub] = path.relative(src, p).split(path.sep);
      return !((top === 'site' && ['node_modules', 'vendor'].includes(sub)) || (top === 'functions' && sub === 'target'));
    },
  });
  const port = await freePort();
  state.siteOrigin = `http://127.0.0.1:${port}`;
  const manifest = path.join(dest, 'gen.yaml');
  let section = null;
  const found = {};
  const lines = readFileSync(manifest, 'utf8').split('\n').map((line) => {
    const top = /^([A-Za-z_][\w-]*):/.exec(line);
    if (top) section = top[1];
    const field = /^( {2}([a-z_]+):[ \t]*)(.*)$/.exec(line);
    if (!field) return line;
    const key = `${section}.${field[2]}`;
    if (['auth.client_id', 'auth.audience', 'auth.domain'].includes(key)) found[key] = yamlScalar(field[3]);
    if (key === 'api.cors_origin') {
      found[key] = yamlScalar(field[3]);
      return `${field[1]}${state.siteOrigin}`;
    }
    if (key === 'site.port') {
      found[key] = yamlScalar(field[3]);
      return `${field[1]}${port}`;
    }
    return line;
  });
  for (const key of ['auth.client_id', 'auth.audience', 'api.cors_origin', 'site.port']) {
    check(found[key], `${manifest} has no ${key} (the site e2e needs an API behind Auth0 and a site)`);
  }
  writeFileSync(manifest, lines.join('\n'));
  if (opts.lock) {
    check(existsSync(opts.lock), `${opts.lock} (--lock) is missing`);
    cpSync(opts.lock, path.join(dest, 'functions/Cargo.lock'));
  }
  state.clientId = found['auth.client_id'];
  state.audience = found['auth.audience'];
  return `OUT/project, gen.yaml: api.cors_origin ${found['api.cors_origin']} -> ${state.siteOrigin}, site.port `
    + `${found['site.port']} -> ${port}; auth: client ${state.clientId}, audience ${state.audience}`
    + `${opts.lock ? `; functions/Cargo.lock from ${path.relative(process.cwd(), opts.lock)}` : ''}`;
}

// The live descendants of `pid`: Map pid -> {pid, comm, start} (start: /proc's starttime, so a
// reused PID is not mistaken for the recorded process).
function descendants(pid, into = new Map()) {
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return into;
  }
  for (const task of tasks) {
    let kids = [];
    try {
      kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      // the thread ended
    }
    for (const kid of kids) {
      const info = procInfo(kid);
      if (info && !into.has(kid)) {
        into.set(kid, info);
        descendants(kid, into);
      }
    }
  }
  return into;
}

// {pid, comm, start, state} of a process, or null when it is gone.
function procInfo(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { pid, comm: stat.slice(stat.indexOf('(') + 1, close), state: fields[0], start: fields[19] };
  } catch {
    return null;
  }
}

// Still running (not a zombie), and the same process (start time) as recorded.
function stillAlive(rec) {
  const now = procInfo(rec.pid);
  return now !== null && now.start === rec.start && now.state !== 'Z';
}

function recordDevChildren() {
  const dev = state.dev;
  if (!dev || dev.proc.exitCode !== null || dev.proc.signalCode !== null) return;
  for (const [pid, info] of descendants(dev.proc.pid)) {
    if (!dev.recorded.has(pid)) dev.recorded.set(pid, info);
  }
}

// The first line of gen dev's output from index `from` on that satisfies `pred`; fails when gen dev
// exits first or after `ms`.
async function devLine(pred, from, ms, what) {
  const { dev } = state;
  let hit;
  const end = Date.now() + ms;
  while (!(hit = dev.lines.slice(from).find(pred))) {
    if (dev.proc.exitCode !== null || dev.proc.signalCode !== null) {
      throw new StepFailed(`gen dev exited (${dev.proc.exitCode ?? dev.proc.signalCode}) before ${what}:\n       ${tail('gen-dev.log', 15)}`);
    }
    if (Date.now() > end) throw new StepFailed(`no ${what} from gen dev within ${ms / 1000} s:\n       ${tail('gen-dev.log', 15)}`);
    await new Promise((r) => setTimeout(r, 100)); // another process's output
  }
  return hit;
}

// gen dev's stderr: a request line (`GET /dev/user-profile → 200 (authorizer Allow, NAME, 12 ms)`)
// or a function's log line (`[user-profile] ...`, also appended to OUT/user-profile.log).
function devStderrLine(text) {
  const fn = /^\[([\w.-]+)\] (.*)$/.exec(text);
  if (fn) {
    appendFileSync(path.join(OUT, `${fn[1]}.log`), `${new Date().toISOString()} ${fn[2]}\n`);
    return;
  }
  const req = /^([A-Z]+) (\/\S*) → (\d{3}) \((.*)\)$/.exec(text);
  if (req) {
    const parts = req[4].split(', ');
    // `authorizer Allow` / `authorizer cached Allow` / `authorizer Unauthorized` / `authorizer not
    // invoked` ...: the authorizer's answer (run, or cached by the gateway), or none.
    const words = parts.find((p) => p.startsWith('authorizer '))?.slice('authorizer '.length).split(' ') ?? [];
    const cached = words[0] === 'cached';
    let authorizer = (cached ? words[1] : words[0]) ?? null;
    if (authorizer === 'not') authorizer = null; // `authorizer not invoked`
    const entry = { method: req[1], path: req[2], status: Number(req[3]), authorizer, cached, line: text };
    state.calls.push(entry);
    apiLog(JSON.stringify(entry));
  }
}

// The provider, then `gen dev` on the copied project; waits for its ready lines.
async function startDev() {
  check(existsSync(opts.dev), `${opts.dev} is missing (tests/run's "build" step builds target/release/gen)`);
  const provider = await startProvider({ siteOrigin: state.siteOrigin, clientId: state.clientId, audience: state.audience, user: USER, log: providerLog });
  cleanups.push(() => provider.close());
  state.provider = provider;

  const project = path.join(OUT, 'project');
  const args = ['dev', '--manifest', path.join(project, 'gen.yaml'), '--port', '0', '--auth-domain', provider.origin,
    '--env', `authorizer:AUTH_ISSUER=${provider.issuer}`, '--env', `authorizer:AUTH_JWKS_URL=${provider.jwksUrl}`];
  const logFile = path.join(OUT, 'gen-dev.log');
  writeFileSync(logFile, `$ CARGO_TARGET_DIR=${opts['cargo-target']} ${opts.dev} ${args.join(' ')}\n`);
  state.calls = [];
  // Each request line with an `authorizer ...` part, not `cached`: the gateway ran the authorizer.
  state.authorizer = { get invocations() { return state.calls.filter((c) => c.authorizer && !c.cached).length; } };
  const started = performance.now();
  const proc = spawn(opts.dev, args, {
    cwd: project,
    // The functions reach the DynamoDB stand-in as a user's would: gen dev passes these through.
    env: { ...process.env, CARGO_TARGET_DIR: opts['cargo-target'], AWS_ENDPOINT_URL: state.moto.endpoint, ...dynamodb.CREDENTIALS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const dev = { proc, lines: [], recorded: new Map(), started };
  state.dev = dev;
  dev.exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
    proc.once('error', (err) => resolve({ code: null, signal: null, error: err, at: performance.now() }));
  });
  for (const [stream, pipe] of [['out', proc.stdout], ['err', proc.stderr]]) {
    let buf = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        dev.lines.push({ stream, text, at: performance.now() });
        appendFileSync(logFile, `${new Date().toISOString()} ${stream} ${text}\n`);
        if (stream === 'err') devStderrLine(text);
      }
    });
  }
  // Its descendants (functions' bootstraps, cargo), recorded while it runs.
  const watcher = setInterval(recordDevChildren, 250);
  dev.exited.then(() => clearInterval(watcher));
  cleanups.push(async () => {
    clearInterval(watcher);
    if (proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(proc.pid, 'SIGTERM');
      } catch {
        // gone
      }
      const done = await Promise.race([dev.exited, new Promise((r) => setTimeout(() => r(null), 8000))]);
      if (!done) {
        console.log('cleanup: gen dev still running 8 s after SIGTERM: SIGKILL');
        try {
          process.kill(proc.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (const rec of dev.recorded.values()) {
      if (stillAlive(rec)) {
        console.log(`cleanup: gen dev's child ${rec.pid} (${rec.comm}) outlived it: SIGKILL`);
        try {
          process.kill(rec.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });
  onFailure = async () => {
    console.log(`       gen dev (last lines; all in gen-dev.log):\n       ${tail('gen-dev.log', 15)}`);
  };

  const ready = await devLine((l) => l.stream === 'out' && l.text.startsWith('gen dev: ready'), 0, DEV_READY_TIMEOUT_MS, 'a `gen dev: ready` line');
  const readyIndex = dev.lines.indexOf(ready);
  await devLine((l) => l.stream === 'out' && /^\s+watching\b/.test(l.text), readyIndex, 5000, 'the `watching` line after ready');
  const outAfter = dev.lines.slice(readyIndex).filter((l) => l.stream === 'out').map((l) => l.text);
  const apiUrl = outAfter.map((t) => /^\s+API\s+(\S+)\s*$/.exec(t)?.[1]).find(Boolean);
  const siteUrl = outAfter.map((t) => /^\s+site\s+(\S+)\s*$/.exec(t)?.[1]).find(Boolean);
  check(apiUrl, `no \`  API   URL\` line after ready: ${JSON.stringify(outAfter)}`);
  check(siteUrl, `no \`  site  URL\` line after ready: ${JSON.stringify(outAfter)}`);
  const readySeconds = ((ready.at - started) / 1000).toFixed(1);
  deadline.at = Date.now() + BUDGET_MS;
  check(/^http:\/\/127\.0\.0\.1:\d+\/\w[\w-]*$/.test(apiUrl), `the API URL ${apiUrl} is not http://127.0.0.1:PORT/STAGE`);
  check(new URL(siteUrl).origin === state.siteOrigin && new URL(siteUrl).pathname === '/',
    `the site is at ${siteUrl}, expected ${state.siteOrigin}/ (gen.yaml's site.port)`);
  state.apiUrl = apiUrl;
  state.api = { origin: new URL(apiUrl).origin };
  await waitForHttp(`${state.siteOrigin}/`, proc, Math.min(left(), 5000));
  const stdout = dev.lines.filter((l) => l.stream === 'out').map((l) => l.text);
  const notEmulated = dev.lines.filter((l) => l.stream === 'err' && /^\s*not emulated:/.test(l.text)).length;
  return `provider ${provider.issuer}; "${ready.text}" ${readySeconds} s after spawn (PID ${proc.pid}); API ${apiUrl}, `
    + `site ${siteUrl}; ${stdout.length} stdout line(s), ${notEmulated} \`not emulated\` line(s) (gen-dev.log)`;
}

// ---------------------------------------------------------------------------- the run

const state = {};
const cleanups = [];
let cleaning = null;

async function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await Promise.race([fn(), new Promise((r) => setTimeout(r, 10_000))]);
      } catch (err) {
        console.log(`cleanup: ${err.message}`);
      }
    }
    await Promise.all(children.map(stopChild));
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    console.log(`site_e2e: ${sig}, stopping everything`);
    failed += 1;
    await cleanup();
    console.log(`site_e2e: ${passed} passed, ${failed} failed (interrupted)`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

async function main() {
  const version = (pkg) => JSON.parse(readFileSync(path.join(HERE, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  console.log(`playwright-core ${version('playwright-core')}; oidc-provider ${version('oidc-provider')}; `
    + `node ${process.version}; artifacts in ${path.relative(process.cwd(), OUT) || '.'}`);

  // -- the site copy -------------------------------------------------------------------
  state.clientId = CLIENT_ID;
  state.audience = AUDIENCE;
  const site = opts.dev ? path.join(OUT, 'project/site') : path.join(OUT, 'site');
  if (opts.deployed) {
    await step('site: copy of the deployed objects (no npm install)', () => copyDeployed(site));
  } else await step(opts.dev ? 'project: copy of output/ on a free port, npm install in its site/ (postinstall fills vendor/)'
    : 'site: copy and npm install (postinstall fills vendor/)', async () => {
    let copied = '';
    if (opts.dev) {
      copied = `${await copyProject()}; `;
    } else {
      check(existsSync(path.join(opts.site, 'index.html')), `${opts.site}/index.html is missing (has the generator written the site?)`);
      check(existsSync(path.join(opts.site, 'package.json')), `${opts.site}/package.json is missing`);
      rmSync(site, { recursive: true, force: true });
      cpSync(opts.site, site, {
        recursive: true,
        filter: (src) => !['node_modules', 'vendor'].includes(path.relative(opts.site, src).split(path.sep)[0]),
      });
    }
    const ci = existsSync(path.join(site, 'package-lock.json'));
    const args = [ci ? 'ci' : 'install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn'];
    const start = Date.now();
    const r = spawnSync('npm', args, { cwd: site, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
    writeFileSync(path.join(OUT, 'site-npm-install.log'), `$ npm ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    check(r.status === 0, `npm ${args[0]} failed (${r.error?.message ?? `exit ${r.status}`}): see site-npm-install.log\n       ${(r.stderr ?? '').trim().split('\n').slice(-8).join('\n       ')}`);
    const index = readFileSync(path.join(site, 'index.html'), 'utf8');
    for (const script of [...VENDOR_SCRIPTS, 'js/config.js', 'js/user-controller.js']) {
      check(index.includes(`src="${script}"`), `index.html does not load ${script}`);
      check(existsSync(path.join(site, script)), `${script} is missing after npm ${args[0]}`);
    }
    const pkg = JSON.parse(readFileSync(path.join(site, 'package.json'), 'utf8'));
    const spa = JSON.parse(readFileSync(path.join(site, 'node_modules/@auth0/auth0-spa-js/package.json'), 'utf8')).version;
    const bs = JSON.parse(readFileSync(path.join(site, 'node_modules/bootstrap/package.json'), 'utf8')).version;
    state.wsCli = path.join(site, 'node_modules/local-web-server/bin/cli.js');
    const lws = existsSync(state.wsCli)
      ? JSON.parse(readFileSync(path.join(site, 'node_modules/local-web-server/package.json'), 'utf8')).version
      : 'missing';
    return `${copied}npm ${args[0]} ${((Date.now() - start) / 1000).toFixed(1)} s; auth0-spa-js ${spa}, bootstrap ${bs}, `
      + `local-web-server ${lws}; npm start = ${JSON.stringify(pkg.scripts?.start ?? null)}`;
  });

  // -- DynamoDB ------------------------------------------------------------------------
  // user-profile keeps each caller's profile in the `profiles` table: a stand-in holds the
  // template's tables (--dev: every stage's, so the check below sees which one gen dev used).
  await step('DynamoDB stand-in: tests/moto_server.py on 127.0.0.1, the template\'s tables created', async () => {
    const templates = opts.dev
      ? readdirSync(path.join(OUT, 'project/infra')).sort()
        .map((stage) => path.join(OUT, 'project/infra', stage, 'template.json')).filter((f) => existsSync(f))
      : [opts.template];
    check(templates.length > 0 && templates.every((f) => existsSync(f)), `no template: ${templates.join(', ') || 'infra/*/template.json'}`);
    state.templates = templates.map((file) => ({ file, template: JSON.parse(readFileSync(file, 'utf8')) }));
    let moto;
    try {
      moto = await dynamodb.startMoto({ python: opts.python, root: ROOT, port: await freePort(), logPath: path.join(OUT, 'moto.log') });
    } catch (err) {
      throw new StepFailed(err.message);
    }
    cleanups.push(() => moto.stop());
    state.moto = moto;
    const created = [];
    for (const { template } of state.templates) created.push(...await dynamodb.createTables(moto.endpoint, template));
    check(created.length > 0, `the template(s) hold no AWS::DynamoDB::Table: ${templates.join(', ')}`);
    if (!opts.dev) {
      state.tableVariables = dynamodb.tableVariables(state.templates[0].template, 'FunctionUserProfile');
      check(state.tableVariables.PROFILES_TABLE, `user-profile's environment names no table: ${JSON.stringify(state.tableVariables)}`);
    }
    state.tables = created;
    return `moto PID ${moto.pid} at ${moto.endpoint}; ${created.length} table(s): ${created.join(', ')}`;
  });

  // -- servers ---------------------------------------------------------------------------
  if (opts.dev) {
    // The budget starts once gen dev is ready (its start may be a cold debug build).
    await step('servers: provider, gen dev (its gateway, functions\' debug bootstraps, site) on 127.0.0.1', () => startDev());
    await step('gen dev\'s site: /js/config.js names the local API, the provider and gen.yaml\'s client', async () => {
      const res = await fetch(`${state.siteOrigin}/js/config.js`, { signal: AbortSignal.timeout(left()) });
      check(res.ok, `GET /js/config.js answered ${res.status}`);
      const text = await res.text();
      const sandbox = { window: {} };
      try {
        vm.runInNewContext(text, sandbox, { timeout: 1000 });
      } catch (err) {
        throw new StepFailed(`config.js does not run: ${err.message}: ${JSON.stringify(text.slice(0, 300))}`);
      }
      const config = sandbox.window.appConfig;
      check(config, `config.js sets no window.appConfig: ${JSON.stringify(text.slice(0, 300))}`);
      check(config.apiUrl === state.apiUrl, `apiUrl is ${JSON.stringify(config.apiUrl)}, expected ${state.apiUrl} (gen dev's API line)`);
      check(config.auth0?.domain === state.provider.origin, `auth0.domain is ${JSON.stringify(config.auth0?.domain)}, expected ${state.provider.origin} (--auth-domain)`);
      check(config.auth0?.clientId === state.clientId, `auth0.clientId is ${JSON.stringify(config.auth0?.clientId)}, expected ${state.clientId} (gen.yaml)`);
      check(config.auth0?.audience === state.audience, `auth0.audience is ${JSON.stringify(config.auth0?.audience)}, expected ${state.audience} (gen.yaml)`);
      return JSON.stringify(config);
    });
  } else {
  deadline.at = Date.now() + BUDGET_MS;
  await step('servers: provider, authorizer + user-profile bootstraps, API, site on 127.0.0.1', async () => {
    const authorizerBin = path.join(opts.lambda, 'authorizer/bootstrap');
    const profileBin = path.join(opts.lambda, 'user-profile/bootstrap');
    for (const bin of [authorizerBin, profileBin]) {
      check(existsSync(bin), `${bin} is missing (tests/run's "release" step builds it)`);
    }
    check(existsSync(opts.template), `${opts.template} is missing`);

    const sitePort = await freePort();
    state.siteOrigin = `http://127.0.0.1:${sitePort}`;
    const gateway = gatewayFromTemplate(JSON.parse(readFileSync(opts.template, 'utf8')), { path: API_PATH, siteOrigin: state.siteOrigin });
    check(gateway.hasGet, `the template has no GET ${API_PATH}`);
    check(gateway.getAuthorization === 'CUSTOM', `GET ${API_PATH} is not behind the authorizer (AuthorizationType ${gateway.getAuthorization})`);
    check(gateway.preflight, `the template has no OPTIONS ${API_PATH} (CORS preflight)`);
    state.gateway = gateway;

    const provider = await startProvider({ siteOrigin: state.siteOrigin, clientId: state.clientId, audience: state.audience, user: USER, log: providerLog });
    cleanups.push(() => provider.close());
    state.provider = provider;

    const authorizer = new LambdaFunction({
      name: 'site-e2e-authorizer',
      binary: authorizerBin,
      logPath: path.join(OUT, 'authorizer.log'),
      env: { AUTH_ISSUER: provider.issuer, AUTH_JWKS_URL: provider.jwksUrl, AUTH_AUDIENCE: AUDIENCE },
    });
    const profile = new LambdaFunction({
      name: 'site-e2e-user-profile',
      binary: profileBin,
      logPath: path.join(OUT, 'user-profile.log'),
      env: {
        ...state.tableVariables,
        CORS_ORIGINS: state.siteOrigin,
        AWS_ENDPOINT_URL: state.moto.endpoint,
        ...dynamodb.CREDENTIALS,
      },
    });
    for (const fn of [authorizer, profile]) {
      cleanups.push(() => fn.stop());
      await fn.start();
    }
    state.authorizer = authorizer;
    state.profile = profile;

    state.calls = [];
    const api = await startApi({
      path: API_PATH,
      gateway,
      authorizer,
      backend: profile,
      record: (entry) => {
        state.calls.push(entry);
        apiLog(JSON.stringify(entry));
      },
    });
    cleanups.push(() => api.close());
    state.api = api;
    state.apiUrl = api.origin;

    writeFileSync(path.join(site, 'js/config.js'), `// Written by tests/site_e2e/run.mjs: the local tenant and API.
window.appConfig = {
  auth0: {
    domain: ${JSON.stringify(provider.origin)},
    clientId: ${JSON.stringify(state.clientId)},
    audience: ${JSON.stringify(state.audience)},
  },
  apiUrl: ${JSON.stringify(api.origin)},
};
`);

    if (opts.deployed) {
      const served = await serveDeployed(site, sitePort, provider, api);
      return `provider ${provider.issuer}, API ${api.origin}, site ${state.siteOrigin} (${served}); `
        + `template CORS origin ${gateway.templateOrigins.join(',') || 'none'} -> ${state.siteOrigin}`;
    }

    // The site: local-web-server from the copy's node_modules, by its own PID.
    const out = path.join(OUT, 'site-server.log');
    let cmd;
    let server;
    if (existsSync(state.wsCli)) {
      cmd = [process.execPath, state.wsCli, '--hostname', '127.0.0.1', '--port', String(sitePort), '--directory', site];
      server = 'local-web-server';
    } else {
      cmd = ['python3', '-m', 'http.server', '--bind', '127.0.0.1', '--directory', site, String(sitePort)];
      server = 'python3 -m http.server (no local-web-server in the site\'s node_modules)';
    }
    const proc = spawn(cmd[0], cmd.slice(1), { cwd: site, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => appendFileSync(out, d));
    proc.stderr.on('data', (d) => appendFileSync(out, d));
    children.push({ name: 'site server', proc });
    await waitForHttp(`${state.siteOrigin}/`, proc, Math.min(left(), 15_000));
    await waitForHttp(`${state.siteOrigin}/js/config.js`, proc, 2000);

    return `provider ${provider.issuer}, API ${api.origin}, site ${state.siteOrigin} (${server}); `
      + `template CORS origin ${gateway.templateOrigins.join(',') || 'none'} -> ${state.siteOrigin}`;
  });
  }

  // -- the browser ----------------------------------------------------------------------
  let page;
  await step('browser: headless Chromium (playwright-core, no download)', async () => {
    check(existsSync(opts.chromium), `${opts.chromium} is missing (apt-get install chromium)`);
    const profileDir = mkdtempSync(path.join(os.tmpdir(), 'site-e2e-chromium.'));
    cleanups.push(async () => rmSync(profileDir, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: opts.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1100, height: 700 },
      timeout: left(),
    });
    cleanups.push(() => context.close());
    state.context = context;
    page = context.pages()[0] ?? (await context.newPage());
    state.pageErrors = [];
    state.tokens = [];
    page.on('console', (m) => consoleLog(`[${m.type()}] ${m.text()} (${m.location().url ?? ''})`));
    page.on('pageerror', (e) => {
      state.pageErrors.push(e.message);
      consoleLog(`[pageerror] ${e.message}`);
    });
    page.on('requestfailed', (r) => consoleLog(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
    if (opts.deployed) {
      // Every frame reports its CSP violations on the console, where they are collected.
      state.cspViolations = [];
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          console.error(`[site-e2e csp violation] ${JSON.stringify({
            document: e.documentURI, directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
            disposition: e.disposition,
          })}`);
        });
      });
      page.on('console', (m) => {
        const text = m.text();
        if (text.startsWith('[site-e2e csp violation]') || /Content[ -]Security[ -]Policy/i.test(text)) {
          state.cspViolations.push(`${text} (${m.location().url ?? ''})`);
        }
      });
    }
    page.on('request', (r) => {
      if (r.url().startsWith(state.api.origin) && r.method() === 'GET') {
        const auth = r.headers().authorization ?? '';
        if (auth.startsWith('Bearer ')) state.tokens.push(auth.slice(7));
      }
    });
    onFailure = async () => {
      if (!page.isClosed()) {
        await page.screenshot({ path: path.join(OUT, 'failure.png'), timeout: 5000 }).catch(() => {});
        const where = page.url();
        const bodyState = await page.evaluate(() => document.body?.dataset.authState ?? null).catch(() => null);
        console.log(`       page ${where} data-auth-state=${bodyState}; screenshot ${path.relative(process.cwd(), path.join(OUT, 'failure.png'))}`);
      }
      if (state.cspViolations?.length) {
        console.log(`       Content Security Policy violations (${state.cspViolations.length}; the CSP is in csp.txt):\n       `
          + `${state.cspViolations.slice(0, 6).join('\n       ')}`);
      }
      console.log(`       browser console (last lines):\n       ${tail('browser-console.log', 10)}`);
      console.log(`       API calls (${(state.calls ?? []).length}, the last 8): ${JSON.stringify((state.calls ?? []).slice(-8))}`);
      console.log(`       provider (last lines):\n       ${tail('provider.log', 8)}`);
      console.log(`       authorizer log:\n       ${tail('authorizer.log', 5)}`);
      console.log(`       user-profile log:\n       ${tail('user-profile.log', 5)}`);
      if (opts.dev) console.log(`       gen dev (last lines; all in gen-dev.log):\n       ${tail('gen-dev.log', 15)}`);
    };
    const version = context.browser()?.version() ?? spawnSync(opts.chromium, ['--version'], { encoding: 'utf8' }).stdout.trim();
    return version;
  });

  const authState = () => page.evaluate(() => document.body?.dataset.authState ?? null);
  const waitAuthState = async (want) => {
    try {
      await page.locator(`body[data-auth-state="${want}"]`).waitFor({ state: 'attached', timeout: left() });
    } catch {
      throw new StepFailed(`data-auth-state is ${JSON.stringify(await authState().catch(() => null))}, expected "${want}" (waited ${left() / 1000 | 0} s)`);
    }
  };
  const visible = (sel) => page.locator(sel).isVisible();

  await step('open the site: signed out', async () => {
    const res = await page.goto(`${state.siteOrigin}/`, { timeout: left() });
    check(res?.ok(), `GET / answered ${res?.status()}`);
    await waitAuthState('out');
    check(await visible('#btn-login'), '#btn-login (Sign in) is not visible');
    check(!(await visible('#btn-logout')), '#btn-logout (Sign out) is visible while signed out');
    check(!(await visible('#profile')), '#profile is visible while signed out');
    return `data-auth-state="out", Sign in shown`;
  });

  if (opts.deployed) {
    await step('the distribution\'s headers on / (response headers policy, no-cache)', async () => {
      const res = await fetch(`${state.siteOrigin}/`, { signal: AbortSignal.timeout(left()) });
      check(res.status === 200, `GET / answered ${res.status}`);
      for (const [name, want] of Object.entries(state.headers)) {
        check(res.headers.get(name) === want, `${name} is ${JSON.stringify(res.headers.get(name))}, expected ${JSON.stringify(want)}`);
      }
      for (const name of ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy',
        'strict-transport-security']) {
        check(res.headers.has(name), `no ${name} header: the template's ResponseHeadersPolicy does not set it`);
      }
      check(/^text\/html\b/.test(res.headers.get('content-type') ?? ''), `index.html is served as ${res.headers.get('content-type')}`);
      check(directives(res.headers.get('cache-control')).includes('no-cache'),
        `index.html is served with Cache-Control ${JSON.stringify(res.headers.get('cache-control'))}, expected no-cache`);
      const script = await fetch(`${state.siteOrigin}/js/user-controller.js`, { signal: AbortSignal.timeout(left()) });
      check(/javascript/.test(script.headers.get('content-type') ?? ''), `js/user-controller.js is served as ${script.headers.get('content-type')}`);
      return `Content-Type ${res.headers.get('content-type')}, Cache-Control ${res.headers.get('cache-control')}; `
        + `${Object.keys(state.headers).join(', ')}`;
    });

    await step('a missing path: 404, with the security headers', async () => {
      const res = await fetch(`${state.siteOrigin}/no/such/object.html`, { signal: AbortSignal.timeout(left()) });
      const body = await res.text();
      check(res.status === 404, `GET /no/such/object.html answered ${res.status} ${body.slice(0, 200)}`
        + `${res.status === 403 ? ' (S3 hides missing keys unless the bucket policy grants the distribution s3:ListBucket)' : ''}`);
      check(res.headers.get('content-security-policy') === state.headers['content-security-policy'], 'the 404 has no CSP');
      return `404 ${res.headers.get('content-type')}`;
    });
  }

  await step('Sign in: the provider\'s login form', async () => {
    await page.click('#btn-login', { timeout: left() });
    await page.locator('#login-form').waitFor({ timeout: left() });
    const url = new URL(page.url());
    check(url.origin === state.provider.origin && url.pathname.startsWith('/interaction/'), `login form at ${page.url()}`);
    return `at ${url.origin}${url.pathname.replace(/[^/]+$/, '…')}`;
  });

  await step('wrong password: refused, still on the login form', async () => {
    await page.fill('#login', USER.email, { timeout: left() });
    await page.fill('#password', 'not the password', { timeout: left() });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/login') && r.request().method() === 'POST', { timeout: left() }),
      page.click('#submit', { timeout: left() }),
    ]);
    check(res.status() === 401, `the login POST answered ${res.status()}, expected 401`);
    await page.locator('#login-error').waitFor({ timeout: left() });
    return `HTTP 401, "${(await page.textContent('#login-error')).trim()}"`;
  });

  await step('right password: back on the site, signed in with name and picture', async () => {
    await page.fill('#login', USER.email, { timeout: left() });
    await page.fill('#password', USER.password, { timeout: left() });
    await page.click('#submit', { timeout: left() });
    await page.waitForURL((u) => u.origin === state.siteOrigin, { timeout: left() });
    await waitAuthState('in');
    const url = new URL(page.url());
    check(!url.searchParams.has('code') && !url.searchParams.has('state'), `code/state left in the URL: ${page.url()}`);
    const name = (await page.textContent('#profile-name')).trim();
    check(name === USER.name, `#profile-name is ${JSON.stringify(name)}, expected ${JSON.stringify(USER.name)}`);
    check(await visible('#profile'), '#profile is not visible');
    check(await visible('#btn-logout'), '#btn-logout (Sign out) is not visible');
    check(!(await visible('#btn-login')), '#btn-login (Sign in) is still visible');
    const src = await page.getAttribute('#profile-picture', 'src');
    check(src === state.provider.avatarUrl, `#profile-picture src is ${JSON.stringify(src)}, expected ${state.provider.avatarUrl}`);
    await page.waitForFunction(() => {
      const img = document.getElementById('profile-picture');
      return img.complete && img.naturalWidth > 0;
    }, null, { timeout: left() });
    return `data-auth-state="in", name "${name}", picture loaded`;
  });

  // user-profile's answer carries the caller's item of the `profiles` table, made on the first
  // call: the item is in the stand-in, in that table only (--dev: the table of the stage whose
  // function gen dev ran, named in its request line), and later calls read it back unchanged.
  const profileStored = async (body, call) => {
    const { profile } = body;
    check(profile?.sub === USER.id, `profile is ${JSON.stringify(profile)}, expected the caller's item {"sub": ${JSON.stringify(USER.id)}, ...}`);
    check(Number.isInteger(profile.created_at), `profile.created_at is ${JSON.stringify(profile.created_at)}, expected seconds since the epoch`);
    let table = state.tableVariables?.PROFILES_TABLE;
    if (opts.dev) {
      const fn = call.line.split(/[(,)]\s*/).map((p) => p.trim()).find((p) => /^[\w-]+-user-profile$/.test(p));
      check(fn, `gen dev's request line names no user-profile function: ${call.line}`);
      const served = state.templates.flatMap(({ template }) => Object.entries(template.Resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === fn)
        .map(([id]) => ({ template, id })));
      check(served.length === 1, `${served.length} template(s) define the function ${fn}: ${state.templates.map((t) => t.file).join(', ')}`);
      table = dynamodb.tableVariables(served[0].template, served[0].id).PROFILES_TABLE;
      check(table, `${fn}'s environment names no PROFILES_TABLE`);
    }
    const holding = [];
    for (const name of state.tables) {
      const found = await dynamodb.items(state.moto.endpoint, name);
      if (found.length) holding.push({ name, found });
    }
    check(holding.length === 1 && holding[0].name === table,
      `items are in ${JSON.stringify(holding.map((h) => `${h.name} (${h.found.length})`))}, expected in ${table} only`);
    const [item] = holding[0].found;
    check(holding[0].found.length === 1 && item.sub?.S === USER.id && item.created_at?.N === String(profile.created_at),
      `${table} holds ${JSON.stringify(holding[0].found)}, expected one item {sub: ${USER.id}, created_at: ${profile.created_at}}`);
    state.createdAt ??= profile.created_at;
    check(profile.created_at === state.createdAt, `profile.created_at changed from ${state.createdAt} to ${profile.created_at}: the item was written again`);
    return `${table} holds the caller's item (created_at ${profile.created_at}), no other table an item`;
  };

  const callApi = async () => {
    const before = state.calls.length;
    await page.evaluate(() => {
      document.getElementById('api-result').textContent = '';
    });
    await page.click('#btn-call-api', { timeout: left() });
    try {
      await page.waitForFunction((sub) => {
        const t = document.getElementById('api-result').textContent;
        return t.includes(sub) || /HTTP \d{3}|Error/.test(t);
      }, USER.id, { timeout: left() });
    } catch {
      throw new StepFailed(`#api-result stayed ${JSON.stringify(await page.textContent('#api-result'))}`);
    }
    const text = (await page.textContent('#api-result')).trim();
    // gen dev prints a request's line as it answers: it may come just after the page has it.
    await until(() => state.calls.slice(before).some((c) => c.method === 'GET'), 3000);
    const calls = state.calls.slice(before).filter((c) => c.method === 'GET');
    if (opts.dev) recordDevChildren();
    check(text.includes(USER.id), `#api-result is ${JSON.stringify(text)}; API calls ${JSON.stringify(calls)}`);
    check(calls.length === 1 && calls[0].status === 200 && calls[0].authorizer === 'Allow',
      `expected one GET ${API_PATH} allowed by the authorizer with 200, got ${JSON.stringify(calls)}`);
    return { text, call: calls[0] };
  };

  await step('Call API: the authorizer allows the access token, user-profile answers the caller\'s sub', async () => {
    const { text, call } = await callApi();
    const body = JSON.parse(text);
    check(body.caller === USER.id, `caller is ${JSON.stringify(body.caller)}, expected ${USER.id}`);
    const stored = await profileStored(body, call);
    const token = state.tokens.at(-1);
    check(token, 'no Bearer token seen on the API request');
    const [h, p] = token.split('.');
    const header = b64json(h);
    const claims = b64json(p);
    check(header.alg === 'RS256' && header.kid, `token header ${JSON.stringify(header)}`);
    check(claims.iss === state.provider.issuer, `iss ${claims.iss}`);
    check([].concat(claims.aud).includes(state.audience), `aud ${JSON.stringify(claims.aud)}`);
    check(claims.sub === USER.id, `sub ${claims.sub}`);
    state.token = token;
    await page.screenshot({ path: path.join(OUT, 'signed-in.png'), timeout: left() });
    return `200 ${JSON.stringify(body)}; ${stored}; token ${header.alg}/${header.typ} kid ${header.kid}, aud ${JSON.stringify(claims.aud)}, `
      + `scope "${claims.scope ?? ''}"; screenshot ${path.relative(process.cwd(), path.join(OUT, 'signed-in.png'))}`;
  });

  const fetchFromPage = (token) => page.evaluate(async ({ url, token: t }) => {
    try {
      const r = await fetch(url, t === null ? {} : { headers: { Authorization: `Bearer ${t}` } });
      return { status: r.status, body: await r.text() };
    } catch (e) {
      return { status: null, body: `${e.name}: ${e.message}` };
    }
  }, { url: `${state.apiUrl}${API_PATH}`, token });

  await step('tampered token (one signature character flipped): 401 readable by the page', async () => {
    const [h, p, s] = state.token.split('.');
    const i = 10; // inside the signature, away from base64url's padding bits at the end
    const tampered = `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    const before = state.authorizer.invocations;
    const r = await fetchFromPage(tampered);
    check(r.status === 401, `got ${r.status} ${r.body} (null: the browser refused the answer, e.g. no CORS header on the gateway response)`);
    const refusalLine = () => (existsSync(path.join(OUT, 'authorizer.log'))
      ? readFileSync(path.join(OUT, 'authorizer.log'), 'utf8').trim().split('\n').filter((l) => l.includes('Unauthorized')).at(-1) ?? ''
      : '');
    // gen dev's request line and the function's log line may come just after the answer.
    await until(() => state.authorizer.invocations === before + 1 && refusalLine().includes('InvalidSignature'), 3000);
    check(state.authorizer.invocations === before + 1, 'the authorizer was not invoked');
    const refusal = refusalLine();
    check(refusal.includes('InvalidSignature'), `the authorizer logged ${JSON.stringify(refusal)}, expected InvalidSignature`);
    return `401 ${r.body}; authorizer: ${refusal.replace(/^.*Unauthorized: /, 'Unauthorized: ')}`;
  });

  await step('no token: 401 from the gateway, the authorizer not invoked', async () => {
    const before = state.authorizer.invocations;
    const r = await fetchFromPage(null);
    check(r.status === 401, `got ${r.status} ${r.body}`);
    check(state.authorizer.invocations === before, 'the authorizer was invoked');
    return `401 ${r.body}`;
  });

  await step('reload: still signed in (silent authentication), the API still answers', async () => {
    await page.evaluate(() => {
      window.siteE2eBeforeReload = true;
    });
    await page.reload({ timeout: left() });
    check(!(await page.evaluate(() => window.siteE2eBeforeReload === true)), 'the page did not reload');
    await page.locator('body[data-auth-state="in"], body[data-auth-state="out"]').waitFor({ state: 'attached', timeout: left() });
    check((await authState()) === 'in', `data-auth-state is ${JSON.stringify(await authState())} after the reload`);
    const name = (await page.textContent('#profile-name')).trim();
    check(name === USER.name, `#profile-name is ${JSON.stringify(name)}`);
    const tokensBefore = state.tokens.length;
    const { text, call } = await callApi();
    await profileStored(JSON.parse(text), call);
    const again = state.tokens.slice(tokensBefore).at(-1);
    return `name "${name}"; API 200${again && again !== state.token ? ' with a new access token' : ''}, the stored profile read back`;
  });

  await step('Sign out: back on the site, signed out', async () => {
    // Through the provider's /v2/logout (returnTo) and back to the site.
    await Promise.all([
      page.waitForRequest((r) => r.url().startsWith(`${state.provider.origin}/v2/logout`), { timeout: left() }),
      page.click('#btn-logout', { timeout: left() }),
    ]);
    await page.waitForURL((u) => u.origin === state.siteOrigin, { timeout: left() });
    await waitAuthState('out');
    check(await visible('#btn-login'), '#btn-login (Sign in) is not visible');
    check(!(await visible('#profile')), '#profile is still visible');
    check(!(await visible('#btn-logout')), '#btn-logout is still visible');
    await page.screenshot({ path: path.join(OUT, 'signed-out.png'), timeout: left() });
    const ended = readFileSync(path.join(OUT, 'provider.log'), 'utf8').includes('POST /v2/logout/confirm');
    check(ended, 'the provider saw no logout confirmation (POST /v2/logout/confirm)');
    return `data-auth-state="out" at ${page.url()}`;
  });

  await step('Sign in again: the provider asks for the password (its session ended)', async () => {
    await page.click('#btn-login', { timeout: left() });
    await page.locator('#login-form, body[data-auth-state="in"]').first().waitFor({ state: 'attached', timeout: left() });
    check(await page.locator('#login-form').count() === 1, `signed straight back in (${page.url()}): the provider's session survived Sign out`);
    return 'login form shown';
  });

  if (opts.dev) {
    const handler = path.join(OUT, 'project/functions/user-profile/src/handler.rs');
    const newAnswer = (body) => {
      try {
        return JSON.parse(body).greeting === GREETING;
      } catch {
        return false;
      }
    };
    await step('edit user-profile\'s handler.rs: gen dev rebuilds it, the API answers with the new field', async () => {
      const src = readFileSync(handler, 'utf8');
      const anchor = '"caller": caller(&request),';
      check(src.includes(anchor), `${handler} has no ${anchor} line to add a field after`);
      const { dev } = state;
      const mark = dev.lines.length;
      const pause = Date.now();
      const edited = performance.now();
      writeFileSync(handler, src.replace(anchor, `${anchor}\n        "greeting": ${JSON.stringify(GREETING)},`));
      // The old binary answers until the new one is built: poll the API (no browser: the page is
      // on the provider's login form) with the token from the first Call API, every 100 ms.
      let answer = null;
      let last = '';
      const poll = (async () => {
        while (!answer && performance.now() - edited < DEV_REBUILD_TIMEOUT_MS) {
          try {
            const r = await fetch(`${state.apiUrl}${API_PATH}`, { headers: { Authorization: `Bearer ${state.token}` }, signal: AbortSignal.timeout(5000) });
            const body = await r.text();
            last = `${r.status} ${body.slice(0, 200)}`;
            if (r.status === 200 && newAnswer(body)) answer = { at: performance.now(), body };
          } catch (err) {
            last = err.cause?.code ?? err.message;
          }
          if (!answer) await new Promise((r) => setTimeout(r, 100)); // polling the API for the new code
        }
      })();
      try {
        const building = await devLine((l) => l.stream === 'err' && /: building .*\buser-profile\b/.test(l.text), mark,
          DEV_REBUILD_TIMEOUT_MS, 'a `source changed: building user-profile` line after the edit');
        const built = await devLine((l) => l.stream === 'err' && /^(built in |error: |gen dev: still serving)/.test(l.text),
          mark, DEV_REBUILD_TIMEOUT_MS, 'a `built in` line after the edit');
        check(built.text.startsWith('built in '), `the rebuild failed: ${built.text}\n       ${tail('gen-dev.log', 15)}`);
        await poll;
        check(answer, `the API never answered with "greeting" within ${DEV_REBUILD_TIMEOUT_MS / 1000} s of the edit (last: ${last})`);
        state.editSeconds = (answer.at - edited) / 1000;
        return `"${building.text}" -> "${built.text}" ${((built.at - edited) / 1000).toFixed(1)} s after the edit; `
          + `edit -> new answer ${state.editSeconds.toFixed(1)} s: ${answer.body}`;
      } finally {
        answer ??= { at: performance.now(), body: null }; // ends the poll on a failure
        await poll;
        deadline.at += Date.now() - pause; // the rebuild has its own bound
      }
    });

    await step('sign in again, Call API: the page shows the new field from the rebuilt user-profile', async () => {
      await page.fill('#login', USER.email, { timeout: left() });
      await page.fill('#password', USER.password, { timeout: left() });
      await page.click('#submit', { timeout: left() });
      await page.waitForURL((u) => u.origin === state.siteOrigin, { timeout: left() });
      await waitAuthState('in');
      const { text, call } = await callApi();
      const body = JSON.parse(text);
      check(body.greeting === GREETING, `greeting is ${JSON.stringify(body.greeting)}, expected ${JSON.stringify(GREETING)}: ${text}`);
      check(body.caller === USER.id, `caller is ${JSON.stringify(body.caller)}`);
      const stored = await profileStored(body, call);
      return `200 ${JSON.stringify(body)}; ${stored}`;
    });

    await step('Ctrl-C: SIGINT to gen dev, exit 0 within 15 s, `gen dev: stopped`, none of its children left', async () => {
      const { dev } = state;
      recordDevChildren();
      const recorded = [...dev.recorded.values()];
      check(recorded.length > 0, `no child process of gen dev (PID ${dev.proc.pid}) was ever seen in /proc/*/task/*/children`);
      const liveBefore = recorded.filter(stillAlive);
      const mark = dev.lines.length;
      const sent = performance.now();
      process.kill(dev.proc.pid, 'SIGINT');
      const exit = await Promise.race([dev.exited, new Promise((r) => setTimeout(() => r(null), DEV_STOP_TIMEOUT_MS))]);
      check(exit, `gen dev (PID ${dev.proc.pid}) still running ${DEV_STOP_TIMEOUT_MS / 1000} s after SIGINT`);
      // Its last lines may still be in the pipes.
      await until(() => dev.lines.slice(mark).some((l) => l.text.startsWith('gen dev: stopped')), 2000);
      check(exit.code === 0, `gen dev exited with ${exit.code ?? exit.signal ?? exit.error?.message} after SIGINT, expected 0`);
      const stopped = dev.lines.slice(mark).find((l) => l.text.startsWith('gen dev: stopped'));
      check(stopped, `no \`gen dev: stopped\` line after SIGINT: ${JSON.stringify(dev.lines.slice(mark).map((l) => l.text))}`);
      const lingering = recorded.filter(stillAlive);
      check(lingering.length === 0, `still running after gen dev exited: ${lingering.map((r) => `${r.pid} (${r.comm})`).join(', ')}`);
      const names = {};
      for (const r of recorded) names[r.comm] = (names[r.comm] ?? 0) + 1;
      return `exit 0 ${((exit.at - sent) / 1000).toFixed(2)} s after SIGINT; "${stopped.text}" (${stopped.stream}); `
        + `${recorded.length} descendant(s) recorded (${Object.entries(names).map(([n, c]) => `${n} x${c}`).join(', ')}), `
        + `${liveBefore.length} running at SIGINT, none left`;
    });
  }

  if (opts.deployed) {
    await step('index.html was always served with no-cache', async () => {
      const pages = state.served.filter((r) => r.key === 'index.html' && r.method === 'GET');
      check(pages.length >= 3, `index.html was served ${pages.length} time(s): expected the first visit, the sign-in callback and the reload`);
      const cached = pages.filter((r) => !directives(r.cacheControl).includes('no-cache'));
      check(cached.length === 0, `served without no-cache: ${JSON.stringify(cached)}`);
      const wrong = state.served.filter((r) => r.status === 200 && r.key !== null
        && (r.contentType ?? '') !== (state.objects.get(r.key)?.ContentType ?? 'binary/octet-stream'));
      check(wrong.length === 0, `served with another Content-Type than stored: ${JSON.stringify(wrong)}`);
      // The browser asks for /favicon.ico by itself: a 404 there is the site having none.
      const favicon = state.served.filter((r) => r.key === 'favicon.ico' && r.status !== 200);
      const missing = state.served.filter((r) => r.status !== 200 && !r.path.startsWith('/no/such/') && !favicon.includes(r));
      check(missing.length === 0, `the page asked for what the bucket does not have: ${JSON.stringify(missing)}`);
      return `${pages.length} time(s) (${[...new Set(pages.map((r) => r.cacheControl))].join(', ')}); `
        + `${state.served.length} response(s) in all${favicon.length ? `; the browser's own /favicon.ico: ${favicon[0].status} `
        + `x${favicon.length} (the bucket has none)` : ''}`;
    });

    await step('no Content Security Policy violation', async () => {
      check(state.cspViolations.length === 0, state.cspViolations.join('\n       '));
      return `CSP ${JSON.stringify(state.headers['content-security-policy'])}`;
    });
  }

  await step('no uncaught errors in the page', async () => {
    check(state.pageErrors.length === 0, state.pageErrors.join(' | '));
    const n = readFileSync(path.join(OUT, 'browser-console.log'), 'utf8').split('\n').filter((l) => l.includes('[error]')).length;
    return `${n} console error line(s) (expected: the wrong password's 401, silent-auth noise), see ${path.relative(process.cwd(), path.join(OUT, 'browser-console.log'))}`;
  });
}

const started = Date.now();
let timer;
try {
  await Promise.race([
    main(),
    new Promise((_, reject) => {
      // The install has its own limit; this catches a hang anywhere else.
      const limit = INSTALL_TIMEOUT_MS + BUDGET_MS + (opts.dev ? DEV_READY_TIMEOUT_MS + DEV_REBUILD_TIMEOUT_MS + DEV_STOP_TIMEOUT_MS : 0);
      timer = setTimeout(() => reject(new Error(`overall time limit (${Math.round(limit / 60_000)} min) reached`)), limit);
    }),
  ]);
} catch (err) {
  failed += 1;
  console.log(`FAIL - harness: ${err.stack ?? err}`);
} finally {
  clearTimeout(timer);
  await cleanup();
}
if (providerWarnings) console.log(`(${providerWarnings} oidc-provider warning(s), e.g. unsupported runtime on node 20: see provider.log)`);
console.log(`${((Date.now() - started) / 1000).toFixed(1)} s in all`);
console.log(`site_e2e: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
