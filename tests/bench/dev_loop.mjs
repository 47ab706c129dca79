#!/usr/bin/env node
// Benchmark of `gen dev`'s loop (issue 16), not a timed test: how long until the API answers
// after `gen dev` starts, and after a handler edit.
//
// Usage: node tests/bench/dev_loop.mjs [--gen target/release/gen] [--project output]
//                                      [--cargo-target target/functions] [--reps 3]
//                                      [--lock FILE] [--out target/bench-dev-loop]
//   e.g. after tests/run (or its "build" and "functions" steps):
//        node tests/bench/dev_loop.mjs --gen target/release/gen
//
// The project (default output/) is copied to OUT/project (its gen.yaml's api.cors_origin and
// site.port on a free port). A JWKS server of its own on 127.0.0.1 publishes an RSA key; an RS256
// token signed with it (node's crypto) is what the authorizer accepts, through
// `--env authorizer:AUTH_ISSUER=... AUTH_JWKS_URL=... AUTH_AUDIENCE=...`. gen dev runs with
// CARGO_TARGET_DIR=--cargo-target (default target/functions: the dir tests/run's "functions" step
// warms, so the debug builds are incremental; --lock copies a Cargo.lock into the copy's
// functions/, e.g. the one that step resolved, for the same crate versions). No node_modules needed.
//
// One warm-up run first (the fresh copy's own crates compile once into the target dir; reported,
// not counted), then --reps runs, each:
//   (a) start -> first answer: spawn `gen dev --port 0`, then GET API/user-profile with the token
//       every 50 ms from its `gen dev: ready` line on, until 200 (also: spawn -> ready line)
//   (b) edit -> new answer: user-profile/src/handler.rs given a new JSON field value, then the API
//       polled every 50 ms until it answers with it (also: gen dev's own `built in X s`)
//   then SIGINT, and the exit awaited (15 s).
// Each run's gen dev output is in OUT/gen-dev-N.log. Prints a table with the median and max of
// the counted runs, against the issue's goals: start -> first answer (warm) <= 3 s, edit -> new
// answer <= 5 s. Exits non-zero only when a run fails (no answer, gen dev died), never on a
// missed goal.
import { spawn } from 'node:child_process';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const READY_TIMEOUT_MS = 600_000; // a cold debug build
const ANSWER_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;
const POLL_MS = 50;
const AUDIENCE = 'https://api.dev-loop-bench.example';
const SUB = 'auth0|dev-loop-bench';
const GOALS = { first: 3, edit: 5 };

function parseArgs(argv) {
  const opts = {
    gen: path.join(ROOT, 'target/release/gen'),
    project: path.join(ROOT, 'output'),
    'cargo-target': path.join(ROOT, 'target/functions'),
    reps: '3',
    out: path.join(ROOT, 'target/bench-dev-loop'),
    lock: null,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(key in opts) || i + 1 >= argv.length) {
      console.error('usage: node tests/bench/dev_loop.mjs [--gen GEN] [--project DIR] [--cargo-target DIR] [--lock FILE] [--reps N] [--out DIR]');
      process.exit(2);
    }
    opts[key] = key === 'reps' ? argv[(i += 1)] : path.resolve(argv[(i += 1)]);
  }
  opts.reps = Number(opts.reps);
  if (!Number.isInteger(opts.reps) || opts.reps < 1) {
    console.error('--reps: a positive integer');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const OUT = opts.out;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

// OUT/project: the project without node_modules, vendor/ or a cargo target; gen.yaml's CORS
// origin and site port on a free port (8100 may be taken).
async function copyProject() {
  const src = opts.project;
  const dest = path.join(OUT, 'project');
  for (const f of ['gen.yaml', '.gen', 'functions/user-profile/src/handler.rs']) {
    if (!existsSync(path.join(src, f))) throw new Error(`${src}/${f} is missing (is it a generated project?)`);
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
  const manifest = path.join(dest, 'gen.yaml');
  let section = null;
  const seen = new Set();
  const lines = readFileSync(manifest, 'utf8').split('\n').map((line) => {
    const top = /^([A-Za-z_][\w-]*):/.exec(line);
    if (top) section = top[1];
    const field = /^( {2}([a-z_]+):[ \t]*)(.*)$/.exec(line);
    const key = field && `${section}.${field[2]}`;
    if (key === 'api.cors_origin') {
      seen.add(key);
      return `${field[1]}http://127.0.0.1:${port}`;
    }
    if (key === 'site.port') {
      seen.add(key);
      return `${field[1]}${port}`;
    }
    return line;
  });
  for (const key of ['api.cors_origin', 'site.port']) {
    if (!seen.has(key)) throw new Error(`${manifest} has no ${key}`);
  }
  writeFileSync(manifest, lines.join('\n'));
  if (opts.lock) cpSync(opts.lock, path.join(dest, 'functions/Cargo.lock'));
  return dest;
}

// A JWKS server with one RSA key, and an RS256 token signed with it.
async function startIssuer() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'dev-loop-bench-1';
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  const server = http.createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const issuer = `${origin}/`;
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({
    iss: issuer, aud: AUDIENCE, sub: SUB, iat: now, exp: now + 4 * 3600, scope: 'openid',
  })}`;
  const token = `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
  return { issuer, jwksUrl: `${origin}/.well-known/jwks.json`, token, close: () => new Promise((r) => server.close(r)) };
}

let current = null; // the running gen dev, stopped by PID whatever happens

function startDev(project, issuer, n) {
  const args = ['dev', '--manifest', path.join(project, 'gen.yaml'), '--port', '0',
    '--env', `authorizer:AUTH_ISSUER=${issuer.issuer}`, '--env', `authorizer:AUTH_JWKS_URL=${issuer.jwksUrl}`,
    '--env', `authorizer:AUTH_AUDIENCE=${AUDIENCE}`];
  const log = path.join(OUT, `gen-dev-${n}.log`);
  writeFileSync(log, `$ CARGO_TARGET_DIR=${opts['cargo-target']} ${opts.gen} ${args.join(' ')}\n`);
  const spawned = performance.now();
  const proc = spawn(opts.gen, args, {
    cwd: project,
    env: { ...process.env, CARGO_TARGET_DIR: opts['cargo-target'] },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const dev = { proc, spawned, lines: [], log };
  dev.exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  for (const [stream, pipe] of [['out', proc.stdout], ['err', proc.stderr]]) {
    let buf = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        dev.lines.push({ stream, text, at: performance.now() });
        appendFileSync(log, `${stream} ${text}\n`);
      }
    });
  }
  current = dev;
  return dev;
}

const running = (dev) => dev.proc.exitCode === null && dev.proc.signalCode === null;

async function waitLine(dev, pred, from, ms, what) {
  const end = performance.now() + ms;
  for (;;) {
    const hit = dev.lines.slice(from).find(pred);
    if (hit) return hit;
    if (!running(dev)) throw new Error(`gen dev exited (${dev.proc.exitCode ?? dev.proc.signalCode}) before ${what}: see ${dev.log}`);
    if (performance.now() > end) throw new Error(`no ${what} within ${ms / 1000} s: see ${dev.log}`);
    await sleep(POLL_MS);
  }
}

// Polls GET url every 50 ms until `ok(status, body)`; returns the time it held.
async function pollApi(dev, url, token, ok, what) {
  const end = performance.now() + ANSWER_TIMEOUT_MS;
  let last = '';
  for (;;) {
    const sent = performance.now();
    try {
      const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
      const body = await r.text();
      if (ok(r.status, body)) return performance.now();
      last = `${r.status} ${body.slice(0, 160)}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (!running(dev)) throw new Error(`gen dev exited before ${what}: see ${dev.log}`);
    if (performance.now() > end) throw new Error(`no ${what} within ${ANSWER_TIMEOUT_MS / 1000} s (last: ${last})`);
    await sleep(Math.max(0, POLL_MS - (performance.now() - sent)));
  }
}

async function stopDev(dev) {
  if (running(dev)) process.kill(dev.proc.pid, 'SIGINT');
  const exit = await Promise.race([dev.exited, sleep(STOP_TIMEOUT_MS).then(() => null)]);
  if (!exit) {
    process.kill(dev.proc.pid, 'SIGKILL');
    await dev.exited;
    throw new Error(`gen dev still running ${STOP_TIMEOUT_MS / 1000} s after SIGINT (killed): see ${dev.log}`);
  }
  current = null;
  return exit;
}

const ANCHOR = '"caller": caller(&request),';

// Gives the handler's `"bench"` field a new value (added after the caller on the first edit).
function editHandler(project, value) {
  const file = path.join(project, 'functions/user-profile/src/handler.rs');
  const src = readFileSync(file, 'utf8');
  const line = `        "bench": ${JSON.stringify(value)},`;
  let next;
  if (/^\s*"bench": ".*",$/m.test(src)) next = src.replace(/^\s*"bench": ".*",$/m, line);
  else if (src.includes(ANCHOR)) next = src.replace(ANCHOR, `${ANCHOR}\n${line}`);
  else throw new Error(`${file} has no ${ANCHOR} line to add a field after`);
  writeFileSync(file, next);
}

async function run(project, issuer, n) {
  const dev = startDev(project, issuer, n);
  const ready = await waitLine(dev, (l) => l.stream === 'out' && l.text.startsWith('gen dev: ready'), 0, READY_TIMEOUT_MS, '`gen dev: ready`');
  const api = await waitLine(dev, (l) => l.stream === 'out' && /^\s+API\s+\S+/.test(l.text), 0, 5000, 'the `API` line');
  const url = `${/^\s+API\s+(\S+)/.exec(api.text)[1]}/user-profile`;
  const first = await pollApi(dev, url, issuer.token, (status) => status === 200, 'a first 200 from the API');
  const value = `run ${n} ${Date.now()}`;
  const mark = dev.lines.length;
  const edited = performance.now();
  editHandler(project, value);
  const answered = await pollApi(dev, url, issuer.token, (status, body) => {
    try {
      return status === 200 && JSON.parse(body).bench === value;
    } catch {
      return false;
    }
  }, 'the new code\'s answer');
  const built = dev.lines.slice(mark).find((l) => /^built in /.test(l.text));
  const exit = await stopDev(dev);
  return {
    ready: (ready.at - dev.spawned) / 1000,
    first: (first - dev.spawned) / 1000,
    edit: (answered - edited) / 1000,
    built: built ? Number(/^built in ([\d.]+) s/.exec(built.text)?.[1]) : NaN,
    readyLine: ready.text,
    exit: exit.code ?? exit.signal,
  };
}

const fmt = (s) => (Number.isFinite(s) ? `${s.toFixed(2)} s` : '-');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (!existsSync(opts.gen)) throw new Error(`${opts.gen} is missing (cargo build --release builds target/release/gen)`);
  mkdirSync(OUT, { recursive: true });
  const project = await copyProject();
  const issuer = await startIssuer();
  console.log(`dev_loop: ${opts.gen} on a copy of ${path.relative(ROOT, opts.project) || '.'} in ${path.relative(ROOT, project)}; `
    + `CARGO_TARGET_DIR=${opts['cargo-target']}; ${opts.reps} run(s) after a warm-up`);
  const rows = [];
  try {
    for (let n = 0; n <= opts.reps; n += 1) {
      const r = await run(project, issuer, n);
      rows.push(r);
      console.log(`${n === 0 ? 'warm-up' : `run ${n}`}: ready ${fmt(r.ready)}, first answer ${fmt(r.first)}, `
        + `edit -> new answer ${fmt(r.edit)} (gen dev: built in ${fmt(r.built)}); "${r.readyLine}"; exit ${r.exit}`);
    }
  } finally {
    if (current) await stopDev(current).catch((err) => console.error(`dev_loop: ${err.message}`));
    await issuer.close();
  }
  const counted = rows.slice(1);
  const col = (k) => counted.map((r) => r[k]);
  const head = ['', 'start -> ready', 'start -> first answer', 'edit -> new answer', 'gen dev "built in"'];
  const table = [head,
    ['warm-up', ...['ready', 'first', 'edit', 'built'].map((k) => fmt(rows[0][k]))],
    ...counted.map((r, i) => [`run ${i + 1}`, ...['ready', 'first', 'edit', 'built'].map((k) => fmt(r[k]))]),
    ['median', ...['ready', 'first', 'edit', 'built'].map((k) => fmt(median(col(k))))],
    ['max', ...['ready', 'first', 'edit', 'built'].map((k) => fmt(Math.max(...col(k))))],
    ['goal', '', `<= ${GOALS.first} s`, `<= ${GOALS.edit} s`, '']];
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log();
  for (const row of table) console.log(row.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '));
  const verdict = (k, goal) => (Math.max(...col(k)) <= goal ? 'met' : 'MISSED');
  console.log(`\nstart -> first answer (warm) <= ${GOALS.first} s: ${verdict('first', GOALS.first)} (max); `
    + `edit -> new answer <= ${GOALS.edit} s: ${verdict('edit', GOALS.edit)} (max)`);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    if (current && running(current)) {
      process.kill(current.proc.pid, 'SIGINT');
      await Promise.race([current.exited, sleep(STOP_TIMEOUT_MS)]);
      if (running(current)) process.kill(current.proc.pid, 'SIGKILL');
    }
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

try {
  await main();
} catch (err) {
  console.error(`dev_loop: FAIL: ${err.message}`);
  process.exit(1);
}
