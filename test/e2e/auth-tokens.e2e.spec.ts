import { randomUUID } from 'node:crypto';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { API, decodeTokenPart, expectError, keysMatching, pollUntil, SECRET_KEYS, signToken, tamperPayload, unsignedToken } from '../support/security-helpers';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

const PASSWORD = 'handoff-demo';

/** Changes the 6th signature character (whole bits, unlike the last one, whose low bits are padding). */
const flipSignatureChar = (token: string) => {
  const [header, payload, signature] = token.split('.');
  const swapped = signature[5] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, 5)}${swapped}${signature.slice(6)}`;
};

describe('auth: logging in and bearer tokens', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  /** Every JSON body this file received, checked at the end for password fields. */
  const seen: { label: string; body: unknown }[] = [];

  const me = async (authorization?: string) => {
    const call = t.http.get(`${API}/me`);
    const res = await (authorization === undefined ? call : call.set('Authorization', authorization));
    seen.push({ label: 'GET /me', body: res.body });
    return res;
  };
  const login = async (email: string, password: string) => {
    const res = await t.http.post(`${API}/auth/login`).send({ email, password });
    seen.push({ label: `POST /auth/login ${email}`, body: res.body });
    return res;
  };

  beforeAll(async () => {
    t = await startTestApp('auth-tokens');
    ({ shop, tokens } = await withFlowerShop(t));
  });
  afterAll(() => t.close());

  describe('POST /auth/login', () => {
    it('answers a token and the user, with the fixed fields and no password anywhere', async () => {
      const res = await login(shop.users.designHead.email, PASSWORD);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        expect.objectContaining({
          accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
          user: expect.objectContaining({
            id: shop.users.designHead.id,
            email: shop.users.designHead.email,
            name: shop.users.designHead.name,
            role: 'head',
            departmentId: shop.departments.DESIGN.id,
          }),
        }),
      );
      expect(keysMatching(res.body, SECRET_KEYS)).toEqual([]);
      expect(res.text).not.toContain('$argon2');
      const claims = decodeTokenPart((res.body.accessToken as string).split('.')[1]);
      expect(claims.sub).toBe(shop.users.designHead.id);
      expect(keysMatching(claims, SECRET_KEYS)).toEqual([]);
    });

    it('signs ops and admin in with a null department', async () => {
      const res = await login(shop.users.ops.email, PASSWORD);
      expect(res.status).toBe(200);
      expect(res.body.user).toEqual(expect.objectContaining({ role: 'ops', departmentId: null }));
    });

    it('refuses a wrong password with 401 in the error shape', async () => {
      const res = await login(shop.users.clerk.email, 'not-the-password');
      expectError(res, 401);
      expect(res.body.accessToken).toBeUndefined();
    });

    it('refuses an unknown email with the very same 401 as a wrong password (no account probing)', async () => {
      const unknown = await login(`nobody-${randomUUID()}@flowers.example`, PASSWORD);
      const wrong = await login(shop.users.designer.email, 'wrong-password');
      expectError(unknown, 401);
      expectError(wrong, 401);
      expect(unknown.body.message).toBe(wrong.body.message);
      expect(unknown.body.error).toBe(wrong.body.error);
    });

    it('refuses an empty password with 400 or 401, never a token', async () => {
      const res = await login(shop.users.clerk.email, '');
      expect([400, 401]).toContain(res.status);
      expectError(res);
    });

    it('answers 429 after 10 failed attempts a minute for one email, even with the right password then', async () => {
      const email = `throttled-${randomUUID().slice(0, 8)}@flowers.example`;
      const created = await t.http
        .post(`${API}/users`)
        .set(bearer(tokens.admin))
        .send({ email, name: 'Throttle probe', password: 'correct-horse-battery', departmentId: shop.departments.SALES.id, role: 'employee' });
      expect(created.status).toBe(201);
      for (let attempt = 1; attempt <= 10; attempt++) {
        const res = await login(email, `wrong-${attempt}`);
        expect({ attempt, status: res.status }).toEqual({ attempt, status: 401 });
      }
      const blocked = await login(email, 'correct-horse-battery');
      expectError(blocked, 429);
      expect(blocked.body.accessToken).toBeUndefined();
      // The standard header tells a client when to try again: within the minute.
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
      // The lock is for that one (address, email) pair: a colleague signs in as usual.
      const colleague = await login(shop.users.salesHead.email, PASSWORD);
      expect(colleague.status).toBe(200);
    });
  });

  describe('bearer tokens on GET /me', () => {
    it('accepts a valid token (the control for the refusals below)', async () => {
      const res = await me(`Bearer ${tokens.clerk}`);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(shop.users.clerk.id);
      seen.push({ label: 'GET /me clerk', body: res.body });
    });

    it('accepts a token this test signs itself with the test secret (so the forged ones below differ only in what they forge)', async () => {
      const res = await me(`Bearer ${signToken({ sub: shop.users.clerk.id, role: 'employee' }, { expiresIn: 60 })}`);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(shop.users.clerk.id);
    });

    it('refuses a token it accepted before once the token has expired (a checked signature is not trusted past exp)', async () => {
      const expiresAt = Math.floor(Date.now() / 1000) + 2;
      const token = signToken({ sub: shop.users.clerk.id, role: 'employee', exp: expiresAt });
      const before = await me(`Bearer ${token}`);
      expect(before.status).toBe(200);
      expect((await me(`Bearer ${token}`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
      const after = await me(`Bearer ${token}`);
      expectError(after, 401);
      expect(after.body.id).toBeUndefined();
    });

    const refusals: [string, () => string | undefined][] = [
      ['no Authorization header', () => undefined],
      ['an empty Authorization header', () => ''],
      ['garbage instead of a token', () => 'Bearer garbage'],
      ['"Bearer" with no token', () => 'Bearer'],
      ['"Bearer " with a blank token', () => 'Bearer '],
      ['a token without the Bearer scheme', () => tokens.clerk],
      ['the Basic scheme', () => `Basic ${Buffer.from(`${shop.users.admin.email}:${PASSWORD}`).toString('base64')}`],
      ['two tokens', () => `Bearer ${tokens.clerk} ${tokens.admin}`],
      ['a token with its signature cut off', () => `Bearer ${tokens.clerk.split('.').slice(0, 2).join('.')}.`],
      ['a token with one signature character changed', () => `Bearer ${flipSignatureChar(tokens.clerk)}`],
      ['a token signed with another secret', () => `Bearer ${signToken({ sub: shop.users.admin.id, role: 'admin' }, { expiresIn: 600 }, 'some-other-secret-that-is-also-long-enough-0123')}`],
      [
        "a clerk's token whose payload was edited to role admin and re-encoded without re-signing",
        () => `Bearer ${tamperPayload(tokens.clerk, (c) => ({ ...c, role: 'admin' }))}`,
      ],
      [
        "a clerk's token whose sub was edited to the admin's id",
        () => `Bearer ${tamperPayload(tokens.clerk, (c) => ({ ...c, sub: shop.users.admin.id, role: 'admin' }))}`,
      ],
      ['an alg:none token with an empty signature', () => `Bearer ${unsignedToken({ sub: shop.users.admin.id, role: 'admin', exp: Math.floor(Date.now() / 1000) + 600 })}`],
      ['an alg:none token with a made-up signature', () => `Bearer ${unsignedToken({ sub: shop.users.admin.id, role: 'admin' }, 'c2lnbmF0dXJl')}`],
      ['an HS512 token signed with the right secret (algorithm not pinned)', () => `Bearer ${signToken({ sub: shop.users.admin.id, role: 'admin' }, { algorithm: 'HS512', expiresIn: 600 })}`],
      ['a correctly signed token whose sub is an unknown user', () => `Bearer ${signToken({ sub: randomUUID(), role: 'admin' }, { expiresIn: 600 })}`],
      ['a correctly signed token whose sub is not a user id at all', () => `Bearer ${signToken({ sub: "' OR 1=1 --", role: 'admin' }, { expiresIn: 600 })}`],
      ['a correctly signed token with no sub', () => `Bearer ${signToken({ role: 'admin' }, { expiresIn: 600 })}`],
      ['a correctly signed token whose sub is a number', () => `Bearer ${signToken({ sub: 42, role: 'admin' }, { expiresIn: 600 })}`],
      [
        'a correctly signed token that expired (exp in the past)',
        () => `Bearer ${signToken({ sub: shop.users.admin.id, role: 'admin', iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 60 })}`,
      ],
      ['a correctly signed token with expiresIn -10', () => `Bearer ${signToken({ sub: shop.users.clerk.id, role: 'employee' }, { expiresIn: -10 })}`],
      ['a correctly signed token with no exp (every token must end)', () => `Bearer ${signToken({ sub: shop.users.clerk.id, role: 'employee' })}`],
      ['a correctly signed token that is not valid yet (nbf in the future)', () => `Bearer ${signToken({ sub: shop.users.clerk.id, role: 'employee' }, { notBefore: 3600, expiresIn: 7200 })}`],
    ];

    it.each(refusals)('refuses %s with 401 in the error shape', async (_what, header) => {
      const res = await me(header());
      expectError(res, 401);
      expect(res.body.id).toBeUndefined();
      expect(res.body.email).toBeUndefined();
    });

    it('does not let an edited admin claim reach an admin-only route', async () => {
      const forged = tamperPayload(tokens.clerk, (c) => ({ ...c, role: 'admin' }));
      const res = await t.http.get(`${API}/users`).set(bearer(forged));
      expectError(res, 401);
      expect(res.body.items).toBeUndefined();
    });

    it('does not trust the role claim of a genuine token: the role comes from the user record', async () => {
      // Signed with the real secret but claiming admin for the clerk: the clerk is still an employee.
      const claimed = signToken({ sub: shop.users.clerk.id, role: 'admin' }, { expiresIn: 600 });
      const res = await t.http.get(`${API}/users`).set(bearer(claimed));
      expect(res.status).toBe(403);
      expectError(res, 403);
    });
  });

  describe('a deactivated user', () => {
    it('loses access within a few seconds and cannot sign in again', async () => {
      const email = `leaver-${randomUUID().slice(0, 8)}@flowers.example`;
      const created = await t.http
        .post(`${API}/users`)
        .set(bearer(tokens.admin))
        .send({ email, name: 'Lee Leaver', password: 'leaving-soon-123', departmentId: shop.departments.DELIV.id, role: 'employee' });
      expect(created.status).toBe(201);
      seen.push({ label: 'POST /users', body: created.body });
      const signedIn = await login(email, 'leaving-soon-123');
      expect(signedIn.status).toBe(200);
      const token = signedIn.body.accessToken as string;
      expect((await me(`Bearer ${token}`)).status).toBe(200);

      const deactivated = await t.http.patch(`${API}/users/${created.body.id}`).set(bearer(tokens.admin)).send({ active: false });
      expect(deactivated.status).toBe(200);
      expect(deactivated.body.active).toBe(false);
      seen.push({ label: 'PATCH /users/:id', body: deactivated.body });

      let last = 0;
      const tookMs = await pollUntil(async () => {
        const res = await me(`Bearer ${token}`);
        last = res.status;
        if (res.status === 401) expectError(res, 401);
        return res.status === 401;
      }, 7000);
      expect({ tookMs: tookMs === null ? 'still accepted after 7 s' : 'refused', lastStatus: last }).toEqual({ tookMs: 'refused', lastStatus: 401 });
      // Nor does it reach any other route.
      expectError(await t.http.get(`${API}/requests`).set(bearer(token)), 401);

      const again = await login(email, 'leaving-soon-123');
      expectError(again, 401);
      expect(again.body.accessToken).toBeUndefined();
    });
  });

  describe('no answer carries a password or its hash', () => {
    it('GET /users (every page), GET /users/:id and GET /me for every demo user', async () => {
      let cursor: string | null = null;
      let pages = 0;
      const listed: string[] = [];
      do {
        const res = await t.http.get(`${API}/users`).query({ limit: 3, ...(cursor ? { cursor } : {}) }).set(bearer(tokens.admin));
        expect(res.status).toBe(200);
        seen.push({ label: `GET /users page ${pages}`, body: res.body });
        listed.push(...(res.body.items as { id: string }[]).map((u) => u.id));
        cursor = res.body.nextCursor as string | null;
        pages++;
      } while (cursor && pages < 20);
      expect(listed).toEqual(expect.arrayContaining(Object.values(shop.users).map((u) => u.id)));

      for (const [key, user] of Object.entries(shop.users)) {
        const one = await t.http.get(`${API}/users/${user.id}`).set(bearer(tokens.admin));
        expect(one.status).toBe(200);
        seen.push({ label: `GET /users/${key}`, body: one.body });
        const self = await me(`Bearer ${tokens[key]}`);
        expect(self.status).toBe(200);
        expect(self.body.id).toBe(user.id);
        seen.push({ label: `GET /me ${key}`, body: self.body });
      }

      const leaks = seen.flatMap(({ label, body }) => [
        ...keysMatching(body, SECRET_KEYS).map((path) => `${label}: ${path}`),
        ...(JSON.stringify(body ?? null).includes('$argon2') ? [`${label}: an argon2 hash in a value`] : []),
      ]);
      expect(seen.length).toBeGreaterThan(20);
      expect(leaks).toEqual([]);
    });
  });
});
