// A real, external OpenID Provider for Signet's browser tests, built on
// panva's oidc-provider (pinned in package.json).
//
// It takes its settings as one JSON document: the first argument (inline JSON,
// or the path of a JSON file) or else the environment variable OP_CONFIG.
// Every field is optional:
//
//   {
//     "port": 0,                                  // 0 picks a free port
//     "host": "127.0.0.1",
//     "issuer": "http://127.0.0.1:PORT",          // default: from the port
//     "clients": [{ "client_id", "client_secret", "redirect_uris",
//                   "post_logout_redirect_uris", "backchannel_logout_uri",
//                   "frontchannel_logout_uri", "token_endpoint_auth_method", ... }],
//     "accounts": [{ "id", "password", "email", "given_name", "family_name",
//                    "name", "username", "extraClaims": { "claim": "value", ... },
//                    "scopes": ["read:reports"] }],   // scopes beyond openid, profile,
//                                                     // email, offline_access it may be
//                                                     // granted; default: every one
//     "features": { "rpInitiatedLogout": true, "backchannelLogout": true,
//                   "frontchannelLogout": true, "introspection": true,
//                   "revocation": true, "devInteractions": false },
//     "ttl": { "AccessToken": 3600, "IdToken": 3600, "RefreshToken": 86400,
//              "Session": 86400, "Grant": 86400, "Interaction": 600,
//              "AuthorizationCode": 60 },
//     "scopes": ["openid", "profile", "email", "offline_access", "read:reports"],
//     "claims": { "profile": [...], "email": [...] },   // default: see below
//     "conformIdTokenClaims": false,      // false: the ID token carries the scope claims
//     "logoutPrompt": "auto",             // "auto" submits "yes" by itself, "confirm" waits
//     "refreshTokens": "always",          // or "offline_access" (oidc-provider's rule: needs prompt=consent)
//     "rotateRefreshTokens": false,       // true: every refresh grant issues a new refresh token and
//                                         // retires the old one (a retired one presented again
//                                         // revokes the grant); default: oidc-provider's own rule
//     "pkceRequired": true
//   }
//
// It prints one line "ready <issuer>" on stdout once it listens. Every request
// and the provider's events are logged on stdout, one line each.
//
// Interactions: the login prompt is a plain form (input[name=login],
// input[name=password], button[type=submit]) that checks the password of the
// account. The consent prompt is granted by the server itself: the browser is
// sent on at once, as a first-party IdP does.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

function readConfig() {
  const arg = process.argv[2];
  let text = process.env.OP_CONFIG || '{}';
  if (arg) {
    text = arg.trimStart().startsWith('{') ? arg : readFileSync(arg, 'utf8');
  }
  return JSON.parse(text);
}

const config = readConfig();

const DEFAULT_ACCOUNTS = [{
  id: 'ada',
  password: 'lovelace',
  email: 'ada@example.com',
  given_name: 'Ada',
  family_name: 'Lovelace',
  name: 'Ada Lovelace',
  username: 'ada@example.com',
}];

const features = {
  rpInitiatedLogout: true,
  backchannelLogout: true,
  frontchannelLogout: true,
  introspection: true,
  revocation: true,
  devInteractions: false,
  ...(config.features || {}),
};
const logoutPrompt = config.logoutPrompt || 'auto';
const refreshTokens = config.refreshTokens || 'always';

const accounts = new Map();
for (const account of config.accounts || DEFAULT_ACCOUNTS) {
  accounts.set(account.id, account);
}

// The claims each scope releases. Every extra claim of every account goes
// with the profile scope, so a test can ask for a big ID token.
const extraClaimNames = new Set();
for (const account of accounts.values()) {
  for (const name of Object.keys(account.extraClaims || {})) extraClaimNames.add(name);
}
const claims = config.claims || {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'username', 'preferred_username', ...extraClaimNames],
  email: ['email', 'email_verified'],
};
const scopes = config.scopes || ['openid', 'profile', 'email', 'offline_access', 'read:reports'];
const standardScopes = new Set(['openid', 'profile', 'email', 'offline_access']);

function log(...parts) {
  process.stdout.write(`${new Date().toISOString()} ${parts.join(' ')}\n`);
}

function escapeHTML(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHTML(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #eef1f5; margin: 0; padding: 2rem 1rem; }
  main { max-width: 22rem; margin: 0 auto; background: #fff; border-radius: 8px; padding: 1.5rem;
         box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  label { display: block; margin: .75rem 0 .25rem; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
  button { margin-top: 1rem; width: 100%; padding: .6rem; font-size: 1rem; background: #6b3fa0;
           color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  .error { color: #b00020; }
  .issuer { color: #666; font-size: .8rem; word-break: break-all; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

function loginPage(uid, { error, login, clientId } = {}) {
  return page('Sign in · test OpenID Provider', `
<h1 id="op-login-title">Sign in</h1>
<p class="issuer">test OpenID Provider ${escapeHTML(issuer)}${clientId ? ` · for ${escapeHTML(clientId)}` : ''}</p>
${error ? `<p class="error" id="op-login-error" role="alert">${escapeHTML(error)}</p>` : ''}
<form id="op-login" method="post" action="/interaction/${escapeHTML(uid)}/login" autocomplete="off">
  <label for="login">Login</label>
  <input id="login" name="login" type="text" required autofocus value="${escapeHTML(login)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button type="submit">Sign in</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// ---------------------------------------------------------------------------
// Configuration of the provider.

function ttlOf(name, fallback) {
  const value = config.ttl?.[name];
  return typeof value === 'number' ? value : fallback;
}

function logoutSource(ctx, form) {
  // Front-channel logout: the session is still there, so each client that
  // signed in through it gets an iframe to its frontchannel_logout_uri with
  // iss and sid before the form is sent.
  const frames = [];
  if (features.frontchannelLogout && ctx.oidc.session) {
    for (const clientId of Object.keys(ctx.oidc.session.authorizations || {})) {
      const uri = frontchannelURIs.get(clientId);
      if (!uri) continue;
      const url = new URL(uri);
      url.searchParams.set('iss', issuer);
      const sid = ctx.oidc.session.sidFor(clientId);
      if (sid) url.searchParams.set('sid', sid);
      frames.push(url.href);
    }
  }
  const iframes = frames
    .map((src) => `<iframe class="frontchannel" src="${escapeHTML(src)}" style="display:none" title="front-channel logout"></iframe>`)
    .join('');
  if (frames.length) log('frontchannel', frames.join(' '));
  // The form of oidc-provider carries the xsrf field; logout=yes ends the
  // whole session at the provider. A script's form.submit() sends no button,
  // so the automatic prompt puts the field in the form, and its button has no
  // name (a second logout field would be rejected as a duplicate).
  const auto = logoutPrompt === 'auto';
  const withYes = auto
    ? form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>')
    : form;
  const script = auto ? `<script>
  (function () {
    var form = document.getElementById('op.logoutForm');
    var frames = Array.prototype.slice.call(document.querySelectorAll('iframe.frontchannel'));
    var pending = frames.length, sent = false;
    function send() { if (!sent) { sent = true; form.submit(); } }
    if (!pending) { send(); return; }
    frames.forEach(function (f) { f.addEventListener('load', function () { if (--pending === 0) send(); }); });
    setTimeout(send, 3000);
  })();
</script>` : '';
  ctx.type = 'html';
  ctx.body = page('Sign out · test OpenID Provider', `
<h1 id="op-logout-title">Do you want to sign-out from ${escapeHTML(ctx.host)}?</h1>
${withYes}
<button id="op-logout-yes" type="submit" form="op.logoutForm"${auto ? '' : ' name="logout" value="yes"'}>Yes, sign me out</button>
${iframes}
${script}`);
}

function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out · test OpenID Provider', '<h1 id="op-logout-success">Sign-out Success</h1>');
}

const frontchannelURIs = new Map();
for (const client of config.clients || []) {
  if (client.frontchannel_logout_uri) frontchannelURIs.set(client.client_id, client.frontchannel_logout_uri);
}

function clientMetadata(client) {
  const metadata = {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  };
  if (!features.backchannelLogout) {
    delete metadata.backchannel_logout_uri;
    delete metadata.backchannel_logout_session_required;
  } else if (metadata.backchannel_logout_uri && metadata.backchannel_logout_session_required === undefined) {
    metadata.backchannel_logout_session_required = true;
  }
  if (!features.rpInitiatedLogout) delete metadata.post_logout_redirect_uris;
  return metadata;
}

function jwks() {
  if (config.jwks) return config.jwks;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' }] };
}

function providerConfiguration() {
  const discovery = {};
  if (features.frontchannelLogout) {
    discovery.frontchannel_logout_supported = true;
    discovery.frontchannel_logout_session_supported = true;
  }
  return {
    clients: (config.clients || []).map(clientMetadata),
    jwks: jwks(),
    scopes,
    claims,
    conformIdTokenClaims: config.conformIdTokenClaims ?? false,
    discovery,
    extraClientMetadata: {
      properties: ['frontchannel_logout_uri', 'frontchannel_logout_session_required'],
    },
    cookies: {
      keys: [randomBytes(32).toString('hex')],
      // Other names than the defaults, so that they are told apart from the
      // cookies of the app on the same host in a test's cookie jar.
      names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
    },
    pkce: { required: () => config.pkceRequired ?? true },
    features: {
      devInteractions: { enabled: !!features.devInteractions },
      rpInitiatedLogout: features.rpInitiatedLogout
        ? { enabled: true, logoutSource, postLogoutSuccessSource }
        : { enabled: false },
      backchannelLogout: { enabled: !!features.backchannelLogout },
      introspection: { enabled: !!features.introspection },
      revocation: { enabled: !!features.revocation },
      userinfo: { enabled: true },
    },
    ttl: {
      AccessToken: ttlOf('AccessToken', 3600),
      AuthorizationCode: ttlOf('AuthorizationCode', 60),
      IdToken: ttlOf('IdToken', 3600),
      RefreshToken: ttlOf('RefreshToken', 24 * 3600),
      Session: ttlOf('Session', 24 * 3600),
      Grant: ttlOf('Grant', 24 * 3600),
      Interaction: ttlOf('Interaction', 600),
    },
    // oidc-provider keeps offline_access only when the authorization request
    // also has prompt=consent, which few relying parties send. "always" (the
    // default) issues a refresh token to every client with the refresh_token
    // grant, as Keycloak does; without offline_access it ends with the OP's
    // session. "offline_access" keeps oidc-provider's own rule.
    // true rotates on every refresh grant; oidc-provider's default rotates
    // for public clients and near the token's end only.
    ...(config.rotateRefreshTokens ? { rotateRefreshToken: true } : {}),
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && (refreshTokens === 'always' || code.scopes.has('offline_access')),
    async findAccount(ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          const {
            id, password, extraClaims, scopes: accountScopes, ...profile
          } = account;
          return {
            sub: id,
            email_verified: profile.email ? true : undefined,
            preferred_username: profile.username,
            ...profile,
            ...(extraClaims || {}),
          };
        },
      };
    },
    // Outgoing requests (back-channel logout tokens) go to the app on
    // 127.0.0.1, which the SSRF protection of oidc-provider refuses: before it
    // calls this function it puts a dispatcher in the options that destroys
    // every socket to a special-use address (loopback, private ranges). This
    // fetch drops that dispatcher and keeps the rest (timeout signal, headers).
    fetch(url, options) {
      const { dispatcher, ...rest } = options || {};
      return globalThis.fetch(url, rest);
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error · test OpenID Provider', `<h1 id="op-error">${escapeHTML(out.error)}</h1>
<p id="op-error-description">${escapeHTML(out.error_description)}</p>`);
    },
  };
}

// ---------------------------------------------------------------------------
// The interactions: login with a password, consent granted at once.

async function grantConsent(provider, req, res, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) {
    // An account with a scopes list is granted only those beyond the
    // standard ones, like a user whose role lacks a permission; the rest
    // are refused, so they are left out of the tokens.
    const allowed = accounts.get(session.accountId)?.scopes;
    const ok = (s) => !allowed || standardScopes.has(s) || allowed.includes(s);
    const granted = missing.missingOIDCScope.filter(ok);
    const refused = missing.missingOIDCScope.filter((s) => !ok(s));
    if (granted.length) grant.addOIDCScope(granted.join(' '));
    if (refused.length) {
      grant.rejectOIDCScope(refused.join(' '));
      log('scope refused', `account=${session.accountId}`, `scope=${refused.join(',')}`);
    }
  }
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scope] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scope.join(' '));
  }
  const result = { consent: { grantId: await grant.save() } };
  log('consent granted', `client=${params.client_id}`, `account=${session.accountId}`);
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

async function handleInteraction(provider, req, res, url) {
  const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login|\/abort)?$/);
  if (!match) return false;
  const [, uid, action] = match;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');

  if (!action && req.method === 'GET') {
    if (details.prompt.name === 'consent') {
      await grantConsent(provider, req, res, details);
      return true;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(loginPage(uid, { clientId: details.params.client_id }));
    return true;
  }
  if (action === '/login' && req.method === 'POST') {
    const form = await readForm(req);
    const login = form.get('login') || form.get('username') || '';
    const account = accounts.get(login)
      || [...accounts.values()].find((a) => a.email === login || a.username === login);
    if (!account || account.password !== form.get('password')) {
      log('login failed', `login=${login}`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(uid, { error: 'Invalid login or password.', login, clientId: details.params.client_id }));
      return true;
    }
    log('login', `account=${account.id}`);
    await provider.interactionFinished(req, res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
    return true;
  }
  if (action === '/abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return true;
  }
  res.writeHead(405).end();
  return true;
}

// ---------------------------------------------------------------------------
// The server. It listens first, so that port 0 gives the issuer its port.

const host = config.host || '127.0.0.1';
let handler = (req, res) => res.writeHead(503).end();
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port || 0, host, resolve);
});
const { port } = server.address();
const issuer = config.issuer || `http://${host}:${port}`;

const provider = new Provider(issuer, providerConfiguration());

for (const event of ['server_error', 'authorization.error', 'grant.error', 'introspection.error',
  'revocation.error', 'end_session.error', 'userinfo.error', 'backchannel.error']) {
  provider.on(event, (ctx, err) => log('event', event, err?.name || '', err?.message || '', err?.error_description || ''));
}
provider.on('backchannel.success', (ctx, client, accountId, sid) => log('event backchannel.success', `client=${client.clientId}`, `account=${accountId}`, `sid=${sid}`));
provider.on('backchannel.error', (ctx, err, client, accountId, sid) => log('event backchannel.error', `client=${client?.clientId}`, `account=${accountId}`, `sid=${sid}`, err?.message || ''));
provider.on('end_session.success', () => log('event end_session.success'));
provider.on('grant.success', (ctx) => log('event grant.success', `client=${ctx.oidc.client?.clientId}`, `grant_type=${ctx.oidc.params?.grant_type}`));
provider.on('grant.revoked', (ctx, grantId) => log('event grant.revoked', `grant=${grantId}`));
provider.on('authorization.success', (ctx) => log('event authorization.success', `client=${ctx.oidc.client?.clientId}`));

const callback = provider.callback();
handler = async (req, res) => {
  const started = Date.now();
  res.on('finish', () => log(req.method, req.url, res.statusCode, `${Date.now() - started}ms`));
  try {
    const url = new URL(req.url, issuer);
    // With devInteractions, oidc-provider serves /interaction/* itself.
    if (!features.devInteractions && await handleInteraction(provider, req, res, url)) return;
    // A logout URL outside discovery, in Amazon Cognito's shape:
    // /logout?client_id=…&logout_uri=… (no id_token_hint, no state). It
    // ends the session through oidc-provider's own end_session, which
    // returns to logout_uri (registered as a post-logout redirect URI).
    if (url.pathname === '/logout' && req.method === 'GET') {
      const to = new URL('/session/end', issuer);
      to.searchParams.set('client_id', url.searchParams.get('client_id') || '');
      to.searchParams.set('post_logout_redirect_uri', url.searchParams.get('logout_uri') || '');
      log('custom logout', `client=${url.searchParams.get('client_id')}`);
      res.writeHead(302, { location: to.href, 'cache-control': 'no-store' }).end();
      return;
    }
    callback(req, res);
  } catch (err) {
    log('error', err?.stack || err);
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Error · test OpenID Provider', `<h1 id="op-error">server_error</h1><p>${escapeHTML(err?.message)}</p>`));
    }
  }
};

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}

process.stdout.write(`ready ${issuer}\n`);
