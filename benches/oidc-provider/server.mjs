// The reference authorization server of benches/tokens.sh: node `oidc-provider` with exactly
// one confidential client (client_secret_basic, client_credentials only) that gets ES256-signed
// RFC 9068 JWT access tokens for one resource server (resource indicators, accessTokenFormat
// 'jwt'). Production settings: NODE_ENV=production, no dev interactions, no request logging.
//
//   NODE_ENV=production node server.mjs [PORT]
//
// Environment (all optional):
//   PORT=3000                 port on 127.0.0.1 (argv[2] wins)
//   OIDC_CLIENT_ID=bench      the client's id
//   OIDC_CLIENT_SECRET=...    the client's secret (default: a fixed bench value)
//   OIDC_RESOURCE=http://127.0.0.1:<port>/scim/v2   the resource server (the tokens' `aud`)
//   OIDC_SCOPE="scim:read scim:write"               the scopes the client and resource offer
//   OIDC_TOKEN_TTL=3600       access token lifetime, seconds (scimgate's default)
//   OIDC_WORKERS=1            processes (node:cluster); 1 = a single process, no cluster
//
// The ES256 signing key is generated at start (node:crypto) and shared by every worker.
// The token endpoint is /oauth/token (the same path as scimgate's); discovery is at
// /.well-known/openid-configuration and the public key at /jwks.

import cluster from 'node:cluster';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';

const port = Number(process.argv[2] || process.env.PORT || 3000);
const host = '127.0.0.1';
const workers = Math.max(1, Number(process.env.OIDC_WORKERS || 1));

if (workers > 1 && cluster.isPrimary) {
  // One key, generated once, handed to every worker.
  process.env.OIDC_BENCH_JWK = JSON.stringify(signingJwk());
  process.env.OIDC_BENCH_COOKIE_KEY ||= randomBytes(32).toString('base64url');
  let exiting = false;
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (!exiting) {
      console.error(`oidc-provider worker ${worker.process.pid} exited (${signal || code}); stopping`);
      exiting = true;
      for (const w of Object.values(cluster.workers)) w.kill();
      process.exitCode = 1;
    }
  });
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      exiting = true;
      for (const w of Object.values(cluster.workers)) w.kill();
    });
  }
} else {
  await serve();
}

function signingJwk() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `bench-${randomBytes(6).toString('hex')}`, alg: 'ES256', use: 'sig' };
}

async function serve() {
  const { default: Provider } = await import('oidc-provider');

  const issuer = `http://${host}:${port}`;
  const clientId = process.env.OIDC_CLIENT_ID || 'bench';
  const clientSecret = process.env.OIDC_CLIENT_SECRET || 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';
  const resource = process.env.OIDC_RESOURCE || `${issuer}/scim/v2`;
  const scope = process.env.OIDC_SCOPE || 'scim:read scim:write';
  const ttl = Number(process.env.OIDC_TOKEN_TTL || 3600);
  const jwk = process.env.OIDC_BENCH_JWK ? JSON.parse(process.env.OIDC_BENCH_JWK) : signingJwk();
  const cookieKey = process.env.OIDC_BENCH_COOKIE_KEY || randomBytes(32).toString('base64url');

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope,
      },
    ],
    clientDefaults: {
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    jwks: { keys: [jwk] },
    scopes: scope.split(' '),
    claims: {},
    cookies: { keys: [cookieKey] },
    routes: { token: '/oauth/token' },
    ttl: { ClientCredentials: ttl },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== resource) {
            throw new Provider.errors.InvalidTarget();
          }
          return {
            scope,
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });

  // Errors the provider answers (e.g. invalid_client) are not logged per request.
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

  const server = http.createServer(provider.callback());
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(port, host, () => {
    // One line per process: benches/tokens.sh waits for all of them.
    console.log(`oidc-provider listening on ${issuer} (pid ${process.pid}, ${workers} process(es)), resource ${resource}`);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      server.close();
      server.closeAllConnections();
      process.exit(0);
    });
  }
}
