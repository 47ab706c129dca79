// A fake Auth0 tenant: oidc-provider (panva, OpenID certified) on 127.0.0.1, configured to
// speak the part of Auth0's dialect that @auth0/auth0-spa-js uses.
//
// - issuer `http://127.0.0.1:PORT/` (trailing slash, as Auth0 writes it); the site's config uses
//   `domain: 'http://127.0.0.1:PORT'` (spa-js takes a domain with a scheme verbatim)
// - Auth0's paths: /authorize, /oauth/token, /.well-known/jwks.json, /userinfo, /v2/logout
//   (`returnTo` is mapped to `post_logout_redirect_uri` and the confirmation form submits itself)
// - Auth0's `audience=` becomes an RFC 8707 resource indicator, so access tokens are RS256 JWTs
//   for the API (iss = issuer, aud = audience, sub = the user, kid in the header)
// - name, picture and email in the ID token (spa-js never calls /userinfo)
// - response_mode=web_message for spa-js's silent authentication iframe
// - PKCE required, public client (token_endpoint_auth_method none), CORS for the site's origin
// - one user with a password, through a minimal login page of our own; consent is granted
//   without asking (a first-party application on Auth0 skips it too)
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const html = (s) =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// A 64x64 avatar, served by the provider as Auth0 serves (links to) a picture.
const AVATAR_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
<circle cx="32" cy="32" r="32" fill="#0d6efd"/><text x="32" y="42" font-size="28" text-anchor="middle"
fill="#fff" font-family="sans-serif">E2</text></svg>`;

function loginPage({ uid, login = '', error = '' }) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - site-e2e tenant</title></head>
<body>
  <h1>Sign in (site-e2e tenant)</h1>
  ${error ? `<p id="login-error" role="alert">${html(error)}</p>` : ''}
  <form id="login-form" method="post" action="/interaction/${html(uid)}/login" autocomplete="off">
    <label>Email <input id="login" name="login" value="${html(login)}" required></label>
    <label>Password <input id="password" name="password" type="password" required></label>
    <button id="submit" type="submit">Continue</button>
  </form>
</body></html>`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Starts the provider on 127.0.0.1 (a free port). Returns
 * { issuer, origin, port, jwksUrl, avatarUrl, log, close() }.
 * `user` = { id, email, password, name }; `log(line)` receives one line per request.
 */
export async function startProvider({ siteOrigin, clientId, audience, user, log = () => {} }) {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}/`;
  const avatarUrl = `${origin}/avatar.svg`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'site-e2e-key-1', alg: 'RS256', use: 'sig' };

  const account = {
    accountId: user.id,
    async claims() {
      return {
        sub: user.id,
        name: user.name,
        nickname: user.email.split('@')[0],
        picture: avatarUrl,
        email: user.email,
        email_verified: true,
        updated_at: Math.floor(Date.now() / 1000),
      };
    },
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_name: 'site-e2e',
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${siteOrigin}/`],
        post_logout_redirect_uris: [`${siteOrigin}/`],
        id_token_signed_response_alg: 'RS256',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: ['site-e2e-cookie-key-not-a-secret'] },
    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      jwks: '/.well-known/jwks.json',
      userinfo: '/userinfo',
      end_session: '/v2/logout',
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'nickname', 'picture', 'updated_at'],
      email: ['email', 'email_verified'],
    },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    conformIdTokenClaims: false,
    extraParams: ['audience'],
    pkce: { required: () => true },
    clientBasedCORS: (ctx, requestOrigin) => requestOrigin === siteOrigin,
    findAccount: async (ctx, id) => (id === user.id ? account : undefined),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      RefreshToken: 3600,
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Auth0's `audience` is the resource when the request names none.
        defaultResource: (ctx, client, oneOf) => oneOf ?? ctx.oidc.params?.audience ?? audience,
        // spa-js does not resend the audience on /oauth/token: use the one granted at /authorize.
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (resource !== audience) throw new errors.InvalidTarget(`unknown audience ${resource}`);
          return {
            scope: 'read:profile',
            audience,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
      webMessageResponseMode: { enabled: true, ack: 'individual-draft-01' },
      rpInitiatedLogout: {
        enabled: true,
        // Auth0 signs out without asking: submit the confirmation form at once, with "yes".
        logoutSource: async (ctx, form) => {
          ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>Signing out</title></head>
<body>${form}<script>
const f = document.getElementById('op.logoutForm');
const yes = document.createElement('input');
yes.type = 'hidden'; yes.name = 'logout'; yes.value = 'yes';
f.appendChild(yes); f.submit();
</script></body></html>`;
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = '<!doctype html><html><body><h1 id="signed-out">Signed out</h1></body></html>';
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html><body><h1 id="op-error">${html(out.error)}</h1>
<p id="op-error-description">${html(out.error_description ?? '')}</p></body></html>`;
    },
  });
  // The issuer is plain http on loopback; no proxy in front.
  provider.proxy = false;

  provider.on('server_error', (ctx, err) => log(`provider server_error: ${err.stack ?? err}`));
  const note = (event) => (ctx, err) => log(`provider ${event}: ${err.name}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
  for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'backchannel.error']) {
    provider.on(event, note(event));
  }

  async function interaction(req, res, url) {
    const parts = url.pathname.split('/').filter(Boolean); // interaction, uid[, login]
    const details = await provider.interactionDetails(req, res);
    if (parts[1] !== details.uid) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('interaction mismatch');
      return;
    }
    const { prompt, params, session } = details;
    if (req.method === 'POST' && parts[2] === 'login') {
      const form = await readForm(req);
      const login = form.get('login') ?? '';
      const password = form.get('password') ?? '';
      if (login !== user.email || password !== user.password) {
        log(`provider login refused for ${JSON.stringify(login)}`);
        res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(loginPage({ uid: details.uid, login, error: 'Wrong email or password.' }));
        return;
      }
      log(`provider login ok for ${login}`);
      await provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method !== 'GET' || parts.length !== 2) {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed');
      return;
    }
    if (prompt.name === 'login') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage({ uid: details.uid }));
      return;
    }
    if (prompt.name === 'consent') {
      // A first-party application: grant what was asked without a consent page.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      log(`provider consent granted (${[...(d.missingOIDCScope ?? [])].join(' ')}; ${Object.keys(d.missingResourceScopes ?? {}).join(' ')})`);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`unexpected prompt ${prompt.name}`);
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const url = new URL(req.url, origin);
    log(`provider ${req.method} ${url.pathname}${url.searchParams.has('prompt') ? ` prompt=${url.searchParams.get('prompt')}` : ''}${url.searchParams.has('response_mode') ? ` response_mode=${url.searchParams.get('response_mode')}` : ''}`);
    if (url.pathname === '/avatar.svg') {
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'no-store' }).end(AVATAR_SVG);
      return;
    }
    if (url.pathname === '/v2/logout' && url.searchParams.has('returnTo')) {
      // Auth0's logout takes returnTo; OpenID RP-Initiated Logout calls it post_logout_redirect_uri.
      if (!url.searchParams.has('post_logout_redirect_uri')) {
        url.searchParams.set('post_logout_redirect_uri', url.searchParams.get('returnTo'));
      }
      url.searchParams.delete('returnTo');
      req.url = url.pathname + url.search;
    }
    if (url.pathname.startsWith('/interaction/')) {
      interaction(req, res, url).catch((err) => {
        log(`provider interaction error: ${err.stack ?? err}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`interaction error: ${err.message}`);
      });
      return;
    }
    callback(req, res);
  });

  return {
    issuer,
    origin,
    port,
    jwksUrl: `${origin}/.well-known/jwks.json`,
    avatarUrl,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
