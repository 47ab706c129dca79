// A local stand-in for API Gateway (REST API, Lambda proxy integration, TOKEN authorizer) that
// drives the REAL release `bootstrap` binaries, each behind its own loopback Lambda Runtime API
// (the approach of tests/authorizer_interop.py, in node).
//
// GET /user-profile:
//   1. the Authorization header must match the authorizer's IdentityValidationExpression from
//      the generated template, else 401 without invoking it (as API Gateway does)
//   2. the authorizer bootstrap gets a TOKEN event; error `Unauthorized` -> 401, Deny -> 403,
//      anything else unexpected -> 500
//   3. Allow -> the user-profile bootstrap gets a REST proxy event whose requestContext.authorizer
//      holds the Allow's context (+ principalId); its statusCode/headers/body are returned
// OPTIONS /user-profile: the MOCK integration's CORS headers from the template.
// Gateway errors (4XX/5XX) carry the DEFAULT_4XX/5XX GatewayResponse headers from the template.
// Not modelled: the authorizer result cache (every call invokes the authorizer), stage
// variables, throttling.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const INVOKE_TIMEOUT_MS = 10_000; // the authorizer's JWKS fetch gives up after 3 s

/** A minimal Lambda Runtime API for one function: one event at a time, answers by request id. */
class RuntimeApi {
  constructor(functionArn) {
    this.functionArn = functionArn;
    this.queue = []; // [requestId, event]
    this.waiting = []; // parked GET /next responses
    this.pending = new Map(); // requestId -> {resolve, reject, timer}
    this.initError = null;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async listen() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.address = `127.0.0.1:${this.server.address().port}`;
  }

  handle(req, res) {
    const parts = req.url.split('?')[0].split('/').filter(Boolean);
    // 2018-06-01/runtime/invocation/next | 2018-06-01/runtime/invocation/{id}/response|error
    // | 2018-06-01/runtime/init/error
    if (req.method === 'GET' && parts.join('/') === '2018-06-01/runtime/invocation/next') {
      // Long poll, as Lambda does; closed at stop().
      this.waiting.push(res);
      req.on('close', () => {
        this.waiting = this.waiting.filter((r) => r !== res);
      });
      this.dispatch();
      return;
    }
    if (req.method === 'POST') {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let data;
        try {
          data = raw ? JSON.parse(raw) : null;
        } catch {
          data = raw;
        }
        if (parts.slice(2, 4).join('/') === 'init/error') {
          this.initError = data;
          for (const p of this.pending.values()) p.reject(new Error(`init error: ${JSON.stringify(data)}`));
        } else if (parts.length === 5 && parts[2] === 'invocation' && (parts[4] === 'response' || parts[4] === 'error')) {
          const p = this.pending.get(parts[3]);
          if (p) p.resolve({ kind: parts[4], body: data });
        } else {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(202, { 'content-length': '0' }).end();
      });
      return;
    }
    res.writeHead(404).end();
  }

  dispatch() {
    while (this.queue.length && this.waiting.length) {
      const res = this.waiting.shift();
      const [requestId, event] = this.queue.shift();
      const body = Buffer.from(JSON.stringify(event));
      res.writeHead(200, {
        'Lambda-Runtime-Aws-Request-Id': requestId,
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + 30_000),
        'Lambda-Runtime-Invoked-Function-Arn': this.functionArn,
        'Lambda-Runtime-Trace-Id': 'Root=1-00000000-000000000000000000000000;Sampled=0',
        'content-type': 'application/json',
        'content-length': String(body.length),
      });
      res.end(body);
    }
  }

  invoke(event, exited) {
    const requestId = randomUUID();
    return new Promise((resolve, reject) => {
      if (this.initError) {
        reject(new Error(`init error: ${JSON.stringify(this.initError)}`));
        return;
      }
      const done = (fn) => (value) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        fn(value);
      };
      const timer = setTimeout(
        done(reject).bind(null, new Error(`no answer within ${INVOKE_TIMEOUT_MS / 1000} s`)),
        INVOKE_TIMEOUT_MS,
      );
      this.pending.set(requestId, { resolve: done(resolve), reject: done(reject) });
      exited.then((status) => done(reject)(new Error(`bootstrap exited (${status})`)));
      this.queue.push([requestId, event]);
      this.dispatch();
    });
  }

  async stop() {
    for (const res of this.waiting) res.destroy();
    this.waiting = [];
    await new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** One bootstrap process with its Runtime API; logs to `logPath`. */
export class LambdaFunction {
  constructor({ name, binary, env, logPath }) {
    this.name = name;
    this.binary = binary;
    this.env = env;
    this.logPath = logPath;
    this.invocations = 0;
  }

  async start() {
    const arn = `arn:aws:lambda:us-east-1:123456789012:function:${this.name}`;
    this.runtime = new RuntimeApi(arn);
    await this.runtime.listen();
    const fd = openSync(this.logPath, 'w');
    try {
      this.proc = spawn(this.binary, [], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          AWS_LAMBDA_RUNTIME_API: this.runtime.address,
          AWS_LAMBDA_FUNCTION_NAME: this.name,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_REGION: 'us-east-1',
          AWS_DEFAULT_REGION: 'us-east-1',
          ...this.env,
        },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve(signal ?? `status ${code}`));
      this.proc.once('error', (err) => resolve(`spawn error: ${err.message}`));
    });
  }

  invoke(event) {
    this.invocations += 1;
    return this.runtime.invoke(event, this.exited);
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    if (this.runtime) await this.runtime.stop();
  }
}

/**
 * Reads what the local API needs from the generated template: the authorizer's identity
 * validation expression, the OPTIONS method's CORS headers and the gateway responses' headers.
 * Header values are the template's literals ('...'), the CORS origin replaced by `siteOrigin`.
 */
export function gatewayFromTemplate(template, { path, siteOrigin }) {
  const resources = Object.values(template.Resources ?? {});
  const literal = (v) => (typeof v === 'string' && /^'.*'$/.test(v) ? v.slice(1, -1) : null);
  const authorizer = resources.find((r) => r.Type === 'AWS::ApiGateway::Authorizer');
  const pathPart = path.replace(/^\//, '');
  const resourceIds = Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::ApiGateway::Resource' && r.Properties?.PathPart === pathPart)
    .map(([id]) => id);
  const methods = resources.filter(
    (r) => r.Type === 'AWS::ApiGateway::Method' && resourceIds.includes(r.Properties?.ResourceId?.Ref),
  );
  const options = methods.find((m) => m.Properties.HttpMethod === 'OPTIONS');
  const get = methods.find((m) => m.Properties.HttpMethod === 'GET');
  const origins = new Set();
  const headersOf = (params, prefix) => {
    const out = {};
    for (const [k, v] of Object.entries(params ?? {})) {
      const value = literal(v);
      if (k.startsWith(prefix) && /^method\.request\.header\.origin$/i.test(v)) {
        // API Gateway maps the request's own Origin header into the answer.
        out[k.slice(prefix.length).toLowerCase()] = { echo: 'any' };
        continue;
      }
      if (!k.startsWith(prefix) || value === null) continue;
      const name = k.slice(prefix.length).toLowerCase();
      if (name === 'access-control-allow-origin') {
        origins.add(value);
        out[name] = siteOrigin;
      } else {
        out[name] = value;
      }
    }
    return out;
  };
  const ir = options?.Properties?.Integration?.IntegrationResponses?.[0];
  // Several origins: the preflight's mapping template answers the caller's Origin when it is
  // one of `$origin == "..."` (Fn::Sub text), via $context.responseOverride. Locally the one
  // allowed origin is the site's.
  const preflightHeaders = headersOf(ir?.ResponseParameters, 'method.response.header.');
  const vtl = ir?.ResponseTemplates?.['application/json'];
  const vtlText = typeof vtl === 'string' ? vtl : vtl?.['Fn::Sub'];
  if (typeof vtlText === 'string' && vtlText.includes('responseOverride.header.Access-Control-Allow-Origin')) {
    for (const m of vtlText.matchAll(/\$origin == "([^"]*)"/g)) origins.add(m[1]);
    preflightHeaders['access-control-allow-origin'] = { echo: [siteOrigin] };
  }
  const gatewayResponses = {};
  for (const r of resources.filter((r) => r.Type === 'AWS::ApiGateway::GatewayResponse')) {
    gatewayResponses[r.Properties.ResponseType] = headersOf(r.Properties.ResponseParameters, 'gatewayresponse.header.');
  }
  return {
    hasGet: Boolean(get),
    getAuthorization: get?.Properties?.AuthorizationType ?? null,
    identityValidation: authorizer?.Properties?.IdentityValidationExpression
      ? new RegExp(authorizer.Properties.IdentityValidationExpression)
      : null,
    preflight: options ? { status: Number(ir?.StatusCode ?? 200), headers: preflightHeaders } : null,
    gatewayResponses,
    templateOrigins: [...origins],
  };
}

/** The REST proxy event API Gateway sends the integration after an Allow. */
function proxyEvent(req, url, path, authorizerContext) {
  const headers = {};
  const multi = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const [k, v] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
    headers[k] = v;
    (multi[k] ??= []).push(v);
  }
  const query = url.searchParams.size ? Object.fromEntries(url.searchParams) : null;
  const multiQuery = url.searchParams.size
    ? Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)]))
    : null;
  return {
    resource: path,
    path,
    httpMethod: req.method,
    headers,
    multiValueHeaders: multi,
    queryStringParameters: query,
    multiValueQueryStringParameters: multiQuery,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      resourceId: 'local1',
      stage: 'prod',
      requestId: randomUUID(),
      resourcePath: path,
      httpMethod: req.method,
      apiId: 'local',
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestTimeEpoch: Date.now(),
      identity: { sourceIp: '127.0.0.1', userAgent: req.headers['user-agent'] ?? '' },
      authorizer: authorizerContext,
    },
    body: null,
    isBase64Encoded: false,
  };
}

/**
 * Starts the local API on 127.0.0.1. `gateway` from gatewayFromTemplate; `authorizer` and
 * `backend` are started LambdaFunctions. `record(entry)` sees every request's outcome.
 */
export async function startApi({ path, gateway, authorizer, backend, record = () => {} }) {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const methodArn = `arn:aws:execute-api:us-east-1:123456789012:local/prod/GET${path}`;

  const send = (res, status, headers, body) => {
    const buf = Buffer.from(body ?? '');
    // `{ echo }` headers answer the request's Origin: any, or one of a list. An array is a
    // function's multiValueHeaders entry (lambda_http sends both maps).
    const origin = res.req?.headers?.origin;
    const resolved = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === null || value === undefined) continue;
      if (Array.isArray(value)) resolved[name] = value.join(', ');
      else if (typeof value !== 'object') resolved[name] = value;
      else if (origin && (value.echo === 'any' || value.echo.includes(origin))) resolved[name] = origin;
    }
    res.writeHead(status, { ...resolved, 'content-length': String(buf.length) });
    res.end(buf);
  };
  const gatewayError = (res, status, message, entry) => {
    const type = status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
    record({ ...entry, status });
    send(res, status, { 'content-type': 'application/json', ...(gateway.gatewayResponses[type] ?? {}) },
      JSON.stringify({ message }));
  };

  async function handle(req, res) {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    const entry = { method: req.method, path: url.pathname };
    if (url.pathname !== path) return gatewayError(res, 403, 'Missing Authentication Token', entry);
    if (req.method === 'OPTIONS' && gateway.preflight) {
      record({ ...entry, status: gateway.preflight.status });
      return send(res, gateway.preflight.status, gateway.preflight.headers, '');
    }
    if (req.method !== 'GET' || !gateway.hasGet) return gatewayError(res, 403, 'Missing Authentication Token', entry);

    let context = null;
    if (gateway.getAuthorization === 'CUSTOM') {
      const authorization = req.headers.authorization;
      if (!authorization || (gateway.identityValidation && !gateway.identityValidation.test(authorization))) {
        return gatewayError(res, 401, 'Unauthorized', { ...entry, authorizer: 'not invoked' });
      }
      const decided = await authorizer.invoke({ type: 'TOKEN', authorizationToken: authorization, methodArn });
      if (decided.kind === 'error') {
        if (decided.body?.errorMessage === 'Unauthorized') {
          return gatewayError(res, 401, 'Unauthorized', { ...entry, authorizer: 'Unauthorized' });
        }
        return gatewayError(res, 500, null, { ...entry, authorizer: `error ${JSON.stringify(decided.body)}` });
      }
      const policy = decided.body;
      const statements = policy?.policyDocument?.Statement ?? [];
      const allowed = statements.length > 0
        && statements.every((s) => s.Effect === 'Allow' || s.Effect === 'Deny')
        && !statements.some((s) => s.Effect === 'Deny')
        && statements.some((s) => s.Effect === 'Allow' && [].concat(s.Resource).some((r) => resourceMatches(r, methodArn)));
      if (!allowed) {
        const effect = statements.map((s) => s.Effect).join(',') || 'none';
        return gatewayError(res, 403, 'User is not authorized to access this resource with an explicit deny',
          { ...entry, authorizer: effect });
      }
      context = { ...(policy.context ?? {}), principalId: policy.principalId };
      entry.authorizer = 'Allow';
      entry.principalId = policy.principalId;
    }
    const out = await backend.invoke(proxyEvent(req, url, path, context));
    if (out.kind !== 'response' || typeof out.body?.statusCode !== 'number') {
      return gatewayError(res, 502, 'Internal server error', { ...entry, backend: JSON.stringify(out) });
    }
    const headers = {};
    for (const [k, v] of Object.entries(out.body.multiValueHeaders ?? {})) headers[k.toLowerCase()] = v;
    for (const [k, v] of Object.entries(out.body.headers ?? {})) headers[k.toLowerCase()] = v;
    const body = out.body.isBase64Encoded ? Buffer.from(out.body.body ?? '', 'base64') : (out.body.body ?? '');
    record({ ...entry, status: out.body.statusCode });
    return send(res, out.body.statusCode, headers, body);
  }

  server.on('request', (req, res) => {
    handle(req, res).catch((err) => {
      record({ method: req.method, path: req.url, status: 502, error: err.message });
      if (!res.headersSent) send(res, 502, { 'content-type': 'application/json' }, JSON.stringify({ message: err.message }));
      else res.destroy();
    });
  });

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    methodArn,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An execute-api ARN pattern (with * wildcards) against a method ARN. */
function resourceMatches(pattern, arn) {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(arn);
}
