// A real OpenID Connect provider (npm's certified `oidc-provider`) on
// loopback, for the UI's login tests. Any login name is accepted with any
// password on its development login form; accounts' groups come from the
// table below. First-party client: consent is granted without a prompt.
//
// Environment: PORT, REDIRECT_URI, CLIENT_ID, CLIENT_SECRET.
import Provider from "oidc-provider";

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;

const GROUPS = {
  ana: ["db", "web"],
  root: ["zmon-admins"],
  nobody: [],
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID || "zmon",
      client_secret: process.env.CLIENT_SECRET || "zmon-secret",
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  pkce: { required: () => true },
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["preferred_username", "name"],
    groups: ["groups"],
  },
  // Claims in the ID token itself, as most enterprise providers do.
  conformIdTokenClaims: false,
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: id,
      email: `${id}@example.org`,
      email_verified: true,
      preferred_username: id,
      name: id,
      groups: GROUPS[id] ?? [],
    }),
  }),
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile groups");
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["zmon-test-only-cookie-key"] },
});

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
