// DynamoDB for the site e2e: tests/moto_server.py on a free loopback port (started and stopped
// by PID), the template's tables created in it, and items read back, through DynamoDB's JSON
// protocol (moto does not check signatures; the credential scope names the region).
//
// user-profile reads and writes its `profiles` table on every signed-in call: the functions the
// e2e runs get AWS_ENDPOINT_URL (the stand-in) and test credentials, as a user of `gen dev`
// would give them for a local stand-in.
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import path from 'node:path';

export const REGION = 'us-east-1';
export const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
const START_TIMEOUT_MS = 60_000;

// tests/moto_server.py under `python` (target/venv's) on 127.0.0.1:`port`, its output in
// `logPath`; resolves once /moto-api/data.json answers 200. `stop()` ends it by PID.
export async function startMoto({ python, root, port, logPath }) {
  if (!existsSync(python)) {
    throw new Error(`${python} is missing (tests/run's "tools" step makes target/venv with moto)`);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const log = openSync(logPath, 'a');
  const proc = spawn(python, [path.join(root, 'tests/moto_server.py'), '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', log, log],
    env: { ...process.env, ...CREDENTIALS, AWS_DEFAULT_REGION: REGION },
  });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    try {
      process.kill(proc.pid, 'SIGTERM');
    } catch {
      return; // gone
    }
    const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 5000))]);
    if (done === null) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  const until = Date.now() + START_TIMEOUT_MS;
  let last = '';
  while (Date.now() < until) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`moto_server exited (${proc.exitCode ?? proc.signalCode}) before answering: see ${logPath}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { endpoint, pid: proc.pid, stop };
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, 100)); // polling a port
  }
  await stop();
  throw new Error(`moto_server did not answer within ${START_TIMEOUT_MS / 1000} s (last: ${last}): see ${logPath}`);
}

// One DynamoDB API call; the answer's JSON, or an Error naming the call and DynamoDB's error.
export async function call(endpoint, action, input) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `DynamoDB_20120810.${action}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/dynamodb/aws4_request, `
        + 'SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`DynamoDB ${action}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

// The CreateTable inputs of the template's AWS::DynamoDB::Table resources, by logical ID (sorted).
// Only what shapes items and keys; encryption, PITR and tags are the deploy e2e's to check.
export function tablesOf(template) {
  const tables = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const p = resource.Properties ?? {};
    if (typeof p.TableName !== 'string') {
      throw new Error(`${id}: TableName is ${JSON.stringify(p.TableName)}, expected a string (one place makes physical names)`);
    }
    const input = {
      TableName: p.TableName,
      KeySchema: p.KeySchema,
      AttributeDefinitions: p.AttributeDefinitions,
      BillingMode: p.BillingMode ?? 'PROVISIONED',
    };
    if (input.BillingMode === 'PROVISIONED') input.ProvisionedThroughput = p.ProvisionedThroughput;
    if (p.GlobalSecondaryIndexes) {
      input.GlobalSecondaryIndexes = p.GlobalSecondaryIndexes.map(({ IndexName, KeySchema, Projection, ProvisionedThroughput }) => (
        { IndexName, KeySchema, Projection, ...(ProvisionedThroughput ? { ProvisionedThroughput } : {}) }));
    }
    if (p.StreamSpecification?.StreamViewType) {
      input.StreamSpecification = { StreamEnabled: true, StreamViewType: p.StreamSpecification.StreamViewType };
    }
    tables.push({ id, input });
  }
  return tables;
}

// The template's tables created in the stand-in; their names.
export async function createTables(endpoint, template) {
  const names = [];
  for (const { input } of tablesOf(template)) {
    const { TableDescription } = await call(endpoint, 'CreateTable', input);
    if (TableDescription?.TableName !== input.TableName) {
      throw new Error(`CreateTable ${input.TableName}: answered ${JSON.stringify(TableDescription).slice(0, 300)}`);
    }
    names.push(input.TableName);
  }
  return names;
}

// Every item of `table` (one Scan page: the e2e writes a handful).
export async function items(endpoint, table) {
  const { Items } = await call(endpoint, 'Scan', { TableName: table, ConsistentRead: true });
  return Items ?? [];
}

// The environment variables of the template's Lambda function `logicalIdPrefix*` that name one
// of its tables (the function reads them as its table names).
export function tableVariables(template, logicalIdPrefix) {
  const names = new Set(tablesOf(template).map((t) => t.input.TableName));
  const fns = Object.entries(template.Resources ?? {})
    .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(logicalIdPrefix));
  if (fns.length !== 1) throw new Error(`expected one AWS::Lambda::Function ${logicalIdPrefix}*, found ${fns.length}`);
  const vars = fns[0][1].Properties?.Environment?.Variables ?? {};
  return Object.fromEntries(Object.entries(vars).filter(([, v]) => typeof v === 'string' && names.has(v)));
}
