// A real OpenID Connect provider for the integration tests (tests/support/idp.py starts it).
// It issues RFC 9068 JWT access tokens for the "civicsocial" resource to:
//   - the services, by client credentials (client_secret_basic), with their service role;
//   - a staff test client, by client credentials, with the staff claims the services read
//     (roles, department) taken from STAFF_CLAIMS.
// Signing keys come from KEYS_FILE (a private JWKS), so a test can restart it with a new key.
import fs from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const audience = process.env.AUDIENCE || 'civicsocial';
const jwks = JSON.parse(fs.readFileSync(process.env.KEYS_FILE, 'utf8'));
const clients = JSON.parse(process.env.CLIENTS);  // [{client_id, client_secret, roles, department?, subject?}]
const byId = Object.fromEntries(clients.map((c) => [c.client_id, c]));

const provider = new Provider(issuer, {
  jwks,
  clients: clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: c.scope || c.roles.join(' '),
  })),
  scopes: [...new Set(clients.flatMap((c) => (c.scope || c.roles.join(' ')).split(' ')))],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== audience) throw new Error(`unknown resource ${resource}`);
        return { scope: [...new Set(clients.flatMap((c) => (c.scope || c.roles.join(' ')).split(' ')))].join(' '),
                 audience, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  extraTokenClaims: (ctx, token) => {
    const c = byId[token.clientId];
    if (!c) return undefined;
    const claims = { roles: c.roles };
    if (c.department) claims.department = c.department;
    return claims;
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
