// The demo's HTTP client: the flower shop is driven through the real API, as its people would.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} answered ${status}: ${JSON.stringify(body)}`);
  }
}

export interface ChainNodeView {
  id: string;
  title: string;
  status: string;
  provider: { id: string; code: string; name: string };
  customer: { id: string; code: string; name: string };
  leadTimeSeconds: number;
  respondBy: string;
  resolveBy: string;
  externalDueAt: string | null;
  projectedFinishAt: string | null;
  latestFinishAt: string | null;
  slackSeconds: number | null;
  atRisk: boolean;
  bottleneckRequestId: string | null;
  blocked: boolean;
}

export interface ChainView {
  id: string;
  nodes: ChainNodeView[];
  links: { requestId: string; dependsOnId: string }[];
  atRisk: boolean;
  slackSeconds: number | null;
  bottleneckRequestId: string | null;
}

export interface RequestView {
  id: string;
  title: string;
  status: string;
  version: number;
  createdAt: string;
  respondBy: string;
  resolveBy: string;
  resolvedAt: string | null;
  externalDueAt: string | null;
  breached: { response: boolean; resolution: boolean };
  chain: { projectedFinishAt: string | null; latestFinishAt: string | null; slackSeconds: number | null; atRisk: boolean };
}

export interface EventView {
  id: string;
  type: string;
  at: string;
  actorId: string | null;
  after: Record<string, unknown> | null;
}

/** One signed-in person. */
export class Person {
  constructor(
    private readonly baseUrl: string,
    readonly name: string,
    readonly email: string,
    private readonly token: string,
  ) {}

  static async signIn(baseUrl: string, name: string, email: string, password: string): Promise<Person> {
    const answer = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const body = (await answer.json()) as { accessToken?: string };
    if (answer.status !== 200 || !body.accessToken) throw new ApiError(answer.status, body, `sign-in of ${email}`);
    return new Person(baseUrl, name, email, body.accessToken);
  }

  async call<T>(method: string, path: string, body?: unknown, expect: number[] = [200, 201]): Promise<T> {
    const answer = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!expect.includes(answer.status)) throw new ApiError(answer.status, parsed, `${method} ${path} as ${this.email}`);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  /** A move in the life cycle, with the version read just before (chain recomputes may have moved it). */
  async move(requestId: string, to: string, comment?: string): Promise<RequestView> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<RequestView>(`/requests/${requestId}`);
      try {
        return await this.post<RequestView>(`/requests/${requestId}/transitions`, { to, version: current.version, ...(comment ? { comment } : {}) });
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 409 || attempt >= 2 || current.status === to) throw error;
      }
    }
  }
}
