// A real OpenID Connect provider for the staff console's sign-in test: panva's certified
// node oidc-provider (the copy tests/support/oidc installs with its lock file), configured for
// Authorization Code with PKCE, refresh tokens and devInteractions (a login form that accepts
// any password for the accounts in ACCOUNTS, then a consent form). Access tokens are RFC 9068
// JWTs for AUDIENCE carrying the staff claims the services read (roles, department).
import fs from 'node:fs';
import Provider from '../../support/oidc/node_modules/oidc-provider/lib/index.js';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const audience = process.env.AUDIENCE;
const jwks = JSON.parse(fs.readFileSync(process.env.KEYS_FILE, 'utf8'));
const client = JSON.parse(process.env.CLIENT);      // {client_id, client_secret, redirect_uri}
const accounts = JSON.parse(process.env.ACCOUNTS);  // {login: {roles: [...], department?}}
const ttl = Number(process.env.ACCESS_TOKEN_TTL || 600);

const provider = new Provider(issuer, {
  jwks,
  clients: [{
    client_id: client.client_id,
    client_secret: client.client_secret,
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [client.redirect_uri],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'offline_access'],
  findAccount: (ctx, id) => (accounts[id] ? { accountId: id, claims: () => ({ sub: id }) } : undefined),
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== audience) throw new Error(`unknown resource ${resource}`);
        return { scope: 'staff', audience, accessTokenFormat: 'jwt', accessTokenTTL: ttl, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  issueRefreshToken: (ctx, c, code) => c.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  extraTokenClaims: (ctx, token) => {
    const a = token.accountId && accounts[token.accountId];
    if (!a) return undefined;
    const claims = { roles: a.roles };
    if (a.department) claims.department = a.department;
    return claims;
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
