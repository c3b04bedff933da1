// A real OpenID Connect provider for tests/tests/oidc.rs: oauth2-mock-server's issuer and
// service (discovery at /.well-known/openid-configuration, keys at /jwks) on loopback, plus
// a control port for the test: POST /token {claims, kid?} signs a token, POST /rotate
// makes a new RS256 key (the old one stays published), GET /stats says how often the JWKS
// was fetched. Prints `issuer <url>` and `control <url>` and runs until killed.
import { OAuth2Issuer } from 'oauth2-mock-server';
import { OAuth2Service } from 'oauth2-mock-server/dist/lib/oauth2-service.js';
import { createServer } from 'node:http';

const issuer = new OAuth2Issuer();
let current = (await issuer.keys.generate('RS256')).kid;
const service = new OAuth2Service(issuer);
let jwksFetches = 0;

const provider = createServer((req, res) => {
  if (req.url.startsWith('/jwks')) jwksFetches += 1;
  service.requestHandler(req, res);
});
await new Promise((ok) => provider.listen(0, '127.0.0.1', ok));
issuer.url = `http://127.0.0.1:${provider.address().port}`;

const body = (req) => new Promise((ok) => {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => ok(data ? JSON.parse(data) : {}));
});
const control = createServer(async (req, res) => {
  const send = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  try {
    if (req.method === 'POST' && req.url === '/token') {
      const { claims = {}, kid = current, expiresIn = 600 } = await body(req);
      const token = await issuer.buildToken({
        kid,
        expiresIn,
        scopesOrTransform: (_header, payload) => Object.assign(payload, claims),
      });
      return send(200, { token, kid });
    }
    if (req.method === 'POST' && req.url === '/rotate') {
      current = (await issuer.keys.generate('RS256')).kid;
      return send(200, { kid: current });
    }
    if (req.method === 'GET' && req.url === '/stats') return send(200, { jwksFetches });
    return send(404, { error: 'no such control' });
  } catch (e) {
    return send(500, { error: String(e) });
  }
});
await new Promise((ok) => control.listen(0, '127.0.0.1', ok));
console.log(`issuer ${issuer.url}`);
console.log(`control http://127.0.0.1:${control.address().port}`);
