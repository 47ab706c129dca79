#!/usr/bin/env node
// A stand-in for what the deploy e2e will hand run.mjs --deployed, until `gen deploy` uploads
// the site and the template has the site's distribution (issue #14).
//
// Usage: node tests/site_e2e/deployed_fixture.mjs [--site DIR] [--template FILE] [--out DIR]
//   --site      the generated site (default output/site): copied to OUT/npm, where `npm install`
//               fills vendor/; OUT/deployed is then that copy without the npm project
//               (package.json, package-lock.json, node_modules, scripts/, dotfiles), as the bucket
//               would hold it
//   --template  the generated template (default output/infra/dev/template.json): OUT/template.json
//               is it plus a hand-made site distribution (a private bucket, an origin access
//               control, a response headers policy whose CSP names the Auth0 tenant of the site's
//               js/config.js and the template's RestApi, the distribution, the bucket policy
//               granting it s3:GetObject and s3:ListBucket)
//   --out       default target/site-e2e-fixture
// Writes OUT/deployed/, OUT/deployed.objects.json ({"<key>": {"ContentType", "CacheControl"}}:
// index.html and js/config.js `no-cache`, the rest a day) and OUT/template.json, then prints
// the run.mjs command line that uses them.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const opts = {
  site: path.join(ROOT, 'output/site'),
  template: path.join(ROOT, 'output/infra/dev/template.json'),
  out: path.join(ROOT, 'target/site-e2e-fixture'),
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '');
  if (!argv[i].startsWith('--') || !(key in opts) || i + 1 >= argv.length) {
    console.error('usage: node tests/site_e2e/deployed_fixture.mjs [--site DIR] [--template FILE] [--out DIR]');
    process.exit(2);
  }
  opts[key] = path.resolve(argv[i + 1]);
}
const die = (message) => {
  console.error(`deployed_fixture: ${message}`);
  process.exit(1);
};

// -- the site, as the bucket would hold it
const npmDir = path.join(opts.out, 'npm');
const deployed = path.join(opts.out, 'deployed');
rmSync(opts.out, { recursive: true, force: true });
mkdirSync(opts.out, { recursive: true });
cpSync(opts.site, npmDir, {
  recursive: true,
  filter: (src) => !['node_modules', 'vendor'].includes(path.relative(opts.site, src).split(path.sep)[0]),
});
const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn'],
  { cwd: npmDir, encoding: 'utf8', timeout: 300_000 });
if (install.status !== 0) die(`npm install in ${npmDir} failed: ${install.error?.message ?? install.stderr}`);
const NOT_DEPLOYED = ['package.json', 'package-lock.json', 'node_modules', 'scripts'];
cpSync(npmDir, deployed, {
  recursive: true,
  filter: (src) => {
    const top = path.relative(npmDir, src).split(path.sep)[0];
    return !NOT_DEPLOYED.includes(top) && !top.startsWith('.');
  },
});

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};
const objects = {};
const walk = (sub) => {
  for (const name of readdirSync(path.join(deployed, sub)).sort()) {
    const key = sub ? `${sub}/${name}` : name;
    if (statSync(path.join(deployed, key)).isDirectory()) {
      walk(key);
      continue;
    }
    const type = TYPES[path.extname(key)];
    if (!type) die(`no Content-Type for ${key}: add its extension to TYPES`);
    const fresh = ['index.html', 'js/config.js'].includes(key);
    objects[key] = { ContentType: type, CacheControl: fresh ? 'no-cache' : 'public, max-age=86400' };
  }
};
walk('');
writeFileSync(`${deployed}.objects.json`, `${JSON.stringify(objects, null, 2)}\n`);

// -- the template, with a site distribution
const template = JSON.parse(readFileSync(opts.template, 'utf8'));
const ofType = (type) => Object.keys(template.Resources).filter((id) => template.Resources[id].Type === type);
const [restApi, ...moreApis] = ofType('AWS::ApiGateway::RestApi');
if (!restApi || moreApis.length) die(`expected one RestApi in ${opts.template}`);
const logs = Object.keys(template.Resources).find((id) => id.startsWith('LogsBucket'));
if (!logs) die(`no LogsBucket* in ${opts.template}`);
const config = readFileSync(path.join(deployed, 'js/config.js'), 'utf8');
const tenant = /\bdomain:\s*"([^"]+)"/.exec(config)?.[1] ?? die('the site\'s js/config.js names no auth0 domain');
const csp = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "font-src 'self'",
  `connect-src 'self' https://${tenant} https://\${${restApi}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}`,
  `frame-src https://${tenant}`,
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  'upgrade-insecure-requests',
].join('; ');
Object.assign(template.Resources, {
  SiteBucketFIXTURE0: {
    Type: 'AWS::S3::Bucket',
    DeletionPolicy: 'Delete',
    UpdateReplacePolicy: 'Delete',
    Properties: {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      },
    },
  },
  SiteOriginAccessControlFIXTURE0: {
    Type: 'AWS::CloudFront::OriginAccessControl',
    Properties: {
      OriginAccessControlConfig: {
        Name: 'video24-dev-site', Description: 'The site bucket, read by the distribution only',
        OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4',
      },
    },
  },
  SiteHeadersFIXTURE0: {
    Type: 'AWS::CloudFront::ResponseHeadersPolicy',
    Properties: {
      ResponseHeadersPolicyConfig: {
        Name: 'video24-dev-site-headers',
        Comment: 'Security headers of the site',
        SecurityHeadersConfig: {
          ContentSecurityPolicy: { ContentSecurityPolicy: { 'Fn::Sub': csp }, Override: true },
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
          StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
        },
      },
    },
  },
  SiteDistributionFIXTURE0: {
    Type: 'AWS::CloudFront::Distribution',
    Properties: {
      DistributionConfig: {
        Enabled: true,
        Comment: 'video24-dev site',
        DefaultRootObject: 'index.html',
        HttpVersion: 'http2and3',
        IPV6Enabled: true,
        PriceClass: 'PriceClass_100',
        Origins: [{
          Id: 'site',
          DomainName: { 'Fn::GetAtt': ['SiteBucketFIXTURE0', 'RegionalDomainName'] },
          S3OriginConfig: { OriginAccessIdentity: '' },
          OriginAccessControlId: { 'Fn::GetAtt': ['SiteOriginAccessControlFIXTURE0', 'Id'] },
        }],
        DefaultCacheBehavior: {
          TargetOriginId: 'site',
          ViewerProtocolPolicy: 'redirect-to-https',
          Compress: true,
          AllowedMethods: ['GET', 'HEAD'],
          CachedMethods: ['GET', 'HEAD'],
          CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
          ResponseHeadersPolicyId: { 'Fn::GetAtt': ['SiteHeadersFIXTURE0', 'Id'] },
        },
        Logging: { Bucket: { 'Fn::GetAtt': [logs, 'DomainName'] }, Prefix: 'cloudfront/site/', IncludeCookies: false },
        ViewerCertificate: { CloudFrontDefaultCertificate: true },
      },
    },
  },
  SiteBucketPolicyFIXTURE0: {
    Type: 'AWS::S3::BucketPolicy',
    Properties: {
      Bucket: { Ref: 'SiteBucketFIXTURE0' },
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Sid: 'CloudFrontReads',
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: ['s3:GetObject', 's3:ListBucket'],
          Resource: [{ 'Fn::GetAtt': ['SiteBucketFIXTURE0', 'Arn'] }, { 'Fn::Sub': '${SiteBucketFIXTURE0.Arn}/*' }],
          Condition: {
            StringEquals: {
              'AWS:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${SiteDistributionFIXTURE0}' },
            },
          },
        }],
      },
    },
  },
});
writeFileSync(path.join(opts.out, 'template.json'), `${JSON.stringify(template, null, 2)}\n`);

const rel = (p) => path.relative(process.cwd(), p) || '.';
console.log(`deployed_fixture: ${Object.keys(objects).length} object(s) in ${rel(deployed)}, `
  + `${rel(`${deployed}.objects.json`)}, ${rel(path.join(opts.out, 'template.json'))}`);
console.log(`node tests/site_e2e/run.mjs --deployed ${rel(deployed)} --template ${rel(path.join(opts.out, 'template.json'))}`);
if (!existsSync(path.join(deployed, 'vendor/auth0-spa-js.production.js'))) die('npm install left no vendor/auth0-spa-js.production.js');
