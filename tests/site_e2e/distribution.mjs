// CloudFront's part for run.mjs --deployed: the site's objects, as read back from the bucket,
// served the way the template's distribution serves them.
//
// What the distribution does, and so this server (node:http, 127.0.0.1 only):
// - GET and HEAD only (the template's AllowedMethods); anything else is 403, as CloudFront
//   answers a method the cache behaviour does not allow;
// - the query string is not part of the object key (the CachingOptimized cache policy
//   forwards none, and S3 ignores it): `/?code=…&state=…` is the root object;
// - `/` is the DefaultRootObject (index.html); every other path is its URL-decoded object key;
// - each object's Content-Type and Cache-Control are the ones S3 stored (the objects file,
//   see readObjects); an object stored without a Content-Type is `binary/octet-stream`,
//   as S3 serves it;
// - a key that is not in the bucket is 404 (S3's NoSuchKey) when the bucket policy grants
//   the distribution s3:ListBucket, else 403 (S3's AccessDenied, as S3 hides which keys
//   exist), unless the distribution's CustomErrorResponses map that status to a page;
// - every response carries the response headers policy's security headers (and custom
//   headers); the Content-Security-Policy is the template's, with the Auth0 tenant's and the
//   API's origins replaced by the local provider's and API's (cspFromTemplate).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export class DistributionError extends Error {}

// ---------------------------------------------------------------------------- the template

const resourcesOfType = (template, type) => Object.entries(template.Resources ?? {})
  .filter(([, r]) => r.Type === type);

// `{"Fn::GetAtt": [X, "Id"]}`, `{"Fn::GetAtt": "X.Id"}` or `{"Ref": X}`: X.
function referencedId(value) {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return value.Ref;
    const att = value['Fn::GetAtt'];
    if (Array.isArray(att) && att[1] === 'Id') return att[0];
    if (typeof att === 'string' && att.endsWith('.Id')) return att.slice(0, -3);
  }
  return null;
}

/**
 * The site's distribution and its response headers policy, from the template:
 * { distributionId, config (DistributionConfig or null), policyId, policy (ResponseHeadersPolicyConfig),
 *   listBucket }.
 * The policy is the one the distribution's default cache behaviour names; a template with a
 * policy but no distribution (a hand-made snippet) gives its only policy. listBucket: a bucket
 * policy of the origin's bucket (any bucket, without a distribution) allows
 * cloudfront.amazonaws.com s3:ListBucket.
 */
export function siteFromTemplate(template) {
  const distributions = resourcesOfType(template, 'AWS::CloudFront::Distribution');
  const policies = new Map(resourcesOfType(template, 'AWS::CloudFront::ResponseHeadersPolicy'));
  if (distributions.length > 1) {
    throw new DistributionError(`the template has ${distributions.length} CloudFront distributions `
      + `(${distributions.map(([id]) => id).join(', ')}): which one is the site's?`);
  }
  let distributionId = null;
  let config = null;
  let policyId;
  if (distributions.length === 1) {
    [distributionId, { Properties: { DistributionConfig: config } = {} }] = distributions[0];
    if (!config) throw new DistributionError(`${distributionId} has no DistributionConfig`);
    const named = config.DefaultCacheBehavior?.ResponseHeadersPolicyId;
    if (named === undefined) {
      throw new DistributionError(`${distributionId}'s DefaultCacheBehavior has no ResponseHeadersPolicyId: no security headers`);
    }
    policyId = referencedId(named);
    if (!policyId || !policies.has(policyId)) {
      throw new DistributionError(`${distributionId}'s ResponseHeadersPolicyId ${JSON.stringify(named)} `
        + 'is not a Ref/GetAtt Id of a ResponseHeadersPolicy in the template');
    }
  } else if (policies.size === 1) {
    [policyId] = policies.keys();
  } else {
    throw new DistributionError(`the template has no AWS::CloudFront::Distribution and ${policies.size} `
      + 'ResponseHeadersPolicy resources (expected exactly one)');
  }
  const policy = policies.get(policyId).Properties?.ResponseHeadersPolicyConfig;
  if (!policy) throw new DistributionError(`${policyId} has no ResponseHeadersPolicyConfig`);
  return { distributionId, config, policyId, policy, listBucket: grantsListBucket(template, config) };
}

const list = (v) => (v === undefined ? [] : [].concat(v));

function grantsListBucket(template, config) {
  const domain = config?.Origins?.[0]?.DomainName?.['Fn::GetAtt'];
  const bucket = Array.isArray(domain) ? domain[0] : null;
  return resourcesOfType(template, 'AWS::S3::BucketPolicy').some(([, r]) => {
    const props = r.Properties ?? {};
    if (config && props.Bucket?.Ref !== bucket) return false;
    return list(props.PolicyDocument?.Statement).some((st) => st.Effect === 'Allow'
      && list(st.Principal?.Service).includes('cloudfront.amazonaws.com')
      && list(st.Action).some((a) => ['s3:ListBucket', 's3:*', '*'].includes(a)));
  });
}

// `https://${RestApi…}.execute-api.${AWS::Region}.${AWS::URLSuffix}` (or .amazonaws.com).
const API_ORIGIN = /https:\/\/\$\{([A-Za-z0-9]+)\}\.execute-api\.\$\{AWS::Region\}\.(?:\$\{AWS::URLSuffix\}|amazonaws\.com)/g;

/**
 * The policy's Content-Security-Policy as the browser gets it here, from the template's value
 * (a literal or an Fn::Sub string): the API's `https://${RestApi}.execute-api.${AWS::Region}.
 * ${AWS::URLSuffix}` becomes `apiOrigin`; the source `https://<auth0Domain>` becomes
 * `providerOrigin`; the scheme source `https:` also admits `providerOrigin` (the local provider
 * serves, over http, the profile picture an https host serves in AWS); `upgrade-insecure-requests`
 * and `block-all-mixed-content` are dropped (the local servers speak http). Any other `${…}` is
 * an error: this harness cannot know its value.
 * Returns { value, original, replaced: {api, auth0, https}, dropped: [...] }.
 */
export function cspFromTemplate(policy, { auth0Domain, providerOrigin, apiOrigin }) {
  const spec = policy.SecurityHeadersConfig?.ContentSecurityPolicy;
  if (!spec) throw new DistributionError('the response headers policy has no SecurityHeadersConfig.ContentSecurityPolicy');
  let raw = spec.ContentSecurityPolicy;
  let subbed = false;
  if (raw && typeof raw === 'object' && 'Fn::Sub' in raw) {
    raw = raw['Fn::Sub'];
    if (Array.isArray(raw)) {
      if (Object.keys(raw[1] ?? {}).length) {
        throw new DistributionError(`the CSP's Fn::Sub has variables (${Object.keys(raw[1]).join(', ')}): not supported here`);
      }
      [raw] = raw;
    }
    subbed = true;
  }
  if (typeof raw !== 'string') {
    throw new DistributionError(`the CSP is ${JSON.stringify(raw)}: expected a string or an Fn::Sub string`);
  }
  const original = raw;
  const replaced = { api: 0, auth0: 0, https: 0 };
  let text = raw;
  if (subbed) {
    text = text.replace(API_ORIGIN, () => {
      replaced.api += 1;
      return apiOrigin;
    });
    const left = text.match(/\$\{(?!!)[^}]*\}/g);
    if (left) throw new DistributionError(`the CSP's Fn::Sub has ${left.join(', ')}, which this harness cannot resolve`);
    text = text.replace(/\$\{!/g, '${');
  }
  const tenant = `https://${auth0Domain.replace(/^https:\/\//, '').replace(/\/$/, '')}`;
  const dropped = [];
  const directives = text.split(';').map((d) => d.trim()).filter(Boolean).flatMap((directive) => {
    const [name, ...sources] = directive.split(/\s+/);
    if (['upgrade-insecure-requests', 'block-all-mixed-content'].includes(name.toLowerCase())) {
      dropped.push(name);
      return [];
    }
    const out = sources.flatMap((source) => {
      if (source === tenant || source === `${tenant}/`) {
        replaced.auth0 += 1;
        return [providerOrigin];
      }
      if (source.toLowerCase() === 'https:') {
        replaced.https += 1;
        return [source, providerOrigin];
      }
      return [source];
    });
    return [[name, ...out].join(' ')];
  });
  return { value: directives.join('; '), original, replaced, dropped };
}

/** The response headers policy's headers (security and custom), the CSP given. */
export function policyHeaders(policy, csp) {
  const sec = policy.SecurityHeadersConfig ?? {};
  const headers = {};
  headers['content-security-policy'] = csp;
  if (sec.ContentTypeOptions) headers['x-content-type-options'] = 'nosniff';
  if (sec.FrameOptions) {
    const option = sec.FrameOptions.FrameOption;
    if (!['DENY', 'SAMEORIGIN'].includes(option)) throw new DistributionError(`FrameOption ${JSON.stringify(option)}`);
    headers['x-frame-options'] = option;
  }
  if (sec.ReferrerPolicy) headers['referrer-policy'] = sec.ReferrerPolicy.ReferrerPolicy;
  if (sec.StrictTransportSecurity) {
    const hsts = sec.StrictTransportSecurity;
    headers['strict-transport-security'] = [`max-age=${hsts.AccessControlMaxAgeSec}`,
      ...(hsts.IncludeSubdomains ? ['includeSubDomains'] : []), ...(hsts.Preload ? ['preload'] : [])].join('; ');
  }
  if (sec.XSSProtection) {
    const x = sec.XSSProtection;
    headers['x-xss-protection'] = !x.Protection ? '0'
      : ['1', ...(x.ModeBlock ? ['mode=block'] : []), ...(x.ReportUri ? [`report=${x.ReportUri}`] : [])].join('; ');
  }
  for (const item of policy.CustomHeadersConfig?.Items ?? []) {
    headers[String(item.Header).toLowerCase()] = String(item.Value);
  }
  return headers;
}

// ---------------------------------------------------------------------------- the bucket

/**
 * The objects file: JSON `{"<key>": {"ContentType": "...", "CacheControl": "..."}, ...}`, one
 * entry per object of the bucket (keys as in S3, `/`-separated, no leading slash; other fields,
 * e.g. Metadata, are allowed and ignored). Every file under `dir` must be an object and every
 * object a file under `dir`. Returns a Map key → {ContentType, CacheControl}.
 */
export function readObjects(dir, objectsFile) {
  let objects;
  try {
    objects = JSON.parse(readFileSync(objectsFile, 'utf8'));
  } catch (err) {
    throw new DistributionError(`${objectsFile}: ${err.message}`);
  }
  if (!objects || typeof objects !== 'object' || Array.isArray(objects)) {
    throw new DistributionError(`${objectsFile}: expected an object {"<key>": {"ContentType", "CacheControl"}}`);
  }
  const files = [];
  const walk = (sub) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(path.join(dir, rel)).isDirectory()) walk(rel);
      else files.push(rel);
    }
  };
  walk('');
  const keys = Object.keys(objects);
  const notListed = files.filter((f) => !(f in objects));
  const noFile = keys.filter((k) => !files.includes(k));
  if (notListed.length || noFile.length) {
    throw new DistributionError(`${path.basename(objectsFile)} and ${dir} disagree: `
      + `${notListed.length ? `files without an entry: ${notListed.join(', ')}` : ''}`
      + `${notListed.length && noFile.length ? '; ' : ''}`
      + `${noFile.length ? `entries without a file: ${noFile.join(', ')}` : ''}`);
  }
  const map = new Map();
  for (const key of keys.sort()) {
    const meta = objects[key] ?? {};
    for (const field of ['ContentType', 'CacheControl']) {
      if (meta[field] !== undefined && typeof meta[field] !== 'string') {
        throw new DistributionError(`${path.basename(objectsFile)}: ${key}.${field} is not a string`);
      }
    }
    map.set(key, { ContentType: meta.ContentType, CacheControl: meta.CacheControl });
  }
  return map;
}

// ---------------------------------------------------------------------------- the server

/**
 * Serves `dir` as the distribution does (see the top of this file).
 * { dir, objects (readObjects), headers (policyHeaders), config (DistributionConfig or null),
 *   listBucket (siteFromTemplate), port (0: any), record(entry) } → { origin, port, close() }.
 * Each response is recorded: { method, path, key, status, contentType, cacheControl }.
 */
export async function startDistribution({
  dir, objects, headers, config, listBucket, port = 0, record = () => {},
}) {
  const rootObject = config ? config.DefaultRootObject : 'index.html';
  const allowed = config?.DefaultCacheBehavior?.AllowedMethods ?? ['GET', 'HEAD'];
  const errorPages = new Map((config?.CustomErrorResponses ?? [])
    .filter((e) => e.ResponsePagePath)
    .map((e) => [Number(e.ErrorCode), { path: e.ResponsePagePath, code: Number(e.ResponseCode ?? e.ErrorCode) }]));

  const object = (key) => {
    const meta = objects.get(key);
    if (!meta) return null;
    return { body: readFileSync(path.join(dir, key)), meta };
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://distribution.invalid');
    let key = null;
    let status = 200;
    let body;
    let meta = {};
    if (!allowed.includes(req.method)) {
      status = 403;
      body = Buffer.from('This distribution is not configured to allow the HTTP request method that was used for this request.');
      meta = { ContentType: 'text/plain' };
    } else {
      key = url.pathname === '/' && rootObject ? rootObject : decodeURIComponent(url.pathname.slice(1));
      const found = object(key);
      if (found) {
        ({ body, meta } = found);
      } else {
        const missing = listBucket ? 404 : 403;
        const page = errorPages.get(missing);
        const custom = page && object(page.path.replace(/^\//, ''));
        if (custom) {
          status = page.code;
          ({ body, meta } = custom);
        } else {
          status = missing;
          body = Buffer.from(listBucket
            ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>`
              + `<Message>The specified key does not exist.</Message><Key>${key}</Key></Error>`
            : '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
          meta = { ContentType: 'application/xml' };
        }
      }
    }
    const out = { ...headers, 'content-type': meta.ContentType ?? 'binary/octet-stream', 'content-length': body.length };
    if (meta.CacheControl !== undefined) out['cache-control'] = meta.CacheControl;
    res.writeHead(status, out);
    res.end(req.method === 'HEAD' ? undefined : body);
    record({
      method: req.method, path: req.url, key, status, contentType: out['content-type'], cacheControl: out['cache-control'] ?? null,
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.address().port;
  return {
    origin: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
